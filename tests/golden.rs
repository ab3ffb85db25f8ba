//! Golden tests: hand-made edge streams (full output) and the plane-enterprise fixtures (tests/data)
//! (as unified diffs, so the fixtures are not copied into the repo). `HELM_HA_BLESS=1`
//! regenerates every golden file; review the diff before committing it.

mod common;

use common::{golden, helm_ha, root, unified_diff};
use std::path::Path;

/// `golden/cases/<case>/`: `input.yaml`, optional `args` (whitespace-separated), and the goldens
/// `output.yaml` and `stderr.txt` (exit code, then stderr with `--explain`).
#[test]
fn cases() {
    let dir = root().join("golden/cases");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the edge-case corpus in {}",
        dir.display()
    );
    for case in cases {
        run_case(&case);
    }
}

fn run_case(case: &Path) {
    let input = std::fs::read(case.join("input.yaml")).unwrap();
    let args_text = std::fs::read_to_string(case.join("args")).unwrap_or_default();
    let mut args: Vec<&str> = args_text.split_whitespace().collect();
    args.push("--explain");
    let run = helm_ha(&args, &input);
    golden(&case.join("output.yaml"), &run.stdout);
    golden(
        &case.join("stderr.txt"),
        &format!("exit: {}\n{}", run.code, run.stderr),
    );
    if run.code != 0 {
        assert!(
            run.stdout.is_empty(),
            "{}: a failure printed to stdout",
            case.display()
        );
    }
}

#[test]
fn plane_fixtures_with_both_profiles() {
    for (name, path) in common::fixtures() {
        let input = std::fs::read_to_string(&path).unwrap();
        for profile in ["generic", "plane-enterprise"] {
            let run = helm_ha(&["--profile", profile, "--explain"], input.as_bytes());
            assert_eq!(run.code, 0, "{name} with {profile}: {}", run.stderr);
            golden(
                &root().join(format!("golden/fixtures/{name}.{profile}.diff")),
                &unified_diff(&input, &run.stdout, &format!("{name}.yaml")),
            );
            golden(
                &root().join(format!("golden/fixtures/{name}.{profile}.explain.txt")),
                &run.stderr,
            );
        }
    }
}
