//! The user-facing command line of issue 4: `check` formats and exit codes, `--output-dir`,
//! `diff`, completions, the man page, `--help` and `--version`.

mod common;

use common::{helm_ha, root};
use serde_json::Value;

fn example() -> Vec<u8> {
    std::fs::read(root().join("examples/plane-enterprise/rendered.yaml")).unwrap()
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("helm-ha-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_sarif_is_what_github_code_scanning_reads() {
    let path = root().join("examples/plane-enterprise/rendered.yaml");
    let run = helm_ha(
        &[
            "check",
            "--profile",
            "plane-enterprise",
            "--format",
            "sarif",
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(
        run.code, 1,
        "findings at warning or above: exit 1\n{}",
        run.stderr
    );
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run0 = &sarif["runs"][0];
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "helm-ha");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for code in [
        "HA001", "HA101", "HA201", "HA202", "HA203", "HA204", "HA205", "HA206", "HA901", "HA907",
    ] {
        assert!(ids.contains(&code), "{code} missing from tool.driver.rules");
    }
    for r in rules {
        for key in ["name", "shortDescription", "fullDescription", "help"] {
            assert!(!r[key].is_null(), "rule {} has no {key}", r["id"]);
        }
        assert!(
            r["fullDescription"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 1000
        );
        assert!(
            r["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("## Why it matters"),
            "{}",
            r["id"]
        );
    }
    let results = run0["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], path.to_str().unwrap());
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
    }
    // The line is the object's: HA201 on the email Deployment points at its `apiVersion:` line.
    let text = String::from_utf8(example()).unwrap();
    let email = results
        .iter()
        .find(|r| {
            r["ruleId"] == "HA201" && r["message"]["text"].as_str().unwrap().contains("email-app")
        })
        .unwrap();
    let line = email["locations"][0]["physicalLocation"]["region"]["startLine"]
        .as_u64()
        .unwrap() as usize;
    let doc_text: Vec<&str> = text
        .lines()
        .skip(line - 1)
        .take_while(|l| *l != "---")
        .collect();
    assert!(
        doc_text
            .iter()
            .any(|l| l.contains("name: plane-email-app-wl")),
        "line {line} is not in the email Deployment"
    );
    // Manual items are notes; stdin input is located as `stdin`.
    let run = helm_ha(&["check", "--format", "sarif"], &example());
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .all(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "stdin"));
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "HA904" && r["level"] == "note"));
}

#[test]
fn check_lines_point_into_each_input_file() {
    let dir = temp("files");
    let a = dir.join("a.yaml");
    let b = dir.join("b.yaml");
    std::fs::write(
        &a,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    )
    .unwrap();
    std::fs::write(&b, "# lead\n\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}, annotations: {helm-ha.io/replicas: \"2\"}}\n    spec:\n      containers: [{name: web, image: web:1}]\n").unwrap();
    let run = helm_ha(
        &[
            "check",
            "--format",
            "json",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        b"",
    );
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let floor = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "HA101")
        .unwrap();
    assert_eq!(floor["file"], b.to_str().unwrap());
    assert_eq!(floor["fileLine"], 3, "{floor}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_text_is_a_table_without_colour_when_piped() {
    let run = helm_ha(&["check", "--profile", "plane-enterprise"], &example());
    assert_eq!(run.code, 1);
    let first = run.stdout.lines().next().unwrap();
    // The message goes on the lines under its row (tests/usability.rs: the width).
    for col in ["SEVERITY", "CODE", "RULE", "OBJECT", "WHERE"] {
        assert!(first.contains(col), "{first}");
    }
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(run.stdout.contains("Manual checks"));
    assert!(run.stdout.contains("HA904 restore-drill"));
    assert!(run
        .stdout
        .lines()
        .any(|l| l.contains("finding(s): 0 error")));
    let coloured = helm_ha(&["check", "--color", "always"], &example());
    assert!(
        coloured.stdout.contains("\x1b[33mwarning"),
        "{}",
        coloured.stdout
    );
}

#[test]
fn check_exit_codes_follow_fail_on_and_manual_items_never_count() {
    let clean = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    let run = helm_ha(&["check", "--fail-on", "info"], clean);
    assert_eq!(run.code, 0, "only manual items: exit 0\n{}", run.stdout);
    let run = helm_ha(&["check", "--format", "json", "--no-manual"], clean);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]));
    let run = helm_ha(&["check", "--format", "json"], clean);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let manual: Vec<&Value> = report["findings"].as_array().unwrap().iter().collect();
    assert!(
        !manual.is_empty()
            && manual
                .iter()
                .all(|f| f["manual"] == true && f["object"].is_null() && f["severity"] == "info")
    );
    // The example has warnings: exit 1 by default, 0 with --fail-on error.
    assert_eq!(helm_ha(&["check"], &example()).code, 1);
    assert_eq!(
        helm_ha(&["check", "--fail-on", "error"], &example()).code,
        0
    );
    // A singleton asked to run twice is an error.
    let twice =
        std::fs::read_to_string(root().join("golden/cases/singleton-too-many/input.yaml")).unwrap();
    let args = std::fs::read_to_string(root().join("golden/cases/singleton-too-many/args"))
        .unwrap_or_default();
    let mut argv = vec!["check", "--fail-on", "error"];
    argv.extend(args.split_whitespace());
    assert_eq!(helm_ha(&argv, twice.as_bytes()).code, 1);
}

#[test]
fn render_verbose_prints_each_unfixed_finding_but_not_manual_items() {
    let run = helm_ha(&["--profile", "plane-enterprise", "--verbose"], &example());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("HA90"), "{}", run.stderr);
    assert!(
        run.stderr.contains("info: HA202"),
        "info findings are printed as info:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("warning: HA202"),
        "HA202 on the example is only info:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("warning: HA201"),
        "warnings without a fix are printed:\n{}",
        run.stderr
    );
}

#[test]
fn explain_prints_the_new_rules() {
    for code in [
        "HA201", "HA202", "HA203", "HA204", "HA205", "HA206", "HA901", "HA902", "HA903", "HA904",
        "HA905", "HA906", "HA907",
    ] {
        let run = helm_ha(&["explain", code], b"");
        assert_eq!(run.code, 0, "{code}");
        assert!(
            run.stdout.starts_with(code)
                && run.stdout.contains("## Why it matters")
                && run.stdout.contains("## Fix"),
            "{code}:\n{}",
            run.stdout
        );
    }
    let list = helm_ha(&["explain"], b"").stdout;
    assert!(list.contains("HA203  leader-election"), "{list}");
    // One line per rule, by code; the code and name once each.
    let codes: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut sorted = codes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(codes, sorted, "{list}");
    for line in list.lines() {
        let mut words = line.split_whitespace();
        let (code, name) = (words.next().unwrap(), words.next().unwrap());
        let rest: Vec<&str> = words.collect();
        assert!(
            !rest.contains(&code) && !rest.contains(&format!("{name}:").as_str()),
            "{line}"
        );
    }
}

#[test]
fn output_dir_writes_one_file_per_template_and_removes_stale_ones() {
    let dir = temp("outdir");
    std::fs::write(dir.join("keep.txt"), "not ours").unwrap();
    let input = example();
    let run = helm_ha(
        &[
            "--profile",
            "plane-enterprise",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.lines().all(|l| l.starts_with("wrote ")),
        "{}",
        run.stdout
    );
    let api = dir.join("plane-enterprise-example/templates/workloads/api.deployment.yaml");
    let text = std::fs::read_to_string(&api).unwrap();
    assert!(
        text.starts_with(
            "---\n# Source: plane-enterprise-example/templates/workloads/api.deployment.yaml\n"
        ) && text.contains("podAntiAffinity"),
        "{text}"
    );
    // Together the files hold exactly the output stream's documents.
    let stream = helm_ha(&["--profile", "plane-enterprise"], &input).stdout;
    let listed = std::fs::read_to_string(dir.join(helm_ha::output_dir::MANIFEST)).unwrap();
    let files: Vec<&str> = listed.lines().filter(|l| !l.starts_with('#')).collect();
    let total: usize = files
        .iter()
        .map(|f| common::chunks(&std::fs::read_to_string(dir.join(f)).unwrap()))
        .sum();
    assert_eq!(total, common::chunks(&stream));
    // Deterministic: a second run rewrites nothing and lists the same files.
    let again = helm_ha(
        &[
            "--profile",
            "plane-enterprise",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(again.stdout, run.stdout);
    assert_eq!(std::fs::read_to_string(&api).unwrap(), text);
    // A template that is gone is removed; files helm-ha did not write stay.
    let without_api: String = String::from_utf8(input)
        .unwrap()
        .split("\n---\n")
        .filter(|d| !d.contains("workloads/api.deployment.yaml"))
        .collect::<Vec<_>>()
        .join("\n---\n");
    let run = helm_ha(
        &[
            "--profile",
            "plane-enterprise",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
        without_api.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!api.exists(), "stale file kept");
    assert!(dir
        .join("plane-enterprise-example/templates/workloads/web.deployment.yaml")
        .exists());
    assert_eq!(
        std::fs::read_to_string(dir.join("keep.txt")).unwrap(),
        "not ours"
    );
    // Empty input: nothing written, everything helm-ha wrote before is removed.
    let run = helm_ha(&["--output-dir", dir.to_str().unwrap()], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!dir.join("plane-enterprise-example").exists());
    assert!(dir.join("keep.txt").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn output_dir_puts_unsourced_documents_aside_and_refuses_escaping_paths() {
    let dir = temp("unsourced");
    let input = b"---\n# Source: ../../etc/evil.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n";
    let run = helm_ha(&["--output-dir", dir.join("out").to_str().unwrap()], input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let unsourced =
        std::fs::read_to_string(dir.join("out").join(helm_ha::output_dir::UNSOURCED)).unwrap();
    assert!(
        unsourced.contains("name: a") && unsourced.contains("name: b"),
        "{unsourced}"
    );
    assert!(!dir.join("etc").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diff_shows_what_render_changes() {
    let run = helm_ha(&["diff", "--profile", "plane-enterprise"], &example());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("--- a/stdin\n+++ b/stdin\n"),
        "{}",
        &run.stdout[..200.min(run.stdout.len())]
    );
    assert!(run
        .stdout
        .lines()
        .any(|l| l.starts_with("+") && l.contains("podAntiAffinity")));
    let flag = helm_ha(
        &["render", "--diff", "--profile", "plane-enterprise"],
        &example(),
    );
    assert_eq!(flag.stdout, run.stdout);
    let none = helm_ha(
        &["diff"],
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    assert_eq!(none.stdout, "", "nothing to change: empty diff");
}

#[test]
fn completions_man_page_version_and_help() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = helm_ha(&["completions", shell], b"");
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains("helm-ha") && run.stdout.contains("check"),
            "{shell}"
        );
    }
    let man = helm_ha(&["man"], b"");
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH helm-ha 1"),
        "{}",
        &man.stdout[..300]
    );
    for section in [
        "HELM-HA CHECK",
        "HELM-HA DIFF",
        "HELM-HA EXPLAIN",
        "\\-\\-fail\\-on",
        "\\-\\-output\\-dir",
    ] {
        assert!(man.stdout.contains(section), "man page lacks {section}");
    }
    let version = helm_ha(&["--version"], b"");
    assert_eq!(
        version.stdout.trim(),
        format!("helm-ha {}", env!("CARGO_PKG_VERSION"))
    );
    let top = helm_ha(&["--help"], b"").stdout;
    assert!(top.contains("Examples:"));
    for sub in [
        "render",
        "check",
        "policy",
        "explain",
        "diff",
        "completions",
        "man",
    ] {
        let help = helm_ha(&[sub, "--help"], b"");
        assert_eq!(help.code, 0, "{sub}");
        assert!(
            help.stdout.contains("Examples:"),
            "`helm-ha {sub} --help` has no examples:\n{}",
            help.stdout
        );
        assert!(
            top.contains(&format!("  {sub}")),
            "`helm-ha --help` does not list {sub}"
        );
    }
}

#[test]
fn check_text_is_coloured_on_a_terminal() {
    // util-linux `script` gives the command a pseudo-terminal as stdout.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIP: `script` (util-linux) is not installed; no pseudo-terminal to test with");
        return;
    }
    let file = root().join("examples/plane-enterprise/rendered.yaml");
    let cmd = format!("{} check {}", env!("CARGO_BIN_EXE_helm-ha"), file.display());
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\x1b[33mwarning"),
        "no colour on a terminal:\n{text}"
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\x1b["),
        "NO_COLOR is honoured"
    );
}
