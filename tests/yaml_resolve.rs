//! The resolver against go-yaml v2 + sigs.k8s.io/yaml (as `validate/k8syaml.py` models them).

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use helm_ha::json;
use helm_ha::yaml::{parse, Json, Path};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/yaml")
        .join(name)
}

/// Split a stream on column-0 `---` lines, like the stream splitter does.
fn chunks(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for line in text.split_inclusive('\n') {
        let marker = line.starts_with("---")
            && matches!(
                line.as_bytes().get(3),
                None | Some(b' ' | b'\t' | b'\r' | b'\n')
            );
        if marker {
            out.push(String::new());
        }
        out.last_mut().unwrap().push_str(line);
    }
    out
}

#[test]
fn trap_values_match_checked_in_k8syaml_output() {
    let text = std::fs::read_to_string(data("traps.yaml")).unwrap();
    let expected: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(data("traps.json")).unwrap()).unwrap();
    let docs = chunks(&text);
    assert_eq!(docs.len(), expected.len());
    for (doc, want) in docs.iter().zip(&expected) {
        let got = parse(doc).unwrap_or_else(|e| panic!("{e:?} in\n{doc}"));
        assert_eq!(&got.value, want, "document:\n{doc}");
        assert!(got.duplicates.is_empty());
    }
}

#[test]
fn trap_values_match_live_k8syaml() {
    let text = std::fs::read_to_string(data("traps.yaml")).unwrap();
    for doc in chunks(&text) {
        let Some(theirs) = common::k8syaml(&doc) else {
            return;
        };
        assert_eq!(parse(&doc).unwrap().value, theirs, "document:\n{doc}");
    }
}

#[test]
fn merge_and_special_keys_follow_go_yaml() {
    // go-yaml v2 processes `<<` where it appears: it overrides keys before it.
    let v = parse("a: 1\n<<: {a: 2, b: 2}\nb: 3\n").unwrap().value;
    assert_eq!(v, json!({"a": 2, "b": 3}));
    assert_eq!(parse("k: <<\n").unwrap().value, json!({"k": "<<"}));
    assert_eq!(
        parse("'<<': {a: 1}\n").unwrap().value,
        json!({"<<": {"a": 1}})
    );
    assert!(parse("<<: 1\n").is_err(), "merging a scalar is an error");
    assert!(
        parse("~: x\n").is_err(),
        "sigs.k8s.io/yaml rejects a null key"
    );
    assert!(parse("!!int x: 1\n").is_err());
}

#[test]
fn empty_and_marker_only_chunks_are_null() {
    for t in [
        "",
        "# only a comment\n",
        "---\n",
        "--- # Source: x\n# c\n",
        "---\r\n...\r\n",
    ] {
        assert_eq!(parse(t).unwrap().value, Json::Null, "{t:?}");
    }
    assert_eq!(
        parse("--- # Source: a\r\n# c\r\nk: v\r\n...\r\n")
            .unwrap()
            .value,
        json!({"k": "v"})
    );
}

#[test]
fn object_equality_ignores_key_order() {
    // The oracle relies on this with serde_json's `preserve_order`.
    assert_eq!(
        parse("a: 1\nb: 2\n").unwrap().value,
        parse("b: 2\na: 1\n").unwrap().value
    );
    assert_ne!(
        parse("a: 1\nb: 2\n").unwrap().value,
        parse("b: 2\na: 2\n").unwrap().value
    );
}

#[test]
fn duplicates_are_recorded_last_wins() {
    let t = "metadata:\n  labels:\n    a: 1\n  name: x\n  labels:\n    b: 2\n";
    let p = parse(t).unwrap();
    assert_eq!(
        p.value,
        json!({"metadata": {"labels": {"b": 2}, "name": "x"}})
    );
    assert_eq!(p.duplicates.len(), 1);
    assert_eq!(
        (
            p.duplicates[0].path.as_str(),
            p.duplicates[0].first_line,
            p.duplicates[0].line
        ),
        ("metadata.labels", 2, 5)
    );
    let err = helm_ha::yaml::edit(t, &p, &[]).unwrap_err();
    assert!(
        err.message
            .contains("duplicate key `metadata.labels` at lines 2 and 5"),
        "{}",
        err.message
    );
}

#[test]
fn line_of_points_at_keys_and_items() {
    let p = parse("---\n# c\nspec:\n  list:\n    - a\n    - name: b\n").unwrap();
    assert_eq!(p.line_of(&Path::dotted("spec.list")), Some(4));
    assert_eq!(p.line_of(&Path::dotted("spec.list").index(1)), Some(6));
    assert_eq!(p.line_of(&Path::dotted("spec.missing")), None);
}

const SECRET: &str = "hunter2-SUPERSECRET-value";

#[test]
fn errors_have_position_and_no_content() {
    let cases = [
        (format!("apiVersion: v1\nkind: Secret\nstringData:\n  password: {SECRET}\n   bad: [{SECRET}\n"), 5),
        (format!("data:\n  a: \"{SECRET}\n"), 3),
        // granit stops at the tab that ends the plain scalar on line 2.
        (format!("data:\n  key: {SECRET}\n\tother: {SECRET}\n"), 2),
        (format!("a:\n  b: 1\n c: {SECRET}\n"), 3),
    ];
    for (doc, line) in cases {
        let e = parse(&doc)
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{doc}"));
        assert!(
            !e.message.contains("SUPERSECRET") && !e.message.contains("hunter2"),
            "{e:?}"
        );
        assert_eq!(e.line, line, "{e:?} for\n{doc}");
        assert!(e.col >= 1);
    }
}

#[test]
fn tab_indentation_is_reported() {
    let e = parse("a:\n\tb: 1\n").err().unwrap();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("tab"), "{}", e.message);
}

#[test]
fn non_finite_numbers_are_rejected() {
    for t in ["a: .inf\n", "a: -.Inf\n", "a: .NaN\n", "a: !!float .nan\n"] {
        let e = parse(t).err().unwrap_or_else(|| panic!("accepted {t}"));
        assert!(e.message.contains("non-finite"), "{}", e.message);
        assert_eq!(e.line, 1);
        assert!(e.col >= 4);
    }
    assert_eq!(parse("a: '.inf'\n").unwrap().value, json!({"a": ".inf"}));
}

#[test]
fn deep_nesting_fails_without_overflow() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let doc = format!("{}1{}", open.repeat(10_000), close.repeat(10_000));
        assert!(parse(&doc).is_err());
    }
    let block: String = (0..10_000)
        .map(|i| format!("{}k:\n", " ".repeat(i)))
        .collect();
    assert!(parse(&block).is_err());
    let ok: String = (0..400).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    assert!(parse(&ok).is_ok(), "400 levels are fine");
}

#[test]
fn billion_laughs_fails_fast() {
    let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        doc.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 9].join(", ")));
    }
    let t = Instant::now();
    let e = parse(&doc).err().expect("billion laughs must fail");
    assert!(e.message.contains("1,000,000"), "{}", e.message);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn more_than_one_document_is_an_error() {
    assert!(parse("a: 1\n---\nb: 2\n").is_err());
}

#[test]
fn dotted_paths_answer_as_json_pointers_do() {
    let s = serde_json::json!({"a": {"b": [10, {"c": null}], "x/y": 2, "t~": 3}, "01": 4});
    let v = Json::from(s.clone());
    for (dotted, pointer) in [
        ("", ""),
        ("a", "/a"),
        ("a.b", "/a/b"),
        ("a.b.0", "/a/b/0"),
        ("a.b.1.c", "/a/b/1/c"),
        ("a.b.01", "/a/b/01"),
        ("a.b.+1", "/a/b/+1"),
        ("a.b.2", "/a/b/2"),
        ("a.b.-", "/a/b/-"),
        ("a.x/y", "/a/x~1y"),
        ("a.t~", "/a/t~0"),
        ("01", "/01"),
        ("a.b.1.c.d", "/a/b/1/c/d"),
    ] {
        assert_eq!(
            v.at(dotted).map(Json::to_serde),
            s.pointer(pointer).cloned(),
            "{dotted}"
        );
    }
}
