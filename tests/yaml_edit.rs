//! Splicing: exact output per document shape, untouched lines byte-identical, real fixtures.

mod common;

use helm_ha::json;
use helm_ha::yaml::{edit, parse, Edit, Edited, Json, Path};

fn path(dotted: &str) -> Path {
    Path::dotted(dotted)
}

fn set(p: &str, v: Json<'static>) -> Edit {
    Edit::Set(path(p), v)
}

/// Every input line not in `changed` (1-based) appears, byte-identical and in order, in `out`.
fn assert_untouched(input: &str, out: &str, changed: &[usize]) {
    let out_lines: Vec<&str> = out.split_inclusive('\n').collect();
    let mut at = 0;
    for (i, line) in input.split_inclusive('\n').enumerate() {
        if changed.contains(&(i + 1)) {
            continue;
        }
        // A last line without newline may gain one.
        let found = out_lines[at..]
            .iter()
            .position(|l| *l == line || l.strip_suffix('\n') == Some(line));
        let Some(j) = found else {
            panic!("input line {} {line:?} lost in\n{out}", i + 1)
        };
        at += j + 1;
    }
}

fn spliced(input: &str, edits: &[Edit], want: &str, changed: &[usize]) {
    let p = parse(input).unwrap();
    match edit(input, &p, edits).unwrap() {
        Edited::Spliced(out) => {
            assert_eq!(out, want);
            assert_untouched(input, &out, changed);
        }
        Edited::Reserialized { reason, .. } => panic!("fell back: {reason}\n{input}"),
    }
}

fn reserialized(input: &str, edits: &[Edit], want: &str) -> String {
    let p = parse(input).unwrap();
    match edit(input, &p, edits).unwrap() {
        Edited::Reserialized { text, reason } => {
            assert_eq!(text, want);
            reason
        }
        Edited::Spliced(out) => panic!("expected a fallback, got\n{out}"),
    }
}

#[test]
fn flow_empty_collections_become_blocks() {
    spliced(
        "spec:\n  affinity: {} # none\n  tsc: []\n  x: 1\n",
        &[
            set("spec.affinity.podAntiAffinity.k", json!("v")),
            Edit::Append(path("spec.tsc"), json!({"a": 1})),
        ],
        "spec:\n  affinity: # none\n    podAntiAffinity:\n      k: v\n  tsc:\n    - a: 1\n  x: 1\n",
        &[2, 3],
    );
}

#[test]
fn null_values_become_blocks() {
    spliced(
        "spec:\n  affinity:\n  b: ~\n",
        &[
            set("spec.affinity.p", json!(1)),
            set("spec.b.q", json!([1])),
        ],
        "spec:\n  affinity:\n    p: 1\n  b:\n    q:\n      - 1\n",
        &[3],
    );
}

#[test]
fn four_space_indent_with_wide_dashes() {
    spliced(
        "spec:\n    containers:\n    -   name: a\n        image: b\n    x: 1\n",
        &[Edit::Append(path("spec.containers"), json!({"name": "c", "ports": [1]})), set("spec.zz.z", json!(1))],
        "spec:\n    containers:\n    -   name: a\n        image: b\n    - name: c\n      ports:\n        - 1\n    x: 1\n    zz:\n        z: 1\n",
        &[],
    );
}

#[test]
fn compact_lists_stay_compact() {
    spliced(
        "spec:\n  tsc:\n  - a: 1\n  b: 1\n",
        &[
            Edit::Append(path("spec.tsc"), json!({"a": 2})),
            set("spec.c", json!({"l": [1]})),
        ],
        "spec:\n  tsc:\n  - a: 1\n  - a: 2\n  b: 1\n  c:\n    l:\n    - 1\n",
        &[],
    );
}

#[test]
fn crlf_stays_crlf() {
    spliced(
        "a:\r\n  b: 1\r\n",
        &[set("a.c.d", json!("on")), set("a.b", json!(2))],
        "a:\r\n  b: 2\r\n  c:\r\n    d: \"on\"\r\n",
        &[2],
    );
}

#[test]
fn comments_in_odd_places_survive() {
    spliced(
        "spec: # top\n  # inside\n  a: 1 # one\n# col0\n  b: 2\n  # trailing\n",
        &[set("spec.c", json!(3)), set("spec.a", json!("yes"))],
        "spec: # top\n  # inside\n  a: \"yes\" # one\n# col0\n  b: 2\n  c: 3\n  # trailing\n",
        &[3],
    );
}

#[test]
fn keep_chomped_block_scalar_last() {
    spliced(
        "a:\n  s: |+\n    x\n\n",
        &[set("a.t", json!(1))],
        "a:\n  s: |+\n    x\n\n  t: 1\n",
        &[],
    );
    spliced(
        "a:\n  s: |\n    x\nb: 1\n",
        &[set("a.s", json!("y"))],
        "a:\n  s: \"y\"\nb: 1\n",
        &[2, 3],
    );
}

#[test]
fn no_final_newline() {
    spliced(
        "a:\n  b: 1",
        &[set("a.c", json!(2))],
        "a:\n  b: 1\n  c: 2\n",
        &[],
    );
    spliced("a:\n  b: 1", &[set("a.b", json!(2))], "a:\n  b: 2", &[2]);
}

#[test]
fn source_marker_and_header_comments() {
    spliced(
        "--- # Source: c/t.yaml\n# Source: more\nkind: X\nspec:\n  r: 1\n",
        &[set("spec.r", json!(3))],
        "--- # Source: c/t.yaml\n# Source: more\nkind: X\nspec:\n  r: 3\n",
        &[5],
    );
}

#[test]
fn non_ascii_text() {
    spliced(
        "a:\n  ü: \"héllo — 日本\"\n  b: 1\n",
        &[set("a.b", json!("wörld")), set("a.ç", json!(1))],
        "a:\n  ü: \"héllo — 日本\"\n  b: wörld\n  ç: 1\n",
        &[3],
    );
}

#[test]
fn quoted_keys_and_flow_mapping_with_quoted_keys() {
    spliced(
        "\"spec\":\n  'replicas': 1\n  \"annotations\": {\"a\": \"b\"}\n",
        &[
            set("spec.replicas", json!(2)),
            set("spec.annotations.x", json!("true")),
        ],
        "\"spec\":\n  'replicas': 2\n  \"annotations\":\n    a: b\n    x: \"true\"\n",
        &[2, 3],
    );
}

#[test]
fn merge_key_documents_splice() {
    spliced(
        "base: &b\n  x: 1\nm:\n  <<: *b\n  w: 2\n",
        &[set("m.z", json!(3)), set("m.w", json!(4))],
        "base: &b\n  x: 1\nm:\n  <<: *b\n  w: 4\n  z: 3\n",
        &[5],
    );
}

#[test]
fn remove_deletes_the_key_lines() {
    spliced(
        "a:\n  b: 1\n  c:\n    d: 2 # x\n  e: 3\n",
        &[Edit::Remove(path("a.c")), Edit::Remove(path("a.zz"))],
        "a:\n  b: 1\n  e: 3\n",
        &[3, 4],
    );
}

#[test]
fn index_segments_navigate_block_sequences() {
    let p = path("l").index(0).join("c");
    spliced(
        "l:\n- a: 1\n  b: 2\n",
        &[Edit::Set(p, json!("y"))],
        "l:\n- a: 1\n  b: 2\n  c: \"y\"\n",
        &[],
    );
}

#[test]
fn existing_block_value_is_replaced() {
    spliced(
        "a:\n  p:\n    q: 1\n  z: 1\n",
        &[set("a.p", json!({"r": [1, 2]}))],
        "a:\n  p:\n    r:\n      - 1\n      - 2\n  z: 1\n",
        &[3],
    );
}

#[test]
fn refusals_reserialize_one_document() {
    let why = reserialized(
        "--- # Source: x\n# c\na: &x\n  b: 1\nc: *x\n...\n",
        &[set("a.b", json!(2))],
        "--- # Source: x\n# c\na:\n  b: 2\nc:\n  b: 1\n...\n",
    );
    assert!(why.contains("anchored"), "{why}");
    let why = reserialized(
        "c: &x {b: 1}\nd: *x\n",
        &[set("d.e", json!(1))],
        "c:\n  b: 1\nd:\n  b: 1\n  e: 1\n",
    );
    assert!(why.contains("alias"), "{why}");
    let why = reserialized(
        "--- !!map\na:\n  b: 1\n",
        &[Edit::Remove(path("a.b"))],
        "---\na: {}\n",
    );
    assert!(why.contains("empty"), "{why}");
    let why = reserialized(
        "l:\r\n- a: 1\r\n  b: 2\r\n",
        &[Edit::Remove(path("l").index(0).join("a"))],
        "l:\r\n  - b: 2\r\n",
    );
    assert!(why.contains("- "), "{why}");
}

/// The affinity block from the plane HA guide (seed 000), re-indented.
fn plane_affinity() -> Json<'static> {
    let term = |ns: &str| json!({"labelSelector": {"matchExpressions": [{"key": "app.name", "operator": "In", "values": [ns]}]}});
    let mut required = term("<namespace>-<release-name>-api");
    required["topologyKey"] = json!("kubernetes.io/hostname");
    let mut preferred = term("<namespace>-<release-name>-api");
    preferred["topologyKey"] = json!("topology.kubernetes.io/zone");
    json!({
        "requiredDuringSchedulingIgnoredDuringExecution": [required],
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": preferred}],
    })
}

#[test]
fn plane_affinity_from_the_seed() {
    let doc =
        "spec:\n  template:\n    spec:\n      affinity: {}\n      containers:\n      - name: api\n";
    let p = parse(doc).unwrap();
    let out = edit(
        doc,
        &p,
        &[set(
            "spec.template.spec.affinity.podAntiAffinity",
            plane_affinity(),
        )],
    )
    .unwrap();
    let Edited::Spliced(out) = out else {
        panic!("fell back")
    };
    assert!(out.starts_with("spec:\n  template:\n    spec:\n      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - labelSelector:\n"), "{out}");
    assert!(
        out.ends_with("      containers:\n      - name: api\n"),
        "{out}"
    );
    assert_eq!(
        parse(&out).unwrap().value["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"],
        plane_affinity()
    );
}

fn fixture(name: &str) -> Option<String> {
    let p = common::data().join("fixtures/plane-enterprise").join(name);
    Some(std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

fn chunks(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for line in text.split_inclusive('\n') {
        if line.starts_with("---")
            && matches!(
                line.as_bytes().get(3),
                None | Some(b' ' | b'\t' | b'\r' | b'\n')
            )
        {
            out.push(String::new());
        }
        out.last_mut().unwrap().push_str(line);
    }
    out
}

fn typical_edits() -> Vec<Edit> {
    let tsc = json!({"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app": "x"}}});
    vec![
        set("spec.replicas", json!(3)),
        set(
            "spec.template.spec.affinity.podAntiAffinity",
            plane_affinity(),
        ),
        Edit::Append(path("spec.template.spec.topologySpreadConstraints"), tsc),
        Edit::Set(
            path("spec.template.metadata.annotations").key("karpenter.sh/do-not-disrupt"),
            json!("true"),
        ),
    ]
}

#[test]
fn every_plane_workload_is_spliced() {
    let mut workloads = 0;
    for name in [
        "plane-enterprise-default.yaml",
        "plane-enterprise-full.yaml",
        "plane-enterprise-ha.yaml",
    ] {
        let Some(text) = fixture(name) else { return };
        for chunk in chunks(&text) {
            let p = parse(&chunk).unwrap();
            let kind = p.value.get("kind").and_then(Json::as_str).unwrap_or("");
            if !matches!(kind, "Deployment" | "StatefulSet" | "Job") {
                assert!(matches!(edit(&chunk, &p, &[]).unwrap(), Edited::Spliced(t) if t == chunk));
                continue;
            }
            workloads += 1;
            match edit(&chunk, &p, &typical_edits()).unwrap() {
                Edited::Spliced(out) => {
                    // Only the lines of edited keys whose values are replaced in place may change.
                    let changed: Vec<usize> = [
                        "spec.replicas",
                        "spec.template.spec.affinity",
                        "spec.template.spec.topologySpreadConstraints",
                        "spec.template.metadata.annotations",
                    ]
                    .iter()
                    .filter_map(|k| p.line_of(&path(k)))
                    .collect();
                    assert_untouched(&chunk, &out, &changed);
                }
                Edited::Reserialized { reason, .. } => {
                    panic!("{name}: {kind} fell back: {reason}\n{chunk}")
                }
            }
        }
    }
    assert!(workloads > 20, "{workloads}");
}

const TRAPS: [&str; 20] = [
    "on",
    "yes",
    "NO",
    "Off",
    "y",
    "n",
    "true",
    "0755",
    "1_000",
    "1:20",
    "2001-12-14",
    "null",
    "~",
    "<<",
    "=",
    "0x_1F",
    "1e3",
    "",
    "#x",
    "a: b",
];

#[test]
fn trap_strings_round_trip_as_strings() {
    let doc = "metadata:\n  name: x\n  annotations:\n    keep: me\n";
    let edits: Vec<Edit> = TRAPS
        .iter()
        .enumerate()
        .map(|(i, v)| Edit::Set(path("metadata.annotations").key(format!("t{i}")), json!(v)))
        .collect();
    let p = parse(doc).unwrap();
    let Edited::Spliced(out) = edit(doc, &p, &edits).unwrap() else {
        panic!("fell back")
    };
    assert_untouched(doc, &out, &[]);
    let back = parse(&out).unwrap().value;
    for (i, v) in TRAPS.iter().enumerate() {
        assert_eq!(
            back["metadata"]["annotations"][format!("t{i}").as_str()],
            json!(v),
            "{out}"
        );
    }
    if let Some(theirs) = common::k8syaml(&out) {
        assert_eq!(theirs, back, "k8syaml reads the output differently");
    }
}

#[test]
fn to_yaml_is_block_with_indented_lists() {
    let v = json!({"a": [{"b": "on"}], "c": "x".repeat(120), "d": "l1\nl2\n"});
    let y = helm_ha::yaml::to_yaml(&v);
    assert_eq!(
        y,
        format!(
            "a:\n  - b: \"on\"\nc: {}\nd: |\n  l1\n  l2\n",
            "x".repeat(120)
        )
    );
    assert_eq!(parse(&y).unwrap().value, v);
}

#[test]
fn apply_is_plain_json() {
    use helm_ha::yaml::apply;
    let v = json!({"a": null, "s": "x", "l": []});
    let out = apply(
        &v,
        &[
            set("a.b.c", json!(1)),
            Edit::Remove(path("zz.y")),
            Edit::Append(path("l"), json!(1)),
            Edit::Append(path("n"), json!(2)),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"a": {"b": {"c": 1}}, "s": "x", "l": [1], "n": [2]})
    );
    assert!(
        apply(&v, &[set("s.t", json!(1))]).is_err(),
        "Set through a scalar"
    );
    assert!(apply(&v, &[Edit::Append(path("s"), json!(1))]).is_err());
    let idx = path("l").index(3);
    assert!(
        apply(&v, &[Edit::Set(idx, json!(1))]).is_err(),
        "Index never creates"
    );
}
