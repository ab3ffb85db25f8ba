//! The generated objects (HA107-HA112), golden-style: small hand-made streams in
//! `tests/data/emit/*.yaml`, each with the exact documents helm-ha adds (`*.added.yaml`,
//! `HELM_HA_BLESS=1` rewrites them), and the plane-enterprise HA fixture with Karpenter and a
//! StorageClass on. Every output passes the manifest validator (tests/validate) (strict, Kubernetes 1.35) and adds
//! nothing when run again.

mod common;

use helm_ha::pipeline::{self, Analysis};
use helm_ha::policy::{self, Budget, IntOrPercent, Policy};
use helm_ha::rules::{Fix, Severity};
use helm_ha::templates::Templates;
use helm_ha::yaml::Json;
use pretty_assertions::assert_eq;
use std::path::PathBuf;

fn data(name: &str) -> PathBuf {
    common::root().join("tests/data/emit").join(name)
}

fn policy(profile: &str, over: &str) -> Policy {
    policy::load(Some(profile), Some(("test-policy.yaml", over)))
        .unwrap_or_else(|e| panic!("policy: {e}"))
}

fn run<'a>(input: &'a [u8], policy: &Policy) -> Analysis<'a> {
    pipeline::analyze(input, policy, &Default::default(), &Default::default())
        .unwrap_or_else(|e| panic!("analyze: {e}"))
}

fn case(name: &str, policy: &Policy) -> Analysis<'static> {
    // The analysis borrows its input; a test's input lives as long as the test process.
    let input = std::fs::read(data(&format!("{name}.yaml"))).unwrap();
    run(Box::leak(input.into_boxed_slice()), policy)
}

/// The added documents, as `Analysis::write` puts them after the input (Helm 3 `# Source:`).
fn added(a: &Analysis<'_>) -> String {
    let (out, _) = a.write().unwrap();
    let chunks = helm_ha::stream::split(&out);
    let first = chunks.len() - a.added.len();
    chunks[first..].iter().map(|r| &out[r.clone()]).collect()
}

fn written(a: &Analysis<'_>) -> String {
    a.write().unwrap().0
}

/// Every object of a stream, as Kubernetes reads it.
fn objects(stream: &str) -> Vec<Json<'_>> {
    helm_ha::stream::read(stream.as_bytes())
        .unwrap()
        .iter()
        .map(|d| d.value().clone())
        .filter(|v| !v.is_null())
        .collect()
}

fn find<'v, 'a>(objs: &'v [Json<'a>], kind: &str, name: &str) -> &'v Json<'a> {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in the output"))
}

/// The output passes the manifest validator (tests/validate) (0 failures) and a second run adds and changes nothing.
fn validated_and_idempotent(a: &Analysis<'_>, policy: &Policy) -> String {
    assert!(
        a.refusals().next().is_none(),
        "unexpected refusal: {:?}",
        a.refusals().next()
    );
    let out = written(a);
    if let Some((ok, report)) = common::validate(&out) {
        assert!(ok && report.contains(" 0 failed"), "validator:\n{report}");
    }
    let again = run(out.as_bytes(), policy);
    assert!(
        again.added.is_empty(),
        "second run adds {:?}",
        again
            .added
            .iter()
            .map(|d| format!("{}/{}", d.kind, d.name))
            .collect::<Vec<_>>()
    );
    assert!(
        again.edits().iter().all(Vec::is_empty),
        "second run edits: {:?}",
        again
            .findings
            .iter()
            .filter(|f| f.fix.is_some())
            .map(|f| &f.message)
            .collect::<Vec<_>>()
    );
    assert_eq!(written(&again), out, "second run changes the stream");
    out
}

fn messages(a: &Analysis<'_>, code: &str) -> Vec<String> {
    a.findings
        .iter()
        .filter(|f| f.rule.code == code)
        .map(|f| format!("{:?} {}: {}", f.severity, f.object, f.message))
        .collect()
}

#[test]
fn a_chart_pdb_selecting_through_match_expressions_is_not_doubled() {
    let p = policy("generic", "");
    let a = case("chart-pdb", &p);
    common::golden(&data("chart-pdb.added.yaml"), &added(&a));
    let notes = messages(&a, "HA107");
    assert!(
        notes
            .iter()
            .any(|m| m.starts_with("Info Deployment/shop-web")
                && m.contains("PodDisruptionBudget/web-budget")),
        "{notes:?}"
    );
    // The PDB in namespace `staging` selects every pod there, not shop-api's.
    assert_eq!(
        a.added.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["shop-api-pdb"]
    );
    validated_and_idempotent(&a, &p);
}

#[test]
fn budgets_that_allow_no_disruption_at_the_floor_are_refused() {
    let input = std::fs::read(data("chart-pdb.yaml")).unwrap();
    // 51% of 2 rounds up to 2: no disruption left. The policy loader refuses it ...
    let err = policy::load(
        Some("generic"),
        Some((
            "p.yaml",
            "tiers: {stateless: {pdb: {minAvailable: \"51%\"}}}\n",
        )),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("allows 0 disruptions at 2 replicas"), "{err}");
    // ... and so does the rule, for a policy that got past it.
    let mut p = policy("generic", "");
    for (budget, refused) in [
        (
            Budget {
                min_available: Some(IntOrPercent::Percent("51%".into())),
                max_unavailable: None,
            },
            true,
        ),
        (
            Budget {
                min_available: Some(IntOrPercent::Int(2)),
                max_unavailable: None,
            },
            true,
        ),
        (
            Budget {
                min_available: None,
                max_unavailable: Some(IntOrPercent::Percent("0%".into())),
            },
            true,
        ),
        (
            Budget {
                min_available: Some(IntOrPercent::Percent("50%".into())),
                max_unavailable: None,
            },
            false,
        ),
        (
            Budget {
                min_available: None,
                max_unavailable: Some(IntOrPercent::Percent("10%".into())),
            },
            false,
        ),
    ] {
        p.tiers.stateless.pdb = budget.clone();
        let a = run(&input, &p);
        let refusals: Vec<_> = a
            .refusals()
            .map(|f| (f.rule.code, f.object.clone()))
            .collect();
        if refusals.is_empty() {
            assert!(!refused, "{budget:?} should be refused");
            assert_eq!(a.added.len(), 1);
            validated_and_idempotent(&a, &p);
        } else {
            assert!(refused, "{budget:?} refused: {refusals:?}");
            assert_eq!(refusals, [("HA107", "Deployment/shop-api".to_string())]);
            assert!(a.added.is_empty());
        }
    }
}

#[test]
fn hpas_respect_chart_autoscalers_and_the_floor() {
    let p = policy(
        "generic",
        "services:\n  api: {hpa: {minReplicas: 2, maxReplicas: 6, cpu: 70}}\n  consumer: {hpa: {minReplicas: 2, maxReplicas: 6, cpu: 70}}\n  web: {replicas: 3, hpa: {minReplicas: 2, maxReplicas: 6, cpu: 60}}\n",
    );
    let a = case("chart-hpa", &p);
    common::golden(&data("chart-hpa.added.yaml"), &added(&a));
    let notes = messages(&a, "HA108");
    assert!(
        notes
            .iter()
            .any(|m| m.contains("HorizontalPodAutoscaler/api from the chart already scales")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|m| m.contains("ScaledObject/consumer from the chart already scales")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|m| m.contains("minReplicas 2 raised to the floor 3")),
        "{notes:?}"
    );
    assert_eq!(
        a.added
            .iter()
            .filter(|d| d.kind == "HorizontalPodAutoscaler")
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>(),
        ["shop-web-hpa"]
    );
    let out = validated_and_idempotent(&a, &p);
    let objs = objects(&out);
    // The chart's HPA had no minReplicas (1): raised to the floor, 2.
    assert_eq!(
        find(&objs, "HorizontalPodAutoscaler", "api")["spec"]["minReplicas"],
        2
    );
    // spec.replicas leaves the target of the new HPA only; the chart-autoscaled ones keep theirs.
    assert!(find(&objs, "Deployment", "shop-web")["spec"]
        .get("replicas")
        .is_none());
    assert_eq!(find(&objs, "Deployment", "shop-api")["spec"]["replicas"], 2);
    assert_eq!(
        find(&objs, "Deployment", "shop-consumer")["spec"]["replicas"],
        2
    );
}

#[test]
fn a_utilization_metric_without_requests_is_refused() {
    let p = policy(
        "generic",
        "services:\n  web: {hpa: {minReplicas: 2, maxReplicas: 4, cpu: 70}}\n",
    );
    let a = case("no-requests", &p);
    let refusals: Vec<_> = a.refusals().map(|f| f.message.clone()).collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0].contains("no request for cpu in container `log-shipper`"),
        "{refusals:?}"
    );
    assert!(a.added.iter().all(|d| d.kind != "HorizontalPodAutoscaler"));
    // render exits 1 with the reason.
    let dir = tempdir("no-requests");
    std::fs::write(
        dir.join("policy.yaml"),
        "services:\n  web: {hpa: {minReplicas: 2, maxReplicas: 4, cpu: 70}}\n",
    )
    .unwrap();
    let r = common::helm_ha(
        &["--policy", dir.join("policy.yaml").to_str().unwrap()],
        &std::fs::read(data("no-requests.yaml")).unwrap(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("HA108") && r.stderr.contains("log-shipper"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn storage_class_is_emitted_once_and_claims_without_a_class_point_at_it() {
    let p = policy(
        "generic",
        "storageClass: {preset: aws-ebs-gp3, name: gp3, default: true, assignToClaims: true}\n",
    );
    let a = case("volumes", &p);
    common::golden(&data("volumes.added.yaml"), &added(&a));
    let out = validated_and_idempotent(&a, &p);
    let objs = objects(&out);
    assert_eq!(
        find(&objs, "PersistentVolumeClaim", "data")["spec"]["storageClassName"],
        "gp3"
    );
    // "" means "no class, static binding" to Kubernetes: kept, and said.
    assert_eq!(
        find(&objs, "PersistentVolumeClaim", "static")["spec"]["storageClassName"],
        ""
    );
    assert!(messages(&a, "HA110")
        .iter()
        .any(|m| m.starts_with("Info PersistentVolumeClaim/static")
            && m.contains("assignToEmptyClass")));
    let vct = &find(&objs, "StatefulSet", "shop-queue")["spec"]["volumeClaimTemplates"];
    assert_eq!(vct[0]["spec"]["storageClassName"], "gp3");
    assert_eq!(vct[1]["spec"]["storageClassName"], "fast");

    let p = policy("generic", "storageClass: {preset: aws-ebs-gp3, name: gp3, assignToClaims: true, assignToEmptyClass: true}\n");
    let out = validated_and_idempotent(&case("volumes", &p), &p);
    assert_eq!(
        find(&objects(&out), "PersistentVolumeClaim", "static")["spec"]["storageClassName"],
        "gp3"
    );

    // Never a second class of that name; an empty preset only assigns.
    let with_class = format!("{}---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: gp3\nprovisioner: ebs.csi.aws.com\n", std::fs::read_to_string(data("volumes.yaml")).unwrap());
    assert!(run(with_class.as_bytes(), &p)
        .added
        .iter()
        .all(|d| d.kind != "StorageClass"));
    let p = policy(
        "generic",
        "storageClass: {name: standard, assignToClaims: true}\n",
    );
    let a = case("volumes", &p);
    assert!(a.added.iter().all(|d| d.kind != "StorageClass"));
    assert_eq!(
        find(&objects(&written(&a)), "PersistentVolumeClaim", "data")["spec"]["storageClassName"],
        "standard"
    );
}

#[test]
fn aws_load_balancers_get_cross_zone_and_the_idle_timeout_their_controller_reads() {
    let p = policy(
        "generic",
        "cloud: aws\nservices:\n  live: {loadBalancer: {idleTimeoutSeconds: 3600}}\n",
    );
    let a = case("load-balancer", &p);
    let out = validated_and_idempotent(&a, &p);
    let objs = objects(&out);
    let annotations = |name: &str| find(&objs, "Service", name)["metadata"]["annotations"].clone();
    assert_eq!(
        annotations("live-clb"),
        serde_json::json!({
            "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
            "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout": "3600",
        })
    );
    assert_eq!(
        annotations("live-nlb"),
        serde_json::json!({
            "service.beta.kubernetes.io/aws-load-balancer-type": "external",
            "service.beta.kubernetes.io/aws-load-balancer-attributes": "deletion_protection.enabled=true,load_balancing.cross_zone.enabled=true",
            "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-443": "tcp.idle_timeout.seconds=3600",
        })
    );
    assert!(find(&objs, "Service", "web-internal")["metadata"]
        .get("annotations")
        .is_none());
    // Without `cloud: aws` nothing changes.
    let p = policy(
        "generic",
        "services:\n  live: {loadBalancer: {idleTimeoutSeconds: 3600}}\n",
    );
    assert!(case("load-balancer", &p)
        .findings
        .iter()
        .all(|f| f.rule.code != "HA111"));
}

#[test]
fn karpenter_pools_and_placement() {
    let p = policy(
        "generic",
        "cloud: aws\nkarpenter:\n  enabled: true\n  clusterName: prod\n  zones: [us-east-1a, us-east-1b, us-east-1c]\n  pools:\n    general: {cpuLimit: \"100\"}\n    batch: {capacityTypes: [spot], instanceCategories: [c, m, r], expireAfter: 24h, consolidateAfter: 5m, taint: \"workload-class=batch:NoSchedule\"}\nservices:\n  worker: {pool: batch}\n",
    );
    let a = case("karpenter", &p);
    common::golden(&data("karpenter.added.yaml"), &added(&a));
    let out = validated_and_idempotent(&a, &p);
    let objs = objects(&out);
    let pod = &find(&objs, "Deployment", "shop-worker")["spec"]["template"]["spec"];
    assert_eq!(
        pod["nodeSelector"],
        serde_json::json!({"kubernetes.io/os": "linux", "karpenter.sh/nodepool": "batch"})
    );
    assert_eq!(
        pod["tolerations"],
        serde_json::json!([
            {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "workload-class", "operator": "Equal", "value": "batch", "effect": "NoSchedule"},
        ])
    );
    // Off (the plane-enterprise default): nothing.
    let p = policy("plane-enterprise", "");
    let a = case("karpenter", &p);
    assert!(a
        .findings
        .iter()
        .all(|f| f.rule.code != "HA112" && f.rule.code != "HA109"));
}

#[test]
fn leader_elected_workloads_get_a_pdb_only_when_standbys_are_ready() {
    let p = policy("generic", "");
    let a = case("leader", &p);
    assert!(a.added.is_empty());
    assert!(messages(&a, "HA107")
        .iter()
        .any(|m| m.contains("standbys are not Ready")));
    let p = policy("generic", "tiers: {leaderElected: {standbysReady: true}}\n");
    let a = case("leader", &p);
    assert_eq!(
        a.added.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["shop-controller-pdb"]
    );
    validated_and_idempotent(&a, &p);
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("helm-ha-emit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn user_templates_replace_the_built_ins_and_broken_ones_fail_clearly() {
    let input = std::fs::read(data("leader.yaml")).unwrap();
    let p = policy("generic", "tiers: {leaderElected: {standbysReady: true}}\n");
    let dir = tempdir("templates");
    let builtin = include_str!("../templates/pdb.yaml");
    std::fs::write(
        dir.join("pdb.yaml"),
        builtin.replace("  labels:\n", "  labels:\n    team: {{ \"platform\" }}\n"),
    )
    .unwrap();
    let t = Templates::load(Some(&dir)).unwrap();
    let a = pipeline::analyze(&input, &p, &t, &Default::default()).unwrap();
    assert_eq!(a.added[0].value["metadata"]["labels"]["team"], "platform");

    // A misspelt field, a value of the wrong type, an interpolation inside a scalar.
    for (broken, expect) in [
        (
            builtin.replace(
                "unhealthyPodEvictionPolicy:",
                "unhealthyPodEvictionPolicyy:",
            ),
            "spec.unhealthyPodEvictionPolicyy",
        ),
        (
            builtin.replace(
                "maxUnavailable: {{ max_unavailable }}",
                "maxUnavailable: [1]",
            ),
            "not a valid object",
        ),
        (
            builtin.replace("name: {{ name }}", "name: {{ name }}-x"),
            "not valid YAML",
        ),
        (
            builtin.replace(
                "{{ unhealthy_pod_eviction_policy }}",
                "{{ unhealthy_policy }}",
            ),
            "undefined",
        ),
    ] {
        std::fs::write(dir.join("pdb.yaml"), broken).unwrap();
        let t = Templates::load(Some(&dir)).unwrap();
        let err = pipeline::analyze(&input, &p, &t, &Default::default())
            .err()
            .expect("a broken template fails")
            .to_string();
        assert!(
            err.contains("template `pdb.yaml`") && err.contains(expect),
            "{err}"
        );
    }
    // Through the binary: exit 2, nothing on stdout.
    let policy_dir = tempdir("templates-policy");
    std::fs::write(
        policy_dir.join("policy.yaml"),
        "tiers: {leaderElected: {standbysReady: true}}\n",
    )
    .unwrap();
    let r = common::helm_ha(
        &[
            "--templates",
            dir.to_str().unwrap(),
            "--policy",
            policy_dir.join("policy.yaml").to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stdout.is_empty() && r.stderr.contains("template `pdb.yaml`"),
        "{}",
        r.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&policy_dir).unwrap();
}

#[test]
fn plane_enterprise_ha_with_karpenter_and_a_storage_class() {
    let input =
        std::fs::read(common::data().join("fixtures/plane-enterprise/plane-enterprise-ha.yaml"))
            .unwrap();
    let p = policy(
        "plane-enterprise",
        "cloud: aws\nstorageClass: {preset: aws-ebs-gp3, name: gp3, default: true, assignToClaims: true}\nkarpenter:\n  enabled: true\n  clusterName: plane-prod\n  zones: [us-east-1a, us-east-1b, us-east-1c]\n",
    );
    let a = run(&input, &p);
    common::golden(&data("plane-enterprise-ha.added.yaml"), &added(&a));
    let kinds: Vec<String> = a
        .added
        .iter()
        .map(|d| format!("{}/{}", d.kind, d.name))
        .collect();
    for want in [
        "PodDisruptionBudget/plane-api-wl-pdb",
        "PodDisruptionBudget/plane-web-wl-pdb",
        "PodDisruptionBudget/plane-worker-wl-pdb",
        "HorizontalPodAutoscaler/plane-api-wl-hpa",
        "HorizontalPodAutoscaler/plane-web-wl-hpa",
        "HorizontalPodAutoscaler/plane-worker-wl-hpa",
        "StorageClass/gp3",
        "EC2NodeClass/plane-default",
        "NodePool/plane-general",
        "NodePool/plane-spot",
    ] {
        assert!(
            kinds.contains(&want.to_string()),
            "{want} missing from {kinds:?}"
        );
    }
    // No PDB, HPA or pool for singletons (monitor, beat-worker) and the migration Job.
    assert!(
        !kinds
            .iter()
            .any(|k| k.contains("monitor") || k.contains("beat") || k.contains("migrat")),
        "{kinds:?}"
    );
    let web = a
        .added
        .iter()
        .find(|d| d.name == "plane-web-wl-hpa")
        .unwrap();
    assert_eq!(web.value["spec"]["minReplicas"], 3);
    assert!(a.findings.iter().any(
        |f| f.rule.code == "HA108" && f.message.contains("minReplicas 2 raised to the floor 3")
    ));
    // Every generated object says who made it.
    for d in &a.added {
        assert_eq!(
            d.value["metadata"]["labels"]["app.kubernetes.io/managed-by"], "helm-ha",
            "{}/{}",
            d.kind, d.name
        );
    }
    let out = validated_and_idempotent(&a, &p);
    let objs = objects(&out);
    let worker = &find(&objs, "Deployment", "plane-worker-wl")["spec"]["template"]["spec"];
    assert_eq!(
        worker["nodeSelector"]["karpenter.sh/nodepool"],
        "plane-spot"
    );
    // The monitor's claim names gp2 already: left alone.
    assert_eq!(
        find(&objs, "StatefulSet", "plane-monitor-wl")["spec"]["volumeClaimTemplates"][0]["spec"]
            ["storageClassName"],
        "gp2"
    );
    assert!(
        a.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
            == 0
    );
    assert!(a
        .findings
        .iter()
        .any(|f| matches!(f.fix, Some(Fix::Add(_)))));
}
