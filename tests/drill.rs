//! `helm-ha drill` on the plane-enterprise fixture: the raw chart output loses services with a
//! zone; the same stream hardened by `helm-ha --profile plane-enterprise` keeps every Tier-1
//! service up through every drill on 3 zones × 2 nodes, and the report says why.

mod common;

use serde_json::Value;

const TIER1: [&str; 2] = ["stateless", "leader-elected"];

fn fixture() -> Option<Vec<u8>> {
    let dir = common::data();
    let path = dir.join("fixtures/plane-enterprise/plane-enterprise-default.yaml");
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// `helm-ha drill --format json` of `stream`: (exit code, report).
fn drill(stream: &[u8], extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["drill", "--profile", "plane-enterprise", "--format", "json"];
    args.extend_from_slice(extra);
    let run = common::helm_ha(&args, stream);
    let report = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "drill JSON: {e}\nstdout: {}\nstderr: {}",
            run.stdout, run.stderr
        )
    });
    (run.code, report)
}

fn rows(report: &Value) -> &Vec<Value> {
    report["rows"].as_array().expect("rows")
}

fn row<'a>(report: &'a Value, service: &str) -> &'a Value {
    rows(report)
        .iter()
        .find(|r| r["service"] == service)
        .unwrap_or_else(|| panic!("no row for {service}"))
}

fn tier1(report: &Value) -> Vec<&Value> {
    rows(report)
        .iter()
        .filter(|r| TIER1.contains(&r["tier"].as_str().unwrap()))
        .collect()
}

/// Render with `helm-ha --profile plane-enterprise`.
fn harden(raw: &[u8]) -> String {
    let run = common::helm_ha(&["--profile", "plane-enterprise"], raw);
    assert_eq!(run.code, 0, "render failed: {}", run.stderr);
    run.stdout
}

#[test]
fn raw_chart_output_fails_the_zone_loss_drill_because_of_single_replicas() {
    let Some(raw) = fixture() else { return };
    let (code, report) = drill(&raw, &[]);
    assert_eq!(code, 1, "a Tier-1 service reaches 0 ready: exit 1");
    assert_eq!(report["failed"], true);
    let api = row(&report, "api");
    assert_eq!(api["replicas"], 1);
    assert_eq!(api["zone_loss"]["mark"], "fail");
    assert!(
        api["zone_loss"]["reason"]
            .as_str()
            .unwrap()
            .contains("its only pod is there"),
        "{}",
        api["zone_loss"]
    );
    for r in tier1(&report) {
        assert_eq!(r["replicas"], 1, "{}", r["service"]);
        assert_eq!(
            r["zone_loss"]["mark"], "fail",
            "{}: {}",
            r["service"], r["zone_loss"]["reason"]
        );
        assert_eq!(
            r["drain"]["mark"], "fail",
            "{}: {}",
            r["service"], r["drain"]["reason"]
        );
    }
}

/// The same stream after `helm-ha --profile plane-enterprise` — its replica floors, the guide's
/// anti-affinity, one-at-a-time rollouts, and the PDBs and HPAs helm-ha emits — keeps every
/// Tier-1 service up through every drill on 3 zones × 2 nodes.
#[test]
fn hardened_output_passes_every_drill_and_says_why() {
    let Some(raw) = fixture() else { return };
    let hardened = harden(&raw);
    let (code, report) = drill(
        hardened.as_bytes(),
        &["--zones", "3", "--nodes-per-zone", "2"],
    );
    assert_eq!(report["cluster"], "3 zone(s), 6 node(s)");
    let failures: Vec<String> = rows(&report)
        .iter()
        .flat_map(|r| {
            ["schedule", "zone_loss", "drain", "rollout"]
                .map(|c| (r["service"].clone(), c, r[c].clone()))
        })
        .filter(|(_, _, cell)| cell["mark"] == "fail")
        .map(|(s, c, cell)| format!("{s} {c}: {}", cell["reason"]))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(code, 0);
    let t1 = tier1(&report);
    assert!(t1.len() >= 7, "{} Tier-1 rows", t1.len());
    for r in t1 {
        let svc = r["service"].as_str().unwrap();
        let replicas = r["replicas"].as_u64().unwrap();
        // Why zone loss passes: the replicas run in at least two zones.
        assert!(replicas >= 2, "{svc}");
        assert!(
            r["zones"].as_array().unwrap().len() >= 2,
            "{svc}: {}",
            r["zones"]
        );
        assert_eq!(
            r["zone_loss"]["mark"], "ok",
            "{svc}: {}",
            r["zone_loss"]["reason"]
        );
        assert!(
            r["zone_loss"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("replicas in "),
            "{svc}"
        );
        assert_eq!(r["drain"]["mark"], "ok", "{svc}: {}", r["drain"]["reason"]);
        assert_eq!(
            r["rollout"]["mark"], "ok",
            "{svc}: {}",
            r["rollout"]["reason"]
        );
        // Why drains pass: helm-ha's PDB (the guide's minAvailable 1) leaves disruptions to spend.
        let want = format!("evictions allowed while PDB plane-{svc}-wl-pdb (minAvailable 1) allows {} disruption(s) ({replicas} healthy, 1 required)", replicas - 1);
        assert!(
            r["drain"]["reason"].as_str().unwrap().contains(&want),
            "{svc}: {}",
            r["drain"]["reason"]
        );
    }
    // api, web and worker get their count from the HPAs helm-ha emits (minReplicas ≥ floor 3).
    for svc in ["api", "web", "worker"] {
        let r = row(&report, svc);
        assert_eq!(r["replicas"], 3, "{svc}");
        assert!(
            r["replicas_from"].as_str().unwrap().contains("minReplicas"),
            "{svc}: {}",
            r["replicas_from"]
        );
    }
    // The guide's hard per-node anti-affinity comes with HA104's one-at-a-time rollout.
    assert!(
        row(&report, "api")["rollout"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("maxSurge 0, maxUnavailable 1"),
        "{}",
        row(&report, "api")["rollout"]
    );
}

#[test]
fn text_report_has_a_row_per_service_and_no_colour_off_a_tty() {
    let Some(raw) = fixture() else { return };
    let run = common::helm_ha(&["drill", "--profile", "plane-enterprise"], &raw);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("helm-ha drill on 3 zone(s), 6 node(s)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("✗ api zone loss: 0 ready when zone-"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\x1b'), "colour only on a terminal");
}

#[test]
fn cluster_file_pools_with_taints_keep_untolerating_pods_out() {
    let Some(raw) = fixture() else { return };
    let dir = std::env::temp_dir().join(format!("helm-ha-drill-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cluster.yaml");
    std::fs::write(&path, "zones: [zone-a, zone-b]\npools:\n  - name: gpu\n    count: 2\n    taints: [\"nvidia.com/gpu=true:NoSchedule\"]\n").unwrap();
    let (code, report) = drill(&raw, &["--cluster", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(report["cluster"], "2 zone(s), 4 node(s)");
    let api = row(&report, "api");
    assert_eq!(api["schedule"]["mark"], "fail");
    assert!(
        api["schedule"]["reason"]
            .as_str()
            .unwrap()
            .contains("4 node(s) had untolerated taint {nvidia.com/gpu: true}"),
        "{}",
        api["schedule"]
    );
}

/// A Deployment of `replicas` pods with `strategy` and extra pod spec fields, as a stream.
fn deployment(strategy: &str, pod_spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec:\n  replicas: 3\n  selector: {{matchLabels: {{app: web}}}}\n  strategy: {strategy}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: web, image: example/web:1}}]\n{pod_spec}"
    )
}

#[test]
fn a_strategy_the_api_server_rejects_fails_the_rollout_with_its_error() {
    let stream = deployment(
        "{type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}",
        "",
    );
    let (code, report) = drill(stream.as_bytes(), &[]);
    assert_eq!(code, 1, "{report}");
    let web = row(&report, "web");
    assert_eq!(web["rollout"]["mark"], "fail");
    assert_eq!(web["rollout"]["reason"], "invalid Deployment, the API server rejects it: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0");
    assert_eq!(web["errors"][0], "invalid Deployment: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0");
    let (_, report) = drill(
        deployment("{rollingUpdate: {maxSurge: \"1\"}}", "").as_bytes(),
        &[],
    );
    assert!(
        row(&report, "web")["rollout"]["reason"]
            .as_str()
            .unwrap()
            .contains("spec.strategy.rollingUpdate.maxSurge: Invalid value: \"1\": a valid percent string must be a numeric string followed by an ending '%'"),
        "{}",
        row(&report, "web")["rollout"]
    );
}

#[test]
fn a_lost_zone_stays_a_spread_domain_so_a_hard_zone_spread_leaves_the_replacement_pending() {
    let spread = "      topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]\n";
    let (code, report) = drill(deployment("{}", spread).as_bytes(), &[]);
    assert_eq!(code, 0, "two zones keep pods: degraded, not failed");
    let zone_loss = &row(&report, "web")["zone_loss"];
    assert_eq!(zone_loss["mark"], "warn");
    assert_eq!(zone_loss["reason"], "1 pod(s) Pending: 0/6 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 4 node(s) didn't match pod topology spread constraints after zone-a is lost");
}
