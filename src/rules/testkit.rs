//! Test helpers for rules: build the rules' context from JSON objects.

use super::{Cx, Finding, Rule};
use crate::policy::Policy;
use crate::stream::Doc;
use crate::workload::Release;
use crate::yaml::Json;

/// Run `rules` in order (applying fixes as the pipeline does) over `objects` (one document
/// each) and return the findings of the last rule.
pub fn run(rules: &[&dyn Rule], policy: &Policy, objects: Vec<Json<'static>>) -> Vec<Finding> {
    let raws: Vec<String> = objects.iter().map(crate::yaml::to_yaml).collect();
    let mut docs: Vec<Doc> = raws
        .iter()
        .zip(objects)
        .enumerate()
        .map(|(index, (raw, value))| {
            let parsed = crate::yaml::parse(raw).expect("generated YAML parses");
            assert_eq!(parsed.value, value, "the YAML round trip keeps the object");
            Doc { index, line: 1 + index * 10, raw, parsed }
        })
        .collect();
    let release = Release::infer(&docs, None, None);
    let templates = crate::templates::Templates::default();
    let mut cx = Cx::new(policy, &release, &mut docs, &templates);
    let mut last = Vec::new();
    for rule in rules {
        last = rule.check(&cx);
        for f in &last {
            if let Some(fix) = &f.fix {
                cx.apply(fix).expect("fix applies");
            }
        }
    }
    last
}

/// A policy like the generic profile's detection lists, without reading the profile (YAML).
pub fn policy() -> Policy {
    let mut p = Policy { profile: Some("generic".into()), service_labels: vec!["app".into()], ..Policy::default() };
    p.detect.leader_election_args = vec!["--leader-elect".into(), "--leader-election".into(), "--enable-leader-election".into()];
    p.detect.stateful_images = vec!["postgres".into(), "redis".into()];
    p.detect.singleton_names = vec!["*beat*".into(), "*migrat*".into()];
    p
}

/// A Deployment `name` with pod label `app: name`, `replicas` and the given pod spec.
pub fn deployment(name: &str, replicas: u32, pod_spec: Json<'static>) -> Json<'static> {
    crate::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
        }
    })
}

/// A Service selecting `app: name`.
pub fn service(name: &str, type_: &str, annotations: Json<'static>) -> Json<'static> {
    crate::json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"type": type_, "selector": {"app": name}, "ports": [{"port": 80}]}
    })
}
