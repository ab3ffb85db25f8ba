//! The block reader (src/yaml/block.rs) against granit: on every document it accepts, the two
//! must build the same span tree, and it must accept nearly every document real charts render.

mod common;

use helm_ha::stream;
use helm_ha::yaml::{block_reader_agrees, cheap_oracle_recognises};
use proptest::prelude::*;

fn chunks(text: &str) -> Vec<&str> {
    stream::split(text).into_iter().map(|r| &text[r]).collect()
}

/// Not only blank lines, comments and markers (such chunks are left to granit on purpose).
fn has_content(chunk: &str) -> bool {
    chunk
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#') && l != "---" && l != "...")
}

/// Every chunk of `text` with content: `(taken, declined)`; panics on a disagreement.
fn tally(name: &str, text: &str) -> (usize, Vec<String>) {
    let (mut taken, mut declined) = (0, Vec::new());
    for (i, chunk) in chunks(text).into_iter().enumerate() {
        match block_reader_agrees(chunk) {
            Ok(true) => {
                assert!(
                    cheap_oracle_recognises(chunk),
                    "{name} document {i}: the editor's oracle does not recognise it"
                );
                taken += 1;
            }
            Ok(false) if !has_content(chunk) => {}
            Ok(false) => declined.push(format!(
                "{name} #{i}: {}",
                chunk.lines().take(3).collect::<Vec<_>>().join(" | ")
            )),
            Err(e) => panic!("{name} document {i}: {e}\n{chunk}"),
        }
    }
    (taken, declined)
}

#[test]
fn real_chart_output_takes_the_fast_path_and_agrees() {
    let dir = common::data().join("fixtures/plane-enterprise");
    for file in [
        "plane-enterprise-default.yaml",
        "plane-enterprise-full.yaml",
        "plane-enterprise-ha.yaml",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let (taken, declined) = tally(file, &text);
        let all = taken + declined.len();
        eprintln!("{file}: {taken} of {all} on the fast path; declined: {declined:#?}");
        assert!(
            taken * 100 >= all * 95,
            "{file}: only {taken} of {all} documents on the fast path: {declined:#?}"
        );
    }
}

/// Scalars as charts render them, with the YAML 1.1 traps, quoting and escapes.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        // What the block reader reads.
        4 => prop::sample::select(vec![
            "plain", "two words", "yes", "on", "~", "null", "0755", "1e3", "12:30", "-1", "--flag", ":9090", "?x", "a#b", "http://x:80/p",
            "'it''s'", "\"q\"", "\"esc \\\" \\\\ \\n \\t \\u00e9 \\x41 \\/\"", "''", "\"\"", "é ünï", "[]", "{}", "{ }",
            "[a, \"b\", 'c', 1]", "[ x ,y ]", "x # comment", "x#y", "\"a\" # c", "[] # c",
            "{a: 1}", "[a, [b]]", "{\"a\":\"b\", \"c\": [1, {}]}", "{ a: b , c: d }", "[{a: 1}, []]",
        ])
        .prop_map(str::to_string),
        2 => "[a-z0-9 ._/:-]{1,12}",
        // What it must leave to granit.
        1 => prop::sample::select(vec![
            "\"bad \\q\"", "a: b", "a:", "[a,]", "{a: }", "{a:b}", "{a, b}", "[a: 1]", "&a x", "*a", "!!str 1", "\"open", "- x", "|", "|-", "|+", ">",
            ">-", "|2", "@x", "`x`", "%x", "'a' b", "\"\\ud800\"", "[a, b", "x\ty",
        ])
        .prop_map(str::to_string),
    ]
}

fn block_lines() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop_oneof![
            "[a-z ]{1,10}".prop_map(|s| s),
            Just(String::new()),
            Just("  spaced".to_string()),
            Just("# not a comment".to_string()),
            Just(" ".to_string()),
            Just("\t tab".to_string()),
        ],
        0..5,
    )
}

#[derive(Debug, Clone)]
enum Node {
    Scalar(String),
    Block(&'static str, Vec<String>),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => scalar().prop_map(Node::Scalar),
        1 => (prop::sample::select(vec!["|", "|-", "|+", ">", ">-", ">+"]), block_lines()).prop_map(|(h, l)| Node::Block(h, l)),
    ];
    leaf.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "name", "image", "a b", "\"q\"", "'s'", "on", "k:v", "-x", "n"
                    ])
                    .prop_map(str::to_string),
                    inner.clone()
                ),
                1..5
            )
            .prop_map(Node::Map),
            prop::collection::vec(inner, 1..4).prop_map(Node::Seq),
        ]
    })
}

/// Block YAML for `node` at `indent`; `indentless` writes a sequence under a key at the key's
/// own indentation, as Helm charts do.
fn write(node: &Node, indent: usize, out: &mut String, indentless: bool, comment: bool) {
    let pad = " ".repeat(indent);
    match node {
        Node::Scalar(s) => {
            out.push(' ');
            out.push_str(s);
            out.push('\n');
        }
        Node::Block(h, lines) => {
            out.push(' ');
            out.push_str(h);
            out.push('\n');
            for l in lines {
                if !l.is_empty() {
                    out.push_str(&pad);
                    out.push_str("  ");
                }
                out.push_str(l);
                out.push('\n');
            }
        }
        Node::Map(entries) => {
            out.push('\n');
            for (k, v) in entries {
                if comment {
                    out.push_str(&format!("{pad}# comment\n"));
                }
                out.push_str(&format!("{pad}{k}:"));
                let nested = indent
                    + if matches!(v, Node::Seq(_)) && indentless {
                        0
                    } else {
                        2
                    };
                write(v, nested, out, indentless, comment);
            }
        }
        Node::Seq(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&format!("{pad}-"));
                write(item, indent + 2, out, indentless, comment);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Generated documents, and the same with one byte inserted or removed: whenever the block
    /// reader accepts one, its tree is granit's.
    #[test]
    fn generated_documents_agree(root in node(), indentless in any::<bool>(), comment in any::<bool>(), at in any::<prop::sample::Index>(), byte in prop::sample::select(vec![" ", "\n", "-", ":", "#", "'", "\"", "|", ">", "\t", "[", "]", "{", "}", "&", "!", "?", ",", "a", "\\", "", "---\n", "...\n"])) {
        let mut text = String::from("---\n# Source: t.yaml\nroot:");
        write(&root, 2, &mut text, indentless, comment);
        prop_assert!(block_reader_agrees(&text).is_ok(), "{}\n{text}", block_reader_agrees(&text).unwrap_err());
        let mut cut = at.index(text.len() + 1);
        while !text.is_char_boundary(cut) { cut -= 1; }
        let mut mutated = text.clone();
        if byte.is_empty() { if cut < mutated.len() { let c = mutated[cut..].chars().next().unwrap(); mutated.replace_range(cut..cut + c.len_utf8(), ""); } } else { mutated.insert_str(cut, byte); }
        prop_assert!(block_reader_agrees(&mutated).is_ok(), "{}\n{mutated:?}", block_reader_agrees(&mutated).unwrap_err());
    }
}
