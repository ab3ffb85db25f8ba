//! Bad input: every row feeds the real binary and asserts exit 2, nothing on stdout, and exactly
//! one line on stderr that says where (document, line, object when known), what and how to fix,
//! with no panic text and no Secret data. Then the same for policy files (file, line, key).
//!
//! Every manifest row starts with a valid Secret whose values are distinctive strings, so every
//! row also checks that no failure path echoes Secret data.

mod common;

use common::helm_ha;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Plain and base64 forms of the Secret values; none may ever appear in any output.
const SECRET_PLAIN: &str = "hunter2-XYZZY-plain";
const SECRET_B64: &str = "aHVudGVyMi1YWVpaWS1iYXNlNjQ="; // "hunter2-XYZZY-base64"
const SECRET_BAD: &str = "not-base64-PLUGH!";
const FORBIDDEN: &[&str] = &[
    SECRET_PLAIN,
    SECRET_B64,
    SECRET_BAD,
    "hunter2",
    "XYZZY",
    "PLUGH",
];

/// 6 lines; document 1 of every manifest row.
fn secret_doc() -> String {
    format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  token: {SECRET_B64}\nstringData:\n  password: {SECRET_PLAIN}\n")
}

const SECRET_LINES: usize = 9;

/// A Deployment the generic profile hardens: the chart runs two copies.
fn deployment(name: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: {name}\n        image: example/{name}:1\n"
    )
}

/// What a failing row must say.
struct Expect {
    /// 1-based document index as printed ("document N").
    doc: usize,
    /// Lines the message may name (parser errors can point at the start or the end of a token).
    lines: std::ops::RangeInclusive<usize>,
    /// `Kind/name` (or `document`/`stream` when unknown).
    object: &'static str,
    /// Lower-case fragments that must all appear (the "what" and the "how to fix").
    says: &'static [&'static str],
}

struct Row {
    name: &'static str,
    input: Vec<u8>,
    expect: Expect,
}

fn row(
    name: &'static str,
    bad: &str,
    doc: usize,
    lines: std::ops::RangeInclusive<usize>,
    object: &'static str,
    says: &'static [&'static str],
) -> Row {
    let mut input = secret_doc();
    input.push_str(bad);
    let lines = (lines.start() + SECRET_LINES)..=(lines.end() + SECRET_LINES);
    Row {
        name,
        input: input.into_bytes(),
        expect: Expect {
            doc,
            lines,
            object,
            says,
        },
    }
}

fn rows() -> Vec<Row> {
    let mut rows = vec![
        // Lines below are relative to the bad document (its `---` is line 1).
        row(
            "unclosed double quote",
            &format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: \"{SECRET_PLAIN}\n"),
            2,
            1..=8,
            "document",
            &["invalid yaml", "fix the chart template"],
        ),
        row(
            "unclosed single quote in a flow mapping",
            &format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: 'cm}}\ndata:\n  k: {SECRET_PLAIN}\n"),
            2,
            1..=7,
            "document",
            &["invalid yaml", "fix the chart template"],
        ),
        row(
            "bad indentation",
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n    name: cm\n  namespace: x\ndata:\n  k: v\n",
            2,
            5..=7,
            "document",
            &["invalid yaml", "fix the chart template"],
        ),
        row(
            "tab indentation",
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: cm\n",
            2,
            4..=6,
            "document",
            &["invalid yaml", "fix the chart template"],
        ),
        row(
            "column-0 --- inside a quoted scalar",
            &format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: \"{SECRET_PLAIN}\n---\n  rest\"\n"),
            2,
            1..=8,
            "document",
            &["invalid yaml", "fix the chart template"],
        ),
        row("scalar document", "---\njust some text\n", 2, 1..=1, "document", &["scalar", "one kubernetes object"]),
        row("list document", "---\n- apiVersion: v1\n  kind: ConfigMap\n", 2, 1..=1, "document", &["list", "one object per document"]),
        row("missing apiVersion", "---\nkind: ConfigMap\nmetadata:\n  name: cm\n", 2, 1..=1, "ConfigMap/cm", &["no `apiversion`", "needs apiversion and kind"]),
        row("missing kind", "---\napiVersion: v1\nmetadata:\n  name: cm\n", 2, 1..=1, "document", &["no `kind`", "needs apiversion and kind"]),
        row(
            "Secret data not base64",
            &format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ndata:\n  password: {SECRET_BAD}\n"),
            2,
            1..=7,
            "Secret/bad",
            &["`password`", "not valid base64", "stringdata"],
        ),
        row(
            "Secret data not a string",
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ndata:\n  password:\n    nested: 1\n",
            2,
            1..=7,
            "Secret/bad",
            &["`password`", "not a string", "base64"],
        ),
        row(
            "Secret data not a mapping",
            &format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: bad\ndata: {SECRET_PLAIN}\n"),
            2,
            1..=6,
            "Secret/bad",
            &["not a mapping", "base64"],
        ),
        row(
            "duplicate key in a document a rule edits",
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  replicas: 2\n  replicas: 2\n  selector:\n    matchLabels:\n      app: shop\n  template:\n    metadata:\n      labels:\n        app: shop\n    spec:\n      containers:\n      - name: shop\n        image: example/shop:1\n",
            2,
            1..=8,
            "Deployment/shop",
            &["duplicate", "replicas"],
        ),
    ];
    // Non-UTF-8: a Latin-1 byte in document 3, line 6 of that document.
    let mut latin1 = secret_doc().into_bytes();
    latin1.extend_from_slice(deployment("web").as_bytes());
    let before = latin1.iter().filter(|&&b| b == b'\n').count();
    latin1.extend_from_slice(
        b"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: latin1\ndata:\n  k: caf\xe9\n",
    );
    rows.push(Row {
        name: "non-UTF-8 byte",
        input: latin1,
        expect: Expect {
            doc: 3,
            lines: before + 7..=before + 7,
            object: "stream",
            says: &["not utf-8", "re-encode"],
        },
    });
    rows
}

fn assert_one_clean_line(name: &str, stdout: &str, stderr: &str) -> String {
    assert!(
        stdout.is_empty(),
        "{name}: stdout must be empty on failure, got {} bytes:\n{stdout}",
        stdout.len()
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{name}: stderr must be exactly one line:\n{stderr}"
    );
    let line = lines[0];
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack overflow",
        "thread 'main'",
        "todo!",
        "not yet implemented",
    ] {
        assert!(
            !stderr.contains(bad),
            "{name}: panic text in stderr: {stderr}"
        );
    }
    for secret in FORBIDDEN {
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "{name}: Secret data `{secret}` leaked: {stderr}"
        );
    }
    assert!(line.starts_with("helm-ha: error: "), "{name}: {line}");
    assert!(
        line.contains("; "),
        "{name}: no `what; how to fix` in {line}"
    );
    line.to_string()
}

/// `document N (line L, OBJECT): …` → (N, L, OBJECT).
fn location(line: &str) -> Option<(usize, usize, String)> {
    let rest = line.strip_prefix("helm-ha: error: document ")?;
    let (doc, rest) = rest.split_once(" (line ")?;
    let (l, rest) = rest.split_once(", ")?;
    let (object, _) = rest.split_once("): ")?;
    Some((doc.parse().ok()?, l.parse().ok()?, object.to_string()))
}

#[test]
fn bad_manifests_fail_with_one_clear_line() {
    for row in rows() {
        for args in [
            &[][..],
            &["check"][..],
            &["--profile", "plane-enterprise"][..],
        ] {
            // `check` edits nothing, so a duplicate key is only refused where a rule must edit.
            if args == ["check"] && row.name.starts_with("duplicate key") {
                continue;
            }
            let run = helm_ha(args, &row.input);
            let name = format!("{} ({})", row.name, args.join(" "));
            assert_eq!(run.code, 2, "{name}: exit code; stderr: {}", run.stderr);
            let line = assert_one_clean_line(&name, &run.stdout, &run.stderr);
            let (doc, l, object) = location(&line)
                .unwrap_or_else(|| panic!("{name}: no `document N (line L, object)` in {line}"));
            assert_eq!(doc, row.expect.doc, "{name}: document index in {line}");
            assert!(
                row.expect.lines.contains(&l),
                "{name}: line {l} not in {:?}: {line}",
                row.expect.lines
            );
            assert_eq!(object, row.expect.object, "{name}: object in {line}");
            let lower = line.to_lowercase();
            for frag in row.expect.says {
                assert!(lower.contains(frag), "{name}: `{frag}` missing from {line}");
            }
        }
    }
}

#[test]
fn a_secret_with_empty_data_is_accepted_as_no_data() {
    // harbor and velero render `data:` with nothing under it; the API server reads it as no data.
    let input = format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\ndata:\n{}",
        deployment("web")
    );
    let run = helm_ha(&[], input.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\ndata:\n---\n"), "the Secret comes out byte for byte:\n{}", run.stdout);
}

#[test]
fn a_utf8_bom_is_accepted() {
    let mut input = b"\xef\xbb\xbf".to_vec();
    input.extend_from_slice(deployment("web").as_bytes());
    input.extend_from_slice(secret_doc().as_bytes());
    let run = helm_ha(&[], &input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("\u{feff}---\napiVersion: apps/v1\n"),
        "the BOM is kept where it was"
    );
    assert_eq!(run.stdout.matches('\u{feff}').count(), 1);
    assert!(
        run.stdout.contains("topologySpreadConstraints"),
        "the Deployment after the BOM was recognised and edited"
    );
    for secret in [SECRET_PLAIN, SECRET_B64] {
        assert!(!run.stderr.contains(secret));
    }
}

#[test]
fn duplicate_keys_in_an_untouched_document_only_warn() {
    let input = format!("{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n  k: {SECRET_PLAIN}\n  k: {SECRET_PLAIN}\n", secret_doc());
    let run = helm_ha(&[], input.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout, input,
        "untouched documents come out byte for byte"
    );
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("duplicate key"))
        .unwrap_or_else(|| panic!("no warning: {}", run.stderr));
    assert!(
        warning.contains("document 2")
            && warning.contains("ConfigMap/dup")
            && warning.contains("data.k"),
        "{warning}"
    );
    assert!(!run.stderr.contains(SECRET_PLAIN), "{}", run.stderr);
}

/// Run the binary under a wall-clock deadline and an address-space cap (`ulimit -v`, KiB);
/// returns (exit code or None when killed, stdout, stderr, elapsed).
fn run_bounded(
    args: &[&str],
    stdin: Vec<u8>,
    deadline: Duration,
    mem_kib: u64,
) -> (Option<i32>, String, String, Duration) {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {mem_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_helm-ha"))
        .args(args);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("HELM_PLUGIN_NAME")
        .spawn()
        .unwrap();
    let mut sin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(&stdin);
    });
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let ereader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status.code().unwrap_or(-1));
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&ereader.join().unwrap()).into_owned();
    (code, stdout, stderr, elapsed)
}

/// Generous bounds: a healthy run takes milliseconds and a few MB; these only catch runaways.
const DEADLINE: Duration = Duration::from_secs(20);
const MEM_KIB: u64 = 1024 * 1024;

fn assert_bounded_failure(name: &str, input: String, says: &[&str]) {
    let (code, stdout, stderr, elapsed) = run_bounded(&[], input.into_bytes(), DEADLINE, MEM_KIB);
    assert!(
        code.is_some(),
        "{name}: killed after {elapsed:?} (deadline {DEADLINE:?})"
    );
    assert_eq!(code, Some(2), "{name}: exit code; stderr: {stderr}");
    let line = assert_one_clean_line(name, &stdout, &stderr);
    let (doc, _, _) = location(&line).unwrap_or_else(|| panic!("{name}: no location in {line}"));
    assert_eq!(doc, 2, "{name}: {line}");
    let lower = line.to_lowercase();
    for frag in says {
        assert!(lower.contains(frag), "{name}: `{frag}` missing from {line}");
    }
}

#[test]
fn an_alias_bomb_is_refused_in_bounded_time_and_memory() {
    // 9 levels of 9 aliases each: 9^9 ≈ 387 million strings once expanded.
    let mut bomb = format!("{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n  a: &a [\"{SECRET_PLAIN}\"]\n", secret_doc());
    for level in 1..=9u8 {
        let (this, prev) = ((b'a' + level) as char, (b'a' + level - 1) as char);
        let refs = vec![format!("*{prev}"); 9].join(", ");
        bomb.push_str(&format!("  {this}: &{this} [{refs}]\n"));
    }
    assert_bounded_failure("billion laughs", bomb, &["alias"]);
}

#[test]
fn ten_thousand_deep_nesting_is_refused_without_a_stack_overflow() {
    let depth = 10_000;
    let flow = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  k: {}{}\n",
        secret_doc(),
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert_bounded_failure("10,000-deep flow nesting", flow, &["nest"]);
    let mut block = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n",
        secret_doc()
    );
    for i in 0..depth {
        block.push_str(&" ".repeat(2 + i));
        block.push_str("k:\n");
    }
    assert_bounded_failure("10,000-deep block nesting", block, &["nest"]);
    let mut seqs = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  k:\n",
        secret_doc()
    );
    seqs.push_str("    ");
    seqs.push_str(&"- ".repeat(depth));
    seqs.push_str("x\n");
    assert_bounded_failure("10,000-deep compact block sequences", seqs, &["nest"]);
}

/// Peak RSS (KiB), exit code and stderr of `helm-ha FILE` with `env`, via GNU time.
fn peak_rss(file: &std::path::Path, env: &[(&str, &str)]) -> Option<(u64, Option<i32>, String)> {
    let time = std::path::Path::new("/usr/bin/time");
    if !time.exists() {
        common::missing("GNU time (/usr/bin/time; apt-get install time)");
        return None;
    }
    let mut command = Command::new(time);
    command
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_helm-ha"))
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let kib = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no GNU time line in {stderr}"));
    let messages = stderr
        .lines()
        .filter(|l| l.starts_with("helm-ha:"))
        .collect::<Vec<_>>()
        .join("\n");
    Some((kib, out.status.code(), messages))
}

/// A 200 MB stream: over the default limit, refused after reading just past it, in memory
/// bounded by the limit; with the limit raised, accepted in under 7x its size in memory (the
/// whole stream's meaning is held: about 6.2x, docs/benchmarks.md). Ignored by default (it
/// generates 200 MB of YAML and takes about half a minute); docs/benchmarks.md records a run.
#[test]
#[ignore = "slow: generates a 200 MB stream (run with --ignored)"]
fn a_200_mb_stream_is_refused_at_the_default_limit_and_runs_in_under_7x_its_size_above_it() {
    let dir = std::env::temp_dir().join(format!("helm-ha-200mb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("stream-200.yaml");
    std::fs::write(&file, helm_ha::gen_stream::generate(200_000_000, 1)).unwrap();
    let size = std::fs::metadata(&file).unwrap().len();
    for limit in [None, Some("256")] {
        let env: Vec<(&str, &str)> = limit
            .map(|l| ("HELM_HA_MAX_INPUT_MIB", l))
            .into_iter()
            .collect();
        let Some((kib, code, messages)) = peak_rss(&file, &env) else {
            break;
        };
        let ratio = (kib * 1024) as f64 / size as f64;
        eprintln!("200 MB stream, limit {}: {size} bytes, exit {code:?}, peak RSS {kib} KiB = {ratio:.2}x input", limit.map_or("default".to_string(), |l| format!("{l} MiB")));
        if limit.is_some() {
            assert_eq!(code, Some(0), "{messages}");
            assert!(ratio < 7.0, "peak RSS {ratio:.2}x input");
        } else {
            assert_eq!(code, Some(2));
            assert!(
                messages.contains("larger than the 64 MiB limit") && !messages.contains('\n'),
                "{messages}"
            );
            assert!(kib * 1024 < 2 * (64 << 20), "refusing cost {kib} KiB");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stream_over_the_input_limit_is_refused_with_a_clear_message() {
    assert_eq!(
        helm_ha::app::MAX_INPUT_BYTES,
        64 << 20,
        "docs/benchmarks.md and docs/design.md document 64 MiB"
    );
    // The same check with the limit lowered to 1 MiB, so the test stays small.
    let filler = "# padding padding padding padding padding padding padding padding padding pad\n";
    let mut input = format!("{}{}", secret_doc(), deployment("web"));
    while input.len() <= 1 << 20 {
        input.push_str(filler);
    }
    let run = common::helm_ha_env(&[], input.as_bytes(), &[("HELM_HA_MAX_INPUT_MIB", "1")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let line = assert_one_clean_line("input over the limit", &run.stdout, &run.stderr);
    assert!(
        line.contains("1 MiB limit") && line.contains("HELM_HA_MAX_INPUT_MIB"),
        "{line}"
    );
    // Exactly at the limit is fine.
    input.truncate(1 << 20);
    let cut = input.rfind('\n').unwrap() + 1;
    input.truncate(cut);
    let run = common::helm_ha_env(&[], input.as_bytes(), &[("HELM_HA_MAX_INPUT_MIB", "1")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// Policy files

struct PolicyRow {
    name: &'static str,
    text: &'static str,
    line: usize,
    key: &'static str,
    says: &'static [&'static str],
}

fn policy_rows() -> Vec<PolicyRow> {
    vec![
        PolicyRow { name: "unknown top-level key", text: "profile: generic\nservces:\n  api:\n    replicas: 3\n", line: 2, key: "servces", says: &["unknown field", "did you mean `services`?"] },
        PolicyRow { name: "unknown nested key", text: "tiers:\n  stateless:\n    replcas: 3\n", line: 3, key: "tiers.stateless.replcas", says: &["unknown field", "did you mean `replicas`?"] },
        PolicyRow { name: "unknown service key", text: "services:\n  api:\n    tire: singleton\n", line: 3, key: "services.api.tire", says: &["unknown field", "did you mean `tier`?"] },
        PolicyRow { name: "wrong type: string for a number", text: "tiers:\n  stateless:\n    replicas: two\n", line: 3, key: "tiers.stateless.replicas", says: &["see `helm-ha policy`"] },
        PolicyRow { name: "wrong type: list for a mapping", text: "services:\n  - api\n", line: 2, key: "services", says: &["expected mapping", "see `helm-ha policy`"] },
        PolicyRow { name: "wrong type: bad enum", text: "services:\n  api:\n    tier: sometimes\n", line: 3, key: "services.api.tier", says: &["see `helm-ha policy`"] },
        PolicyRow {
            name: "a singleton with an HPA",
            text: "services:\n  beat:\n    tier: singleton\n    hpa:\n      minReplicas: 1\n      maxReplicas: 3\n      cpu: 70\n",
            line: 4,
            key: "services.beat.hpa",
            says: &["an hpa on a singleton", "remove the hpa"],
        },
        PolicyRow {
            name: "a floor above the HPA max",
            text: "services:\n  api:\n    replicas: 5\n    hpa:\n      minReplicas: 2\n      maxReplicas: 4\n      cpu: 70\n",
            line: 6,
            key: "services.api.hpa.maxReplicas",
            says: &["floor 5 is above", "maxreplicas 4", "raise maxreplicas"],
        },
        PolicyRow {
            name: "a PDB that allows 0 disruptions (tier)",
            text: "tiers:\n  stateless:\n    replicas: 2\n    pdb:\n      minAvailable: 2\n",
            line: 4,
            key: "tiers.stateless.pdb",
            says: &["allows 0 disruptions at 2 replicas", "maxunavailable: 1"],
        },
        PolicyRow {
            name: "a PDB that allows 0 disruptions (service, percent)",
            text: "services:\n  api:\n    replicas: 3\n    pdb:\n      maxUnavailable: 0%\n",
            line: 4,
            key: "services.api.pdb",
            says: &["allows 0 disruptions at 3 replicas"],
        },
        PolicyRow {
            name: "a pool that does not exist",
            text: "karpenter:\n  enabled: true\n  pools:\n    general: {}\nservices:\n  api:\n    pool: gpu\n",
            line: 7,
            key: "services.api.pool",
            says: &["pool `gpu` does not exist", "karpenter.pools", "general"],
        },
        PolicyRow { name: "duplicate key", text: "strict: true\nstrict: false\n", line: 2, key: "strict", says: &["duplicate mapping key", "keep one"] },
        PolicyRow { name: "invalid YAML", text: "services:\n  api: {replicas: 3\n", line: 2, key: "services.api", says: &["unclosed bracket"] },
    ]
}

#[test]
fn bad_policy_files_name_the_file_line_and_key() {
    let dir = std::env::temp_dir().join(format!("helm-ha-bad-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, row) in policy_rows().into_iter().enumerate() {
        let file = dir.join(format!("policy-{i}.yaml"));
        std::fs::write(&file, row.text).unwrap();
        let path = file.to_str().unwrap();
        for args in [vec!["policy", "--policy", path], vec!["--policy", path]] {
            let name = format!("{} ({})", row.name, args[0]);
            let run = helm_ha(&args, deployment("web").as_bytes());
            assert_eq!(run.code, 2, "{name}: {}", run.stderr);
            let line = assert_one_clean_line(&name, &run.stdout, &run.stderr);
            let want = format!("helm-ha: error: policy {path} line {}", row.line);
            assert!(
                line.starts_with(&want),
                "{name}: expected `{want}` in {line}"
            );
            if !row.key.is_empty() {
                assert!(
                    line.contains(&format!("key `{}", row.key)),
                    "{name}: key `{}` missing from {line}",
                    row.key
                );
            }
            let lower = line.to_lowercase();
            for frag in row.says {
                assert!(lower.contains(frag), "{name}: `{frag}` missing from {line}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
