//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod helm;

/// The helm-ha binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_helm-ha");

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// A prerequisite that is missing: a failure under CI, a visible skip elsewhere.
pub fn missing(what: &str) -> Option<PathBuf> {
    assert!(!ci(), "{what} is missing; under CI=true this is a failure (run scripts/test.sh, which installs it)");
    eprintln!("SKIP: {what} is missing (run scripts/test.sh to install it)");
    None
}

/// The test data kept in the repository (`tests/data`: chart renders with their provenance).
pub fn data() -> PathBuf {
    root().join("tests/data")
}

/// The manifest validator kept in the repository (`tests/validate`).
pub fn validator_dir() -> PathBuf {
    root().join("tests/validate")
}

/// The plane-enterprise fixtures: (short name, path).
pub fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = data();
    ["default", "full", "ha"]
        .iter()
        .map(|n| {
            (
                format!("plane-enterprise-{n}"),
                dir.join(format!(
                    "fixtures/plane-enterprise/plane-enterprise-{n}.yaml"
                )),
            )
        })
        .collect()
}

/// Python of the validator's venv.
pub fn validator_python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("HELM_HA_VALIDATE_PY").map(PathBuf::from),
        Some(root().join("target/validate-venv/bin/python")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .or_else(|| missing("the validator venv (target/validate-venv)"))
}

/// Run the validator (strict, Kubernetes 1.35) on a stream: (ok, report).
pub fn validate(stream: &str) -> Option<(bool, String)> {
    let py = validator_python()?;
    let script = validator_dir().join("validate.py");
    let mut child = Command::new(py)
        .args([script.to_str().unwrap(), "-k", "1.35", "-q", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the validator");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), report))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run the helm-ha binary with `args`, feeding `stdin`.
pub fn helm_ha(args: &[&str], stdin: &[u8]) -> Run {
    helm_ha_env(args, stdin, &[])
}

pub fn helm_ha_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("HELM_PLUGIN_NAME");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_command(cmd, stdin)
}

/// Run `cmd`, feeding `stdin` from a thread (so a large input cannot deadlock against a full
/// stdout pipe), and collect what it printed.
pub fn run_command(mut cmd: Command, stdin: &[u8]) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    let mut sin = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Compare with a golden file; `HELM_HA_BLESS=1` rewrites it instead.
pub fn golden(path: &Path, actual: &str) {
    if std::env::var_os("HELM_HA_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with HELM_HA_BLESS=1 to create it",
            path.display()
        )
    });
    pretty_assertions::assert_eq!(
        expected,
        actual,
        "golden file {} differs (HELM_HA_BLESS=1 regenerates it)",
        path.display()
    );
}

/// Unified diff of two streams, for goldens that must not copy their input.
pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// The `run` script of the step named `name` among the `steps` of a GitHub workflow's job or of
/// a composite action.
pub fn step_script<'a>(steps: &'a serde_json::Value, name: &str) -> &'a str {
    steps
        .as_array()
        .expect("a list of steps")
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {name} with a run script"))
}

/// Column-0 `---` document count (a cheap, parser-free count for "nothing lost" checks).
pub fn chunks(stream: &str) -> usize {
    stream
        .lines()
        .filter(|l| *l == "---" || l.starts_with("--- "))
        .count()
}

/// What the validator's `k8syaml.py` (go-yaml v2 rules, written in Python) makes of one
/// document: an independent second opinion on our resolver.
pub fn k8syaml(doc: &str) -> Option<serde_json::Value> {
    let py = validator_python()?;
    let mut child = Command::new(py)
        .arg(root().join("tests/data/yaml/gen.py"))
        .arg("-")
        .env("K8SYAML_DIR", validator_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "k8syaml failed on\n{doc}");
    Some(serde_json::from_slice(&out.stdout).unwrap())
}
