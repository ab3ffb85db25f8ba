//! Test helpers for rules: build the rules' context from JSON objects.

use super::{Finding, Rule};
use crate::policy::Policy;
use crate::yaml::Json;

/// Run `rules` in order through the pipeline (applying fixes as it does) over `objects` (one
/// document each) and return the findings of the last rule.
pub fn run(
    rules: &[&'static dyn Rule],
    policy: &Policy,
    objects: Vec<Json<'static>>,
) -> Vec<Finding> {
    let mut stream = String::new();
    for value in &objects {
        let raw = crate::yaml::to_yaml(value);
        let parsed = crate::yaml::parse(&raw).expect("generated YAML parses");
        assert_eq!(&parsed.value, value, "the YAML round trip keeps the object");
        stream.push_str("---\n");
        stream.push_str(&raw);
    }
    let analysis = crate::pipeline::analyze_with_rules(stream.as_bytes(), policy, rules)
        .expect("the rules run");
    let last = rules.last().expect("a rule").meta().code;
    analysis
        .findings
        .into_iter()
        .filter(|f| f.rule.code == last)
        .collect()
}

/// Every rule over `input` with the built-in templates, as a run with `--namespace namespace`
/// (and no `--release`) does.
pub fn analyze<'a>(
    input: &'a str,
    policy: &Policy,
    namespace: Option<&str>,
) -> crate::pipeline::Analysis<'a> {
    let names = crate::pipeline::Names {
        namespace: namespace.map(str::to_string),
        release: None,
    };
    crate::pipeline::analyze(input.as_bytes(), policy, &Default::default(), &names)
        .expect("the rules run")
}

/// A policy like the generic profile's detection lists, without reading the profile (YAML).
pub fn policy() -> Policy {
    let mut p = Policy {
        profile: Some("generic".into()),
        service_labels: vec!["app".into()],
        ..Policy::default()
    };
    p.detect.leader_election_args = vec![
        "--leader-elect".into(),
        "--leader-election".into(),
        "--enable-leader-election".into(),
    ];
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

/// `policy` with `services.<name>.tier: <tier>` for each pair: the user's word for it.
pub fn declaring(mut policy: Policy, services: &[(&str, crate::policy::Tier)]) -> Policy {
    for (name, tier) in services {
        policy.services.insert(
            (*name).into(),
            crate::policy::Service {
                tier: Some(*tier),
                ..Default::default()
            },
        );
    }
    policy
}
