// The property each fuzz target checks, as plain functions: the fuzz targets
// (fuzz/fuzz_targets/*.rs) and the crash replay test (tests/fuzz_regressions.rs) both include
// this file, so a crash input saved under tests/data/fuzz/<target>/ replays exactly.

use helm_ha::json;
use helm_ha::yaml::{self, Edit, Path};

/// The stream splitter keeps every byte: chunks are contiguous, cover the input, and each one
/// after the first starts at a column-0 `---` line or right after a `...` line. Non-UTF-8
/// input is refused by `read`; reading never panics.
pub fn split(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(helm_ha::stream::read(data).is_err());
        return;
    };
    let chunks = helm_ha::stream::split(text);
    let mut at = 0;
    for r in &chunks {
        assert_eq!(r.start, at, "chunks are contiguous");
        assert!(r.end > r.start, "no empty chunk");
        if r.start > 0 {
            let prev = &text[..r.start];
            let last_line = prev[..prev.len() - 1]
                .rfind('\n')
                .map_or(prev, |i| &prev[i + 1..]);
            assert!(
                text[r.start..].starts_with("---") || last_line.starts_with("..."),
                "a chunk starts at a marker"
            );
        }
        at = r.end;
    }
    assert_eq!(at, text.len(), "chunks cover the input");
    assert_eq!(
        chunks.iter().map(|r| &text[r.clone()]).collect::<String>(),
        text
    );
    let _ = helm_ha::stream::read(data);
}

/// The edits the rules make; the first input byte picks a subset (bit i keeps edit i).
pub fn edits(which: u8) -> Vec<Edit> {
    let p = Path::dotted;
    let all = vec![
        Edit::Set(p("spec.replicas"), json!(3)),
        Edit::Set(
            p("spec.template.metadata.annotations"),
            json!({"karpenter.sh/do-not-disrupt": "true"}),
        ),
        Edit::Append(
            p("spec.template.spec.topologySpreadConstraints"),
            json!({"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "on"}}}),
        ),
        Edit::Set(p("spec.strategy"), json!({"type": "Recreate"})),
        Edit::Remove(p("spec.strategy.rollingUpdate")),
        Edit::Set(p("metadata.labels").key("a.b/c"), json!("0755")),
        Edit::Set(
            p("spec.template.spec.affinity.podAntiAffinity"),
            json!({"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]}),
        ),
        Edit::Append(
            p("spec.template.spec.containers"),
            json!({"name": "y", "image": "n"}),
        ),
    ];
    let chosen: Vec<Edit> = all
        .into_iter()
        .enumerate()
        .filter(|(i, _)| which & (1 << i) != 0)
        .map(|(_, e)| e)
        .collect();
    if chosen.is_empty() {
        vec![Edit::Set(p("spec.replicas"), json!(2))]
    } else {
        chosen
    }
}

/// The document editor never panics, and when it succeeds its output parses and means exactly
/// input + edits.
pub fn edit(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(parsed) = yaml::parse(text) else {
        return;
    };
    let edits = edits(which);
    let Ok(expected) = yaml::apply(&parsed.value, &edits) else {
        // A path through a scalar or a list: the editor must refuse too, not panic.
        let _ = yaml::edit(text, &parsed, &edits);
        return;
    };
    if let Ok(done) = yaml::edit(text, &parsed, &edits) {
        let again = yaml::parse(done.text())
            .unwrap_or_else(|e| panic!("edited output does not parse: {e:?}\n{}", done.text()));
        assert_eq!(
            again.value,
            expected,
            "edited output does not mean input + edits:\n{}",
            done.text()
        );
    }
}

/// The policy loader returns a policy or an error for any file text, never panics; a policy it
/// accepts prints (as `helm-ha policy` does) and loads again.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for profile in [None, Some("plane-enterprise")] {
        if let Ok(policy) = helm_ha::policy::load(profile, Some(("fuzz.yaml", text))) {
            let printed = yaml::to_yaml(&yaml::Json::from(serde_json::to_value(&policy).unwrap()));
            helm_ha::policy::load(None, Some(("printed.yaml", &printed)))
                .unwrap_or_else(|e| panic!("printed policy does not load: {e}\n{printed}"));
        }
    }
}

/// The block reader (src/yaml/block.rs) agrees with granit on every document it accepts, and
/// declines whatever granit refuses.
pub fn block_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for r in helm_ha::stream::split(text) {
        if let Err(e) = yaml::block_reader_agrees(&text[r]) {
            panic!("{e}");
        }
    }
}
