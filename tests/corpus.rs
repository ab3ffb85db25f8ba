//! The generic profile on real charts (tests/data/corpus): every render goes through, the
//! output is valid and idempotent, and every workload's decision is the one a reviewer wrote
//! down from the app's own semantics (tests/data/corpus/expected).

mod common;

use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Deserialize)]
struct Expected {
    render: String,
    workloads: Vec<Workload>,
}

#[derive(Deserialize)]
struct Workload {
    object: String,
    tier: String,
    replicas: serde_json::Value,
}

fn expectations() -> Vec<(PathBuf, Expected)> {
    let dir = common::data().join("corpus/expected");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let e: Expected = serde_saphyr::from_str(&text)
                .unwrap_or_else(|err| panic!("{}: {err}", p.display()));
            (p, e)
        })
        .collect()
}

/// Every render of the corpus (not the values files).
fn renders() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::data().join("corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".yaml") && !name.ends_with(".values.yaml")
        })
        .collect();
    files.sort();
    files
}

/// `check --format json` of a render: its workloads' decisions.
fn decisions(render: &std::path::Path) -> Vec<Value> {
    let run = common::helm_ha(
        &["check", "--format", "json", render.to_str().unwrap()],
        b"",
    );
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", render.display(), run.stderr));
    report["workloads"].as_array().unwrap().clone()
}

#[test]
fn every_render_has_reviewed_expectations() {
    let reviewed: Vec<String> = expectations().into_iter().map(|(_, e)| e.render).collect();
    let rendered: Vec<String> = renders()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    pretty_assertions::assert_eq!(reviewed, rendered);
}

#[test]
fn decisions_match_the_reviewed_expectations() {
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for (path, e) in expectations() {
        let render = common::data().join("corpus").join(&e.render);
        let decided = decisions(&render);
        for w in &e.workloads {
            let replicas = match &w.replicas {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            want.push(format!(
                "{} {}: {} / {}",
                e.render, w.object, w.tier, replicas
            ));
            // Helm test pods are not workloads: the reviewer lists them as skipped.
            let Some(d) = decided.iter().find(|d| d["object"] == w.object.as_str()) else {
                let what = if w.object.starts_with("Pod/") && w.tier == "skip" {
                    "skip / keep".to_string()
                } else {
                    format!("not found in the decisions of {}", path.display())
                };
                got.push(format!("{} {}: {what}", e.render, w.object));
                continue;
            };
            let raised = match &d["raisedTo"] {
                Value::Null => "keep".to_string(),
                n => n.to_string(),
            };
            got.push(format!(
                "{} {}: {} / {}",
                e.render,
                w.object,
                d["tier"].as_str().unwrap(),
                raised
            ));
        }
        assert_eq!(
            decided.len(),
            e.workloads
                .iter()
                .filter(|w| !w.object.starts_with("Pod/"))
                .count(),
            "{}: every workload has an expectation",
            e.render
        );
    }
    pretty_assertions::assert_eq!(want.join("\n"), got.join("\n"));
}

/// The decisions with the evidence helm-ha states for them, as a reviewed snapshot: a change of
/// a decision or of its wording shows up in review (`HELM_HA_BLESS=1` rewrites it).
#[test]
fn decision_snapshot() {
    let mut out = String::new();
    for render in renders() {
        out.push_str(&format!(
            "# {}\n",
            render.file_name().unwrap().to_string_lossy()
        ));
        for d in decisions(&render) {
            let raised = match &d["raisedTo"] {
                Value::Null => String::new(),
                n => format!(" -> {n}"),
            };
            out.push_str(&format!(
                "{}: {} ({}{raised}): {}\n",
                d["object"].as_str().unwrap(),
                d["tier"].as_str().unwrap(),
                d["replicas"],
                d["why"].as_str().unwrap()
            ));
        }
    }
    common::golden(&common::data().join("corpus/decisions.txt"), &out);
}

#[test]
fn every_render_goes_through_valid_and_idempotent() {
    for render in renders() {
        let name = render.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(&render).unwrap();
        let first = common::helm_ha(&[], &input);
        assert_eq!(first.code, 0, "{name}: {}", first.stderr);
        // Every document no rule edits comes out byte for byte.
        let check = common::helm_ha(
            &["check", "--format", "json", render.to_str().unwrap()],
            b"",
        );
        let report: Value = serde_json::from_str(&check.stdout).unwrap();
        let edited: Vec<u64> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["fixable"] == true)
            .filter_map(|f| f["document"].as_u64())
            .collect();
        let text = String::from_utf8_lossy(&input);
        for (i, doc) in documents(&text).iter().enumerate() {
            if !edited.contains(&(i as u64 + 1)) {
                assert!(
                    first.stdout.contains(doc.as_str()),
                    "{name}: document {} changed though no rule edits it",
                    i + 1
                );
            }
        }
        let second = common::helm_ha(&[], first.stdout.as_bytes());
        assert_eq!(second.code, 0, "{name} (second run): {}", second.stderr);
        assert!(
            first.stdout == second.stdout,
            "{name}: a second run changes the output"
        );
        // What the validator rejects in the output, it rejected in the chart's own render
        // (traefik's chart renders a policy/v1beta1 budget Kubernetes 1.35 no longer serves).
        if let Some((ok, report)) = common::validate(&first.stdout) {
            if !ok {
                let before = common::validate(&String::from_utf8_lossy(&input))
                    .map(|(_, r)| failures(&r))
                    .unwrap_or_default();
                let new: Vec<String> = failures(&report)
                    .into_iter()
                    .filter(|f| !before.contains(f))
                    .collect();
                assert!(
                    new.is_empty(),
                    "{name}: the validator rejects what helm-ha wrote:\n{report}"
                );
            }
        }
    }
}

/// The objects a validator report fails, as `Kind namespace/name: what`.
fn failures(report: &str) -> Vec<String> {
    report
        .lines()
        .filter(|l| l.contains(": FAIL"))
        .map(|l| {
            let l = l.split_once(' ').map_or(l, |(_, rest)| rest);
            let object = l.split(" (").next().unwrap_or(l);
            let what = l.split_once(": FAIL").map_or("", |(_, w)| w);
            format!("{object}:{what}")
        })
        .collect()
}

/// The documents of a stream as written, each from its `---` line to the next.
fn documents(text: &str) -> Vec<String> {
    let mut docs: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("---") || docs.is_empty() {
            docs.push(String::new());
        }
        docs.last_mut().unwrap().push_str(line);
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.starts_with("---") && !l.starts_with('#') && !l.trim().is_empty())
    });
    docs
}
