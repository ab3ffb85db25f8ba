//! "Nothing is lost": on every fixture and every golden input, with both profiles, each input
//! document comes out — byte for byte when no rule touched it, and meaning exactly input + the
//! rules' edits when one did — generated documents follow, the output is deterministic and
//! idempotent, and the manifest validator (tests/validate) accepts it.

mod common;

use common::{helm_ha, root};
use helm_ha::{pipeline, policy, stream, yaml};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = common::fixtures()
        .into_iter()
        .map(|(n, p)| (n, std::fs::read(p).unwrap()))
        .collect();
    let mut cases: Vec<_> = std::fs::read_dir(root().join("golden/cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let input = std::fs::read(case.join("input.yaml")).unwrap();
        all.push((
            case.file_name().unwrap().to_string_lossy().into_owned(),
            input,
        ));
    }
    all.push((
        "example".into(),
        std::fs::read(root().join("examples/plane-enterprise/rendered.yaml")).unwrap(),
    ));
    all
}

/// Inputs helm-ha renders (exit 0) under `profile`.
fn rendered(profile: &str) -> Vec<(String, Vec<u8>, String)> {
    inputs()
        .into_iter()
        .filter_map(|(name, input)| {
            let run = helm_ha(&["--profile", profile], &input);
            (run.code == 0).then_some((name, input, run.stdout))
        })
        .collect()
}

#[test]
fn every_document_survives_and_untouched_ones_are_byte_identical() {
    for profile in policy::profile_names() {
        let policy = policy::load(Some(profile), None).unwrap();
        for (name, input, _) in rendered(profile) {
            let analysis =
                pipeline::analyze(&input, &policy, &Default::default(), &Default::default())
                    .unwrap();
            let (out, _) = analysis.write().unwrap();
            let text = std::str::from_utf8(&input).unwrap();
            let in_chunks: Vec<&str> = stream::split(text).into_iter().map(|r| &text[r]).collect();
            let out_chunks: Vec<&str> = stream::split(&out).into_iter().map(|r| &out[r]).collect();
            if in_chunks.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            assert_eq!(
                out_chunks.len(),
                in_chunks.len() + analysis.added.len(),
                "{name}/{profile}: document count"
            );
            for (i, edits) in analysis.edits().iter().enumerate() {
                if edits.is_empty() {
                    assert_eq!(
                        out_chunks[i],
                        in_chunks[i],
                        "{name}/{profile}: untouched document {} changed",
                        i + 1
                    );
                } else {
                    // What the input document meant, read again: the analysis holds its meaning after the edits.
                    let before = yaml::parse(
                        in_chunks[i]
                            .strip_prefix('\u{feff}')
                            .unwrap_or(in_chunks[i]),
                    )
                    .unwrap()
                    .value;
                    let expected = yaml::apply(&before, edits).unwrap();
                    let got = yaml::parse(
                        out_chunks[i]
                            .strip_prefix('\u{feff}')
                            .unwrap_or(out_chunks[i]),
                    )
                    .unwrap()
                    .value;
                    assert_eq!(
                        got,
                        expected,
                        "{name}/{profile}: document {} does not mean input + edits",
                        i + 1
                    );
                    assert_eq!(
                        stream::source_comment(out_chunks[i]),
                        stream::source_comment(in_chunks[i]),
                        "{name}/{profile}: # Source: lost"
                    );
                }
            }
        }
    }
}

#[test]
fn output_is_deterministic_and_idempotent() {
    for profile in policy::profile_names() {
        for (name, input, first) in rendered(profile) {
            let again = helm_ha(&["--profile", profile], &input);
            assert_eq!(again.stdout, first, "{name}/{profile}: two runs differ");
            let second = helm_ha(&["--profile", profile], first.as_bytes());
            assert_eq!(second.code, 0, "{name}/{profile}: {}", second.stderr);
            pretty_assertions::assert_eq!(first, second.stdout, "{name}/{profile}: not idempotent");
        }
    }
}

#[test]
fn check_on_own_output_reports_nothing_fixable() {
    for profile in policy::profile_names() {
        for (name, _, out) in rendered(profile) {
            let run = helm_ha(
                &["check", "--profile", profile, "--format", "json"],
                out.as_bytes(),
            );
            let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
            let fixable: Vec<_> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["fixable"] == true)
                .collect();
            assert!(
                fixable.is_empty(),
                "{name}/{profile}: check on helm-ha's output still finds fixable gaps: {fixable:?}"
            );
        }
    }
}

#[test]
fn fixture_output_passes_the_shared_validator() {
    for (name, path) in common::fixtures() {
        let input = std::fs::read(path).unwrap();
        for profile in policy::profile_names() {
            let run = helm_ha(&["--profile", profile], &input);
            assert_eq!(run.code, 0, "{name}/{profile}: {}", run.stderr);
            let Some((ok, report)) = common::validate(&run.stdout) else {
                return;
            };
            assert!(ok, "{name}/{profile}: validator failures:\n{report}");
            assert!(report.contains(" 0 failed"), "{name}/{profile}: {report}");
        }
    }
}
