//! Reading a typed value straight from a document's meaning (`yaml::from_json`) against reading
//! it from a `serde_json::Value` copy, as the typed checks did before: the same value, or the
//! same error in the same words, for every document of the fixtures, the golden inputs and
//! outputs (the generated objects among them) and hand-made edge cases, read as every type
//! helm-ha checks or loads.

mod common;

use helm_ha::stream::split;
use helm_ha::yaml::{from_json, parse, Json};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

/// Both ways of reading `value` as a `T`: what it reads as (serialised again), or the error.
fn both<T: DeserializeOwned + Serialize>(
    value: &Json<'_>,
) -> (
    Result<serde_json::Value, String>,
    Result<serde_json::Value, String>,
) {
    let direct = from_json::<T>(value)
        .map(|t| serde_json::to_value(t).unwrap())
        .map_err(|e| e.to_string());
    let copied = serde_json::from_value::<T>(value.to_serde())
        .map(|t| serde_json::to_value(t).unwrap())
        .map_err(|e| e.to_string());
    (direct, copied)
}

/// Every type helm-ha reads documents or policies as; returns how many reads succeeded.
fn agree(what: &str, value: &Json<'_>) -> usize {
    let mut read = 0;
    let mut one = |name: &str,
                   (direct, copied): (
        Result<serde_json::Value, String>,
        Result<serde_json::Value, String>,
    )| {
        assert_eq!(direct, copied, "{what} as {name}");
        read += usize::from(direct.is_ok());
    };
    one("PodDisruptionBudget", both::<PodDisruptionBudget>(value));
    one(
        "HorizontalPodAutoscaler",
        both::<HorizontalPodAutoscaler>(value),
    );
    one("Deployment", both::<Deployment>(value));
    one("StatefulSet", both::<StatefulSet>(value));
    one("DaemonSet", both::<DaemonSet>(value));
    one("Service", both::<Service>(value));
    one("ConfigMap", both::<ConfigMap>(value));
    one("Secret", both::<Secret>(value));
    one("StorageClass", both::<StorageClass>(value));
    one(
        "NodePool",
        both::<helm_ha::templates::karpenter::NodePool>(value),
    );
    one(
        "EC2NodeClass",
        both::<helm_ha::templates::karpenter::EC2NodeClass>(value),
    );
    one("Policy", both::<helm_ha::policy::Policy>(value));
    read
}

#[test]
fn every_document_reads_as_from_serde_json() {
    let mut streams: Vec<std::path::PathBuf> =
        common::fixtures().into_iter().map(|(_, p)| p).collect();
    for case in std::fs::read_dir(common::root().join("golden/cases")).unwrap() {
        let dir = case.unwrap().path();
        streams.extend(
            ["input.yaml", "output.yaml"]
                .map(|f| dir.join(f))
                .into_iter()
                .filter(|p| p.is_file()),
        );
    }
    let (mut docs, mut read) = (0, 0);
    for path in &streams {
        // A golden input that is not UTF-8 is refused before any reading.
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for (i, range) in split(&text).into_iter().enumerate() {
            let Ok(parsed) = parse(&text[range]) else {
                continue;
            };
            docs += 1;
            read += agree(&format!("{} document {i}", path.display()), &parsed.value);
        }
    }
    // The fixtures' workloads, Services, ConfigMaps and Secrets, and the golden outputs' PDBs
    // and HPAs, read as their own types at least.
    assert!(
        docs > 150 && read > 100,
        "{docs} documents, {read} typed reads"
    );
}

#[test]
fn edge_values_read_as_from_serde_json() {
    let pdb = |spec: serde_json::Value| json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "a"}, "spec": spec});
    let cases = [
        pdb(json!({"minAvailable": 1})),
        pdb(json!({"minAvailable": "50%"})),
        pdb(json!({"minAvailable": -1})),
        pdb(json!({"minAvailable": 1.5})),
        pdb(json!({"minAvailable": 18446744073709551615u64})),
        pdb(json!({"minAvailable": null, "maxUnavailable": true})),
        pdb(json!({"selector": {"matchLabels": {"a": 1}}})),
        pdb(
            json!({"selector": {"matchExpressions": [{"key": "a", "operator": "In", "values": ["x", null]}]}}),
        ),
        pdb(json!([1, 2])),
        json!({"profile": "generic", "cloud": "aws"}),
        json!({"cloud": "azure"}),
        json!({"cloud": {"aws": null}}),
        json!({"cloud": {"aws": null, "gcp": null}}),
        json!({"cloud": {}}),
        json!({"cloud": 3}),
        json!({"cloud": ["aws"]}),
        json!({"services": {"web": {"tier": "stateless", "minReplicas": 2}}}),
        json!({"services": {"web": {"tier": "leader"}}}),
        json!({"services": {"web": {"pdb": {"minAvailable": "50%"}}}}),
        json!({"services": {"web": {"pdb": {"maxUnavailable": 1.0}}}}),
        json!({"services": [1]}),
        json!({"unknownKey": 1}),
        json!(null),
        json!("text"),
        json!(-3),
    ];
    for case in cases {
        agree(&case.to_string(), &Json::from(case.clone()));
    }
}
