//! The document editor on arbitrary text with the edits the rules make: never a panic, and when
//! it succeeds the output parses and means exactly input + edits.
#![no_main]

use helm_ha::yaml::{self, Edit, Json, Seg};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fn edits(which: u8) -> Vec<Edit> {
    let p = yaml::path;
    let mut all = vec![
        Edit::Set(p("spec.replicas"), json!(3)),
        Edit::Set(p("spec.template.metadata.annotations"), json!({"karpenter.sh/do-not-disrupt": "true"})),
        Edit::Append(
            p("spec.template.spec.topologySpreadConstraints"),
            json!({"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "on"}}}),
        ),
        Edit::Set(p("spec.strategy"), json!({"type": "Recreate"})),
        Edit::Remove(p("spec.strategy.rollingUpdate")),
        Edit::Set(vec![Seg::Key("metadata".into()), Seg::Key("labels".into()), Seg::Key("a.b/c".into())], json!("0755")),
        Edit::Set(p("spec.template.spec.affinity.podAntiAffinity"), json!({"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"}}]})),
    ];
    // A different subset for each first byte, in order.
    let mut chosen = Vec::new();
    for (i, e) in all.drain(..).enumerate() {
        if which & (1 << (i % 8)) != 0 {
            chosen.push(e);
        }
    }
    if chosen.is_empty() {
        chosen.push(Edit::Set(yaml::path("spec.replicas"), json!(2)));
    }
    chosen
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(parsed) = yaml::parse(text) else { return };
    let edits = edits(which);
    let Ok(expected) = yaml::apply(&parsed.value, &edits) else {
        // A path through a scalar or a list: the editor must refuse too, not panic.
        let _ = yaml::edit(text, &parsed, &edits);
        return;
    };
    if let Ok(done) = yaml::edit(text, &parsed, &edits) {
        let again = yaml::parse(done.text()).unwrap_or_else(|e| panic!("edited output does not parse: {e:?}\n{}", done.text()));
        assert_eq!(again.value, expected, "edited output does not mean input + edits:\n{}", done.text());
        let _: &Json = &again.value;
    }
});
