//! Properties over random streams of valid manifests (proptest):
//!
//! - every input document comes out: untouched ones byte-identical, edited ones meaning exactly
//!   input + the rules' edits (`yaml::apply`), generated documents after them;
//! - output is deterministic and idempotent;
//! - every generated input object and every output object passes the manifest validator (tests/validate) (all
//!   cases batched into one validator call each, since it is Python and slow);
//! - the YAML 1.1/1.2 trap values of research/rust-stack.md, inside a document the tool edits,
//!   mean the same after the edit under go-yaml rules (`tests/validate/k8syaml.py`), and our reader
//!   agrees with it on input and output.
//!
//! `PROPTEST_CASES` raises the case count (default 64, so CI stays fast).

mod common;

use helm_ha::{pipeline, policy, stream, yaml};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};
use std::io::Write;
use std::process::{Command, Stdio};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// The trap values of research/rust-stack.md §2 (strings a YAML 1.1 reader may read as
/// something else), plus a few more.
const TRAPS: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "Y",
    "N",
    "NO",
    "Off",
    "ON",
    "true",
    "False",
    "0755",
    "0o755",
    "012",
    "1e3",
    "1_000",
    "0x1F",
    "0x_1F",
    "1__0",
    "0b101",
    ".inf",
    "-.inf",
    "NaN",
    ".nan",
    "~",
    "null",
    "Null",
    "",
    "2001-12-14",
    "2001-12-14 10:00:00",
    "1:20",
    "12:30:45",
    " lead",
    "trail ",
    "a: b",
    "#x",
    "- x",
    "<<",
    "=",
    "héllo wörld — 日本語 🚀",
    "9007199254740993",
    "1.0",
    "-0",
    "+1",
    "'quoted'",
    "\"dq\"",
    "back\\slash",
    "tab\there",
    "%percent",
    "@at",
    "`tick",
    "*star",
    "&amp",
    "!bang",
    "|pipe",
    ">gt",
    "[x]",
    "{x}",
    "a,b",
    "? q",
];

const WORDS: &[&str] = &[
    "api", "web", "worker", "live", "space", "admin", "proxy", "cache", "front", "edge", "search",
    "monitor",
];

// ---------------------------------------------------------------------------------------------
// Generators: an object tree (serde_json) plus a style, written as YAML by a small emitter.

#[derive(Clone, Debug)]
struct Style {
    indent: usize,
    /// `- ` items at the parent key's column (helm's usual) rather than indented.
    compact: bool,
    crlf: bool,
    /// 0: plain where safe, 1: single quotes, 2: double quotes.
    quote: u8,
    comments: bool,
    /// `---` before the document (the first one may have none).
    marker: bool,
    source: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just(2usize), Just(4)],
        any::<bool>(),
        prop::bool::weighted(0.2),
        0u8..3,
        any::<bool>(),
        prop::bool::weighted(0.9),
        any::<bool>(),
    )
        .prop_map(
            |(indent, compact, crlf, quote, comments, marker, source)| Style {
                indent,
                compact,
                crlf,
                quote,
                comments,
                marker,
                source,
            },
        )
}

fn plain_safe(s: &str) -> bool {
    let keyword = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(s));
    !keyword
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '/'))
}

fn scalar(v: &Value, st: &Style) -> String {
    match v {
        Value::String(s) if st.quote == 0 && plain_safe(s) => s.clone(),
        Value::String(s) if st.quote <= 1 && !s.chars().any(|c| c.is_control()) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        Value::String(s) => serde_json::to_string(s).unwrap(),
        other => other.to_string(),
    }
}

fn key(k: &str, st: &Style) -> String {
    scalar(
        &Value::String(k.to_string()),
        &Style {
            quote: if plain_safe(k) { 0 } else { 2 },
            ..st.clone()
        },
    )
}

/// Block YAML of `v` at `col`; `out` ends each line with `\n`.
fn emit(out: &mut String, v: &Value, col: usize, st: &Style, salt: &mut u32) {
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                *salt = salt.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if st.comments && salt.is_multiple_of(7) {
                    out.push_str(&format!("{}# about {k}\n", " ".repeat(col)));
                }
                emit_entry(
                    out,
                    &format!("{}{}:", " ".repeat(col), key(k, st)),
                    val,
                    col,
                    st,
                    salt,
                );
            }
        }
        Value::Array(items) => {
            for item in items {
                emit_item(out, item, col, st, salt);
            }
        }
        _ => unreachable!("scalars are written by their parent"),
    }
}

fn emit_entry(out: &mut String, head: &str, val: &Value, col: usize, st: &Style, salt: &mut u32) {
    match val {
        Value::Object(m) if m.is_empty() => out.push_str(&format!("{head} {{}}\n")),
        Value::Array(a) if a.is_empty() => out.push_str(&format!("{head} []\n")),
        Value::Object(_) => {
            out.push_str(&format!("{head}\n"));
            emit(out, val, col + st.indent, st, salt);
        }
        Value::Array(_) => {
            out.push_str(&format!("{head}\n"));
            emit(
                out,
                val,
                if st.compact { col } else { col + st.indent },
                st,
                salt,
            );
        }
        Value::String(s) if s.contains('\n') => {
            let pad = " ".repeat(col + st.indent);
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            out.push_str(&format!("{head} |{chomp}\n"));
            for line in s.trim_end_matches('\n').split('\n') {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{pad}{line}\n"));
                }
            }
        }
        _ => out.push_str(&format!("{head} {}\n", scalar(val, st))),
    }
}

fn emit_item(out: &mut String, item: &Value, col: usize, st: &Style, salt: &mut u32) {
    let dash = format!("{}- ", " ".repeat(col));
    match item {
        Value::Object(m) if !m.is_empty() => {
            let mut first = true;
            for (k, val) in m {
                let head = if first {
                    format!("{dash}{}:", key(k, st))
                } else {
                    format!("{}{}:", " ".repeat(col + 2), key(k, st))
                };
                first = false;
                emit_entry(out, &head, val, col + 2, st, salt);
            }
        }
        Value::Object(_) => out.push_str(&format!("{dash}{{}}\n")),
        Value::Array(_) => unreachable!("no nested lists in manifests"),
        _ => out.push_str(&format!("{dash}{}\n", scalar(item, st))),
    }
}

fn document(obj: &Value, st: &Style, first: bool) -> String {
    let mut out = String::new();
    if st.marker || !first {
        out.push_str("---\n");
    }
    if st.source {
        out.push_str(&format!(
            "# Source: gen/templates/{}.yaml\n",
            obj["metadata"]["name"].as_str().unwrap()
        ));
    }
    emit(&mut out, obj, 0, st, &mut 1);
    if st.crlf {
        out = out.replace('\n', "\r\n");
    }
    out
}

#[derive(Clone, Debug)]
struct Shape {
    kind: u8,
    replicas: Option<u32>,
    extra_labels: Vec<(String, String)>,
    annotations: Vec<String>,
    affinity: u8,
    env: Vec<String>,
    with_claims: bool,
    secret_bytes: Vec<Vec<u8>>,
    block: Option<String>,
}

fn shape() -> impl Strategy<Value = Shape> {
    let traps = prop::sample::select(TRAPS);
    (
        0u8..7,
        prop::option::of(0u32..5),
        prop::collection::vec(
            (
                prop::sample::select(&["tier", "team", "version", "track"][..]),
                prop::sample::select(WORDS),
            ),
            0..3,
        ),
        prop::collection::vec(traps.clone(), 0..4),
        0u8..4,
        prop::collection::vec(traps, 0..5),
        prop::bool::weighted(0.3),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 1..3),
        prop::option::of(
            prop::collection::vec(prop::sample::select(TRAPS), 1..6).prop_map(|l| {
                let mut s = l
                    .iter()
                    .map(|t| format!("v={t}").trim_end().to_string())
                    .collect::<Vec<_>>()
                    .join("\n");
                s.push('\n');
                s
            }),
        ),
    )
        .prop_map(
            |(
                kind,
                replicas,
                extra,
                annotations,
                affinity,
                env,
                with_claims,
                secret_bytes,
                block,
            )| Shape {
                kind,
                replicas,
                extra_labels: extra
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                annotations: annotations.into_iter().map(str::to_string).collect(),
                affinity,
                env: env.into_iter().map(str::to_string).collect(),
                with_claims,
                secret_bytes,
                block,
            },
        )
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn object(s: &Shape, i: usize) -> Value {
    let kinds = [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "ConfigMap",
        "Secret",
        "Service",
    ];
    let kind = kinds[s.kind as usize];
    let name = format!("{}-{i}", WORDS[i % WORDS.len()]);
    let mut labels = Map::new();
    labels.insert("app".into(), json!(name));
    for (k, v) in &s.extra_labels {
        labels.insert(k.clone(), json!(v));
    }
    let mut meta = Map::new();
    meta.insert("name".into(), json!(name));
    meta.insert("labels".into(), Value::Object(labels.clone()));
    if !s.annotations.is_empty() {
        meta.insert(
            "annotations".into(),
            Value::Object(
                s.annotations
                    .iter()
                    .enumerate()
                    .map(|(j, v)| (format!("gen.example.com/a{j}"), json!(v)))
                    .collect(),
            ),
        );
    }
    let api = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
        "Job" => "batch/v1",
        _ => "v1",
    };
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!(api));
    obj.insert("kind".into(), json!(kind));
    obj.insert("metadata".into(), Value::Object(meta));
    match kind {
        "ConfigMap" => {
            let mut data: Map<String, Value> = s
                .env
                .iter()
                .enumerate()
                .map(|(j, v)| (format!("k{j}"), json!(v)))
                .collect();
            if let Some(b) = &s.block {
                data.insert("script.sh".into(), json!(b));
            }
            obj.insert("data".into(), Value::Object(data));
        }
        "Secret" => {
            obj.insert("type".into(), json!("Opaque"));
            obj.insert(
                "data".into(),
                Value::Object(
                    s.secret_bytes
                        .iter()
                        .enumerate()
                        .map(|(j, b)| (format!("k{j}"), json!(base64(b))))
                        .collect(),
                ),
            );
            if !s.env.is_empty() {
                obj.insert("stringData".into(), json!({"plain": s.env[0]}));
            }
        }
        "Service" => {
            obj.insert("spec".into(), json!({"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}));
        }
        _ => {
            let env: Vec<Value> = s
                .env
                .iter()
                .enumerate()
                .map(|(j, v)| json!({"name": format!("VAR_{j}"), "value": v}))
                .collect();
            let mut container = json!({"name": "main", "image": format!("example/{name}:1.0"), "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}});
            if !env.is_empty() {
                container["env"] = Value::Array(env);
            }
            let mut pod = Map::new();
            let sel = json!({"matchLabels": {"app": name}});
            match s.affinity {
                1 => {
                    pod.insert("affinity".into(), json!({"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["general"]}]}}]}}));
                }
                2 => {
                    pod.insert("affinity".into(), json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": sel}}]}}));
                }
                3 => {
                    pod.insert("topologySpreadConstraints".into(), json!([{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": sel}]));
                }
                _ => {}
            }
            if kind == "Job" {
                pod.insert("restartPolicy".into(), json!("Never"));
            }
            pod.insert("containers".into(), json!([container]));
            let mut spec = Map::new();
            if matches!(kind, "Deployment" | "StatefulSet") {
                if let Some(r) = s.replicas {
                    spec.insert("replicas".into(), json!(r));
                }
            }
            if kind == "StatefulSet" {
                spec.insert("serviceName".into(), json!(name));
            }
            if kind != "Job" {
                spec.insert("selector".into(), sel);
            }
            spec.insert(
                "template".into(),
                json!({"metadata": {"labels": labels}, "spec": pod}),
            );
            if kind == "StatefulSet" && s.with_claims {
                spec.insert("volumeClaimTemplates".into(), json!([{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]));
            }
            obj.insert("spec".into(), Value::Object(spec));
        }
    }
    Value::Object(obj)
}

fn stream_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec((shape(), style()), 1..8).prop_map(|docs| {
        docs.iter()
            .enumerate()
            .map(|(i, (s, st))| document(&object(s, i), st, i == 0))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------

/// The output and how many input documents the rules edited.
fn check_stream(
    input: &str,
    policy: &policy::Policy,
) -> Result<Option<(String, usize)>, TestCaseError> {
    let analysis = pipeline::analyze(
        input.as_bytes(),
        policy,
        &Default::default(),
        &Default::default(),
    )
    .map_err(|e| TestCaseError::fail(format!("refused a valid stream: {e}\n{input}")))?;
    if analysis.refusals().next().is_some() {
        return Ok(None); // e.g. a singleton asked to run twice: exit 1 is the right answer
    }
    let (out, _) = analysis
        .write()
        .map_err(|e| TestCaseError::fail(format!("write failed: {e}\n{input}")))?;
    let in_chunks: Vec<&str> = stream::split(input)
        .into_iter()
        .map(|r| &input[r])
        .collect();
    let out_chunks: Vec<&str> = stream::split(&out).into_iter().map(|r| &out[r]).collect();
    prop_assert_eq!(
        out_chunks.len(),
        in_chunks.len() + analysis.added.len(),
        "document count\n{}",
        out
    );
    for (i, edits) in analysis.edits().iter().enumerate() {
        if edits.is_empty() {
            prop_assert_eq!(
                out_chunks[i],
                in_chunks[i],
                "untouched document {} changed",
                i + 1
            );
        } else {
            // What the input document meant, read again: the analysis holds its meaning after the edits.
            let before = yaml::parse(in_chunks[i])
                .map_err(|e| TestCaseError::fail(format!("{e:?}")))?
                .value;
            let expected =
                yaml::apply(&before, edits).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let got = yaml::parse(out_chunks[i])
                .map_err(|e| {
                    TestCaseError::fail(format!(
                        "edited document {} does not parse: {e:?}\n{}",
                        i + 1,
                        out_chunks[i]
                    ))
                })?
                .value;
            prop_assert_eq!(
                got,
                expected,
                "document {} does not mean input + edits:\n{}",
                i + 1,
                out_chunks[i]
            );
            prop_assert_eq!(
                stream::source_comment(out_chunks[i]),
                stream::source_comment(in_chunks[i])
            );
        }
    }
    // Deterministic and idempotent.
    let again = pipeline::analyze(
        input.as_bytes(),
        policy,
        &Default::default(),
        &Default::default(),
    )
    .unwrap()
    .write()
    .unwrap()
    .0;
    prop_assert_eq!(&again, &out, "two runs differ");
    let second = pipeline::analyze(
        out.as_bytes(),
        policy,
        &Default::default(),
        &Default::default(),
    )
    .map_err(|e| TestCaseError::fail(format!("own output refused: {e}\n{out}")))?;
    let (twice, _) = second.write().unwrap();
    prop_assert_eq!(&twice, &out, "not idempotent");
    Ok(Some((
        out,
        analysis.edits().iter().filter(|e| !e.is_empty()).count(),
    )))
}

#[test]
fn random_streams_keep_every_document_and_pass_the_validator() {
    let policies: Vec<_> = policy::profile_names()
        .into_iter()
        .map(|p| policy::load(Some(p), None).unwrap())
        .collect();
    let inputs = std::cell::RefCell::new(Vec::new());
    let outputs = std::cell::RefCell::new(Vec::new());
    let edited = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(stream_strategy(), 0..policies.len()), |(input, p)| {
            if let Some((out, n)) = check_stream(&input, &policies[p])? {
                edited.set(edited.get() + n);
                inputs.borrow_mut().push(input);
                outputs.borrow_mut().push(out);
            }
            Ok(())
        })
        .unwrap();
    let (inputs, outputs) = (inputs.into_inner(), outputs.into_inner());
    assert!(
        outputs.len() * 2 >= cases() as usize,
        "most generated streams render ({} of {})",
        outputs.len(),
        cases()
    );
    let docs: usize = inputs.iter().map(|s| stream::split(s).len()).sum();
    eprintln!(
        "{} streams, {docs} documents, {} edited by rules",
        outputs.len(),
        edited.get()
    );
    assert!(
        edited.get() > 0 && edited.get() < docs,
        "the generator makes both edited and untouched documents"
    );
    // Each batch is one validator call; documents are joined so every stream starts with `---`.
    for (what, batch) in [("generated input", &inputs), ("helm-ha output", &outputs)] {
        let joined: String = batch
            .iter()
            .map(|s| {
                if s.starts_with("---") || s.starts_with('\u{feff}') {
                    s.clone()
                } else {
                    format!("---\n{s}")
                }
            })
            .collect();
        let Some((ok, report)) = common::validate(&joined) else {
            return;
        };
        assert!(
            ok && report.contains(" 0 failed"),
            "{what}: validator failures:\n{report}"
        );
        eprintln!(
            "validator on {what}: {}",
            report.lines().last().unwrap_or_default()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Trap values: go-yaml meaning (tests/validate/k8syaml.py) before and after an edit.

/// go-yaml meaning of each non-empty document of `text`, via tests/validate/k8syaml.py.
fn go_yaml_meaning(text: &str) -> Option<Vec<Value>> {
    let py = common::validator_python()?;
    let dir = common::validator_dir();
    let script = "import sys, json\nsys.path.insert(0, sys.argv[1])\nimport k8syaml\ndocs, fatal = k8syaml.load_stream(sys.stdin.read())\nassert fatal is None, fatal\nprint(json.dumps([d.data for d in docs]))\n";
    let mut child = Command::new(py)
        .args(["-c", script, dir.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "k8syaml.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// A Deployment helm-ha edits, carrying every trap in every quoting style (plain only where the
/// plain form is valid YAML and a finite value).
fn trap_deployment(st: &Style) -> String {
    let mut env = String::new();
    let pad = " ".repeat(if st.compact { 8 } else { 10 });
    for (i, t) in TRAPS.iter().enumerate() {
        let forms = [
            format!("'{}'", t.replace('\'', "''")),
            serde_json::to_string(t).unwrap(),
            t.to_string(),
        ];
        for (j, form) in forms.iter().enumerate() {
            if j == 2 && !plain_ok(t) {
                continue;
            }
            env.push_str(&format!("{pad}- name: T{i}_{j}\n{pad}  value: {form}\n"));
        }
    }
    let mut anns = String::new();
    for (i, t) in TRAPS.iter().enumerate() {
        anns.push_str(&format!(
            "    t{i}: {}\n",
            serde_json::to_string(t).unwrap()
        ));
    }
    let text = format!(
        "---\n# Source: traps/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: traps\n  annotations:\n{anns}spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: traps\n  template:\n    metadata:\n      labels:\n        app: traps\n    spec:\n      containers:\n      - name: c\n        image: example/traps:1\n        env:\n{env}        args: [on, \"0755\", 0755, 1e3, '1_000', 2001-12-14, y, ~]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: traps\ndata:\n{}",
        TRAPS.iter().enumerate().map(|(i, t)| format!("  c{i}: {}\n", serde_json::to_string(t).unwrap())).collect::<String>()
    );
    if st.crlf {
        text.replace('\n', "\r\n")
    } else {
        text
    }
}

/// Plain scalars that are valid YAML, finite, and fit on one line without changing structure.
fn plain_ok(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    !t.is_empty()
        && !t.starts_with([
            ' ', '#', '-', '\'', '"', '%', '@', '`', '*', '&', '!', '|', '>', '[', '{', '?',
        ])
        && !t.ends_with(' ')
        && !t.contains(": ")
        && !t.contains('\t')
        && !t.contains(',')
        && !t.contains('\\')
        && !lower.contains("inf")
        && !lower.contains("nan")
        && t != "<<"
}

#[test]
fn trap_values_mean_the_same_after_an_edit() {
    for st in [
        Style {
            indent: 2,
            compact: true,
            crlf: false,
            quote: 0,
            comments: false,
            marker: true,
            source: true,
        },
        Style {
            indent: 2,
            compact: false,
            crlf: true,
            quote: 0,
            comments: false,
            marker: true,
            source: true,
        },
    ] {
        let input = trap_deployment(&st);
        let run = common::helm_ha(&[], input.as_bytes());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(
            run.stdout.contains("topologySpreadConstraints"),
            "the trap Deployment was edited"
        );
        let ours_in: Vec<Value> = stream::read(input.as_bytes())
            .unwrap()
            .iter()
            .map(|d| d.value().to_serde())
            .collect();
        let ours_out: Vec<Value> = stream::read(run.stdout.as_bytes())
            .unwrap()
            .iter()
            .map(|d| d.value().to_serde())
            .filter(|v| !v.is_null())
            .collect();
        let Some(go_in) = go_yaml_meaning(&input) else {
            return;
        };
        let Some(go_out) = go_yaml_meaning(&run.stdout) else {
            return;
        };
        assert_eq!(
            go_in, ours_in,
            "our reader and go-yaml disagree on the input"
        );
        assert_eq!(
            go_out, ours_out,
            "our reader and go-yaml disagree on helm-ha's output"
        );
        // Every value the rules did not change means the same under go-yaml.
        let (before, after) = (&go_in[0], &go_out[0]);
        assert_eq!(before["metadata"], after["metadata"]);
        assert_eq!(
            before["spec"]["template"]["spec"]["containers"],
            after["spec"]["template"]["spec"]["containers"]
        );
        assert_eq!(go_in[1], go_out[1], "the untouched ConfigMap");
        assert_eq!(
            after["spec"]["replicas"],
            json!(2),
            "and the edit itself landed"
        );
    }
}

#[test]
fn editing_a_document_whose_spans_were_dropped_gives_the_same_text() {
    // The reader keeps no span trees (stream::read); yaml::edit builds the tree again.
    let text = "---\n# Source: c/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web  # keep me\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n";
    let edits = vec![
        yaml::Edit::Set(yaml::Path::dotted("spec.replicas"), json!(3).into()),
        yaml::Edit::Append(
            yaml::Path::dotted("spec.template.spec.containers"),
            json!({"name": "d", "image": "on"}).into(),
        ),
    ];
    let kept = yaml::parse(text).unwrap();
    let mut dropped = yaml::parse(text).unwrap();
    dropped.forget_spans();
    assert_eq!(dropped.line_of(&yaml::Path::dotted("spec.replicas")), None);
    let (a, b) = (
        yaml::edit(text, &kept, &edits).unwrap(),
        yaml::edit(text, &dropped, &edits).unwrap(),
    );
    assert_eq!(a, b);
    assert!(
        matches!(a, yaml::Edited::Spliced(_)) && a.text().contains("# keep me"),
        "{}",
        a.text()
    );
}
