//! What a user meets on the way: messages under Helm 4, render's stderr, the width of the
//! `check` table, one word per severity, empty input, and a chart given where a rendered stream
//! belongs.

mod common;

use common::{helm_ha, helm_ha_env, root};

fn example() -> Vec<u8> {
    std::fs::read(root().join("examples/plane-enterprise/rendered.yaml")).unwrap()
}

const HELM4: &[(&str, &str)] = &[("HELM_PLUGIN_NAME", "helm-ha")];

/// Under Helm 4 clap's output is a YAML literal block on stdout with exit 0 (Helm refuses it and
/// shows it); elsewhere clap prints as usual.
#[test]
fn argument_errors_help_and_version_reach_stdout_under_helm4() {
    let run = helm_ha_env(&["--profil=x"], b"", HELM4);
    assert_eq!(
        run.code, 0,
        "Helm 4 shows stdout only when the plugin exits 0"
    );
    assert!(
        run.stdout
            .starts_with("|2\n  helm-ha: error: unexpected argument '--profil' found\n"),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("  Usage: helm-ha --profile <NAME> [FILE]..."));
    let value: serde_json::Value = serde_saphyr::from_str(&run.stdout).unwrap();
    assert!(
        value.as_str().is_some_and(|s| s.contains("'--profile'")),
        "one YAML string: {value}"
    );

    let help = helm_ha_env(&["check", "--help"], b"", HELM4);
    assert_eq!(help.code, 0);
    assert!(help.stdout.starts_with("|2\n"), "{}", help.stdout);
    assert!(help
        .stdout
        .contains("\n  Usage: helm-ha check [OPTIONS] [FILE]...\n"));
    let version = helm_ha_env(&["--version"], b"", HELM4);
    assert_eq!(
        version.stdout,
        format!("|2\n  helm-ha {}\n", env!("CARGO_PKG_VERSION"))
    );

    // Not under Helm: clap's usual behaviour.
    let run = helm_ha(&["--profil=x"], b"");
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("unexpected argument '--profil'"));
    let help = helm_ha(&["--help"], b"");
    assert_eq!(help.code, 0);
    assert!(help
        .stdout
        .starts_with("helm-ha reads a rendered manifest stream"));
}

/// One line for what render leaves to `check`, nothing twice, `--verbose` for the list,
/// `--quiet` for silence.
#[test]
fn render_summarises_unfixed_findings_in_one_line() {
    let args = ["--profile", "plane-enterprise"];
    let run = helm_ha(&args, &example());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "helm-ha: 18 finding(s) render does not fix (5 warning, 13 info: HA001, HA201, HA202, \
          HA205, HA208); `helm-ha check` lists them, `--verbose` prints them here"
        ]
    );

    let verbose = helm_ha(&[&args[..], &["--verbose"]].concat(), &example());
    let lines: Vec<&str> = verbose.stderr.lines().collect();
    assert_eq!(lines.len(), 18, "{}", verbose.stderr);
    let mut unique = lines.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), lines.len(), "a line printed twice");
    assert_eq!(verbose.stdout, run.stdout);

    // --explain lists every finding under its object; nothing is repeated after it.
    let explain = helm_ha(&[&args[..], &["--explain"]].concat(), &example());
    for line in explain.stderr.lines() {
        assert!(
            !line.starts_with("warning: HA") && !line.starts_with("info: HA"),
            "printed again after the explanation: {line}"
        );
        assert!(!line.contains("finding(s) render does not fix"), "{line}");
    }
    for f in ["HA201 readiness-probe", "HA202 graceful-shutdown"] {
        assert!(
            explain.stderr.contains(&format!("  {f}: ")),
            "{f} is explained"
        );
    }

    let quiet = helm_ha(&[&args[..], &["--quiet"]].concat(), &example());
    assert_eq!((quiet.code, quiet.stderr.as_str()), (0, ""));
    assert_eq!(quiet.stdout, run.stdout);
    assert_eq!(helm_ha(&["-q", "--explain"], b"").code, 2, "contradictory");
}

/// Without a terminal the table fits in 100 columns; nothing of a message is lost (JSON has
/// every field whole).
#[test]
fn the_check_table_fits_100_columns_and_keeps_every_message() {
    let input = std::fs::read(
        root().join("tests/data/fixtures/plane-enterprise/plane-enterprise-full.yaml"),
    )
    .unwrap();
    let text = helm_ha(&["check", "--profile", "plane-enterprise"], &input);
    let widest = text
        .stdout
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(
        widest <= 100,
        "a line of {widest} columns:\n{}",
        text.stdout
    );
    let json = helm_ha(
        &["check", "--profile", "plane-enterprise", "--format", "json"],
        &input,
    );
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let flat: String = text.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() > 20);
    for f in findings {
        let message = f["message"].as_str().unwrap();
        let message = message.strip_prefix("manual: ").unwrap_or(message);
        let message: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&message), "lost from the table: {message}");
        assert!(message.len() > 20);
    }
    assert!(
        findings
            .iter()
            .any(|f| f["message"].as_str().unwrap().len() > 100),
        "the fixture has messages longer than a line, which the table wraps"
    );
}

/// `info` is the word for the lowest severity in every text and JSON; SARIF says `note`
/// because its specification has no `info` level.
#[test]
fn one_word_per_severity() {
    let args = ["--profile", "plane-enterprise", "--verbose"];
    let render = helm_ha(&args, &example());
    let text = helm_ha(&["check", "--profile", "plane-enterprise"], &example());
    let json = helm_ha(
        &["check", "--profile", "plane-enterprise", "--format", "json"],
        &example(),
    );
    let sarif = helm_ha(
        &[
            "check",
            "--profile",
            "plane-enterprise",
            "--format",
            "sarif",
        ],
        &example(),
    );
    assert!(render.stderr.lines().any(|l| l.starts_with("info: ")));
    assert!(!render.stderr.contains("note"), "{}", render.stderr);
    assert!(text.stdout.lines().any(|l| l.starts_with("info ")));
    assert!(!text.stdout.lines().any(|l| l.starts_with("note")));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let severities: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(
        severities,
        ["info", "warning"].into_iter().collect(),
        "the example has no error"
    );
    let sarif: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    let levels: std::collections::BTreeSet<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["note", "warning"].into_iter().collect());
}

#[test]
fn empty_input_is_a_warning_in_check_and_drill_and_an_error_when_asked_to_fail() {
    for input in [&b""[..], b"---\n# nothing\n", b"\n"] {
        let check = helm_ha(&["check"], input);
        assert_eq!(check.code, 0, "{}", check.stderr);
        assert!(
            check
                .stderr
                .starts_with("helm-ha: warning: the input holds no Kubernetes objects"),
            "{}",
            check.stderr
        );
        let drill = helm_ha(&["drill"], input);
        assert_eq!(drill.code, 0, "{}", drill.stderr);
        assert!(drill
            .stderr
            .contains("warning: the input holds no Kubernetes objects"));
        for (args, what) in [
            (&["check", "--fail-on", "error"][..], "check --fail-on"),
            (&["check", "--strict"], "check --strict"),
            (&["drill", "--strict"], "drill --strict"),
        ] {
            let run = helm_ha(args, input);
            assert_eq!(run.code, 2, "{what}");
            assert!(run.stdout.is_empty(), "{what}");
            assert!(
                run.stderr
                    .starts_with("helm-ha: error: the input holds no Kubernetes objects"),
                "{what}: {}",
                run.stderr
            );
        }
    }
    // A stream with objects says nothing of the kind.
    let check = helm_ha(&["check", "--fail-on", "error"], &example());
    assert!(!check.stderr.contains("no Kubernetes objects"));
}

#[test]
fn a_chart_given_as_input_says_run_helm_template_first() {
    let chart = root().join("examples/plane-enterprise/chart");
    let packaged = std::env::temp_dir().join(format!("helm-ha-chart-{}.tgz", std::process::id()));
    // gzip's magic number is enough: the file is refused before it is read as YAML.
    std::fs::write(&packaged, [0x1f, 0x8b, 8, 0]).unwrap();
    for (path, what) in [
        (chart.clone(), "is a directory"),
        (chart.join("Chart.yaml"), "is a chart's Chart.yaml"),
        (packaged.clone(), "is a compressed file"),
    ] {
        for cmd in [&[][..], &["check"], &["drill"], &["diff"]] {
            let mut args: Vec<&str> = cmd.to_vec();
            args.push(path.to_str().unwrap());
            let run = helm_ha(&args, b"");
            assert_eq!(run.code, 2, "{args:?}");
            assert!(run.stdout.is_empty());
            assert!(
                run.stderr.contains(what) && run.stderr.contains("run helm template first"),
                "{args:?}: {}",
                run.stderr
            );
        }
    }
    std::fs::remove_file(packaged).unwrap();
}
