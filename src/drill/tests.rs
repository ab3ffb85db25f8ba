//! Hand-computed placements and one test per drill failure mode, on JSON objects built in place.

use super::cluster::{Cluster, Shape, Taint, ZONE};
use super::drills::{self, fenceposts, Drill};
use super::pods::Json;
use super::pods::{self, Model};
use super::report::{self, Mark};
use super::schedule::State;
use crate::json;
use crate::policy::Policy;
use crate::stream::Doc;

fn model(objects: Vec<Json>) -> Model {
    // JSON is YAML: the parser gives back exactly each value.
    let raws: Vec<String> = objects
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect();
    let docs: Vec<Doc> = raws
        .iter()
        .zip(objects)
        .enumerate()
        .map(|(index, (raw, value))| {
            let parsed = crate::yaml::parse(raw).unwrap();
            assert_eq!(parsed.value, value);
            Doc::new(index, 1, raw, parsed)
        })
        .collect();
    pods::model(
        &docs,
        &Policy::default(),
        Some("ns".into()),
        Some("rel".into()),
    )
}

/// A Deployment `name` whose pods carry `app: name`, with `spec` merged into the pod spec.
fn deploy(name: &str, replicas: u32, spec: Json) -> Json {
    let mut pod = json!({"containers": [{"name": "c", "image": "example/app:1"}]});
    if let (Some(p), Some(extra)) = (pod.as_object_mut(), spec.as_object()) {
        p.extend(extra.clone());
    }
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}
    })
}

fn pdb(name: &str, app: &str, budget: Json) -> Json {
    let mut spec = json!({"selector": {"matchLabels": {"app": app}}});
    spec.as_object_mut()
        .unwrap()
        .extend(budget.as_object().unwrap().clone());
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": "ns"}, "spec": spec})
}

fn cluster(zones: usize, per_zone: usize) -> Cluster {
    Cluster::uniform(zones, per_zone, &Shape::parse("4", "16Gi").unwrap())
}

/// Node names of template `t`'s pods, in creation order ("-" for Pending).
fn placement(s: &State, t: usize) -> Vec<String> {
    s.pods
        .iter()
        .filter(|p| p.template == t)
        .map(|p| p.node.map_or("-".into(), |n| s.nodes[n].name.clone()))
        .collect()
}

fn anti(app: &str, key: &str) -> Json {
    json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": key}]}}})
}

fn spread(key: &str, extra: Json) -> Json {
    let mut c = json!({"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}});
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({"topologySpreadConstraints": [c]})
}

fn requests(cpu: &str) -> Json {
    json!({"containers": [{"name": "c", "image": "example/app:1", "resources": {"requests": {"cpu": cpu}}}]})
}

fn merge(mut a: Json, b: Json) -> Json {
    a.as_object_mut()
        .unwrap()
        .extend(b.as_object().unwrap().clone());
    a
}

// --- scheduling features -------------------------------------------------------------------

#[test]
fn required_anti_affinity_puts_one_pod_per_node_and_leaves_the_rest_pending() {
    let m = model(vec![deploy(
        "web",
        4,
        anti("web", "kubernetes.io/hostname"),
    )]);
    let s = State::new(&m, cluster(3, 1).nodes);
    assert_eq!(placement(&s, 0), ["zone-a-1", "zone-b-1", "zone-c-1", "-"]);
    assert_eq!(
        s.pods[3].pending.as_deref(),
        Some("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules")
    );
}

#[test]
fn existing_pods_anti_affinity_keeps_new_pods_away() {
    // `guard` refuses any `b` pod on its node; `b` itself has no terms, so without the
    // symmetric check its default spreading would put b's second pod next to guard.
    let m = model(vec![
        deploy("guard", 1, anti("b", "kubernetes.io/hostname")),
        deploy("b", 2, json!({})),
    ]);
    let s = State::new(&m, cluster(1, 2).nodes);
    assert_eq!(placement(&s, 0), ["zone-a-1"]);
    assert_eq!(placement(&s, 1), ["zone-a-2", "zone-a-2"]);
    let free = model(vec![
        deploy("guard", 1, json!({})),
        deploy("b", 2, json!({})),
    ]);
    let s = State::new(&free, cluster(1, 2).nodes);
    assert_eq!(
        placement(&s, 1),
        ["zone-a-2", "zone-a-1"],
        "least allocated, then default spreading, alternate nodes"
    );
}

#[test]
fn spread_max_skew_1_over_3_zones() {
    // Pods 1–3 land one per zone (a second pod in a zone would make skew 2); pod 4 may go
    // anywhere (skew 1) and least-allocated picks the empty node of zone-a.
    let m = model(vec![deploy(
        "web",
        4,
        merge(requests("100m"), spread(ZONE, json!({}))),
    )]);
    let s = State::new(&m, cluster(3, 2).nodes);
    assert_eq!(
        placement(&s, 0),
        ["zone-a-1", "zone-b-1", "zone-c-1", "zone-a-2"]
    );
}

#[test]
fn min_domains_treats_the_global_minimum_as_0() {
    // 3 zones < minDomains 4: the minimum counts as 0, so no zone may hold 2 pods.
    let m = model(vec![deploy(
        "web",
        4,
        spread(ZONE, json!({"minDomains": 4})),
    )]);
    let s = State::new(&m, cluster(3, 2).nodes);
    assert_eq!(placement(&s, 0), ["zone-a-1", "zone-b-1", "zone-c-1", "-"]);
    assert!(s.pods[3]
        .pending
        .as_deref()
        .unwrap()
        .contains("6 node(s) didn't match pod topology spread constraints"));
    let without = model(vec![deploy("web", 4, spread(ZONE, json!({})))]);
    assert!(State::new(&without, cluster(3, 2).nodes)
        .pods
        .iter()
        .all(|p| p.node.is_some()));
}

#[test]
fn nodes_without_the_topology_key_are_filtered_out() {
    let m = model(vec![deploy("web", 1, spread("rack", json!({})))]);
    let s = State::new(&m, cluster(1, 2).nodes);
    assert_eq!(s.pods[0].pending.as_deref(), Some("0/2 nodes are available: 2 node(s) didn't match pod topology spread constraints (missing required label)"));
}

#[test]
fn schedule_anyway_spread_is_a_preference() {
    let m = model(vec![deploy(
        "web",
        4,
        spread(ZONE, json!({"whenUnsatisfiable": "ScheduleAnyway"})),
    )]);
    let s = State::new(&m, cluster(2, 1).nodes);
    assert_eq!(
        placement(&s, 0),
        ["zone-a-1", "zone-b-1", "zone-a-1", "zone-b-1"]
    );
}

#[test]
fn node_selector_and_required_node_affinity() {
    let pinned = json!({"nodeSelector": {(ZONE): "zone-b"}});
    let not_a = json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": ZONE, "operator": "NotIn", "values": ["zone-a"]}]}]}}}});
    let m = model(vec![
        deploy("pinned", 2, pinned),
        deploy("elsewhere", 3, not_a),
    ]);
    let s = State::new(&m, cluster(3, 1).nodes);
    assert_eq!(placement(&s, 0), ["zone-b-1", "zone-b-1"]);
    assert_eq!(placement(&s, 1), ["zone-c-1", "zone-b-1", "zone-c-1"]);
}

#[test]
fn taints_keep_out_pods_without_a_matching_toleration() {
    let mut c = cluster(2, 1);
    c.nodes[1]
        .taints
        .push(Taint::parse("dedicated=batch:NoSchedule").unwrap());
    let tolerant = json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}]});
    let m = model(vec![
        deploy("plain", 2, json!({})),
        deploy(
            "batch",
            2,
            merge(tolerant, json!({"nodeSelector": {(ZONE): "zone-b"}})),
        ),
    ]);
    let s = State::new(&m, c.nodes);
    assert_eq!(placement(&s, 0), ["zone-a-1", "zone-a-1"]);
    assert_eq!(placement(&s, 1), ["zone-b-1", "zone-b-1"]);
}

#[test]
fn resources_limit_pods_per_node() {
    let m = model(vec![deploy("web", 4, requests("600m"))]);
    let small = Cluster::uniform(3, 1, &Shape::parse("1", "4Gi").unwrap());
    let s = State::new(&m, small.nodes);
    assert_eq!(placement(&s, 0), ["zone-a-1", "zone-b-1", "zone-c-1", "-"]);
    assert_eq!(
        s.pods[3].pending.as_deref(),
        Some("0/3 nodes are available: 3 Insufficient cpu")
    );
}

#[test]
fn hpa_min_replicas_sets_the_count() {
    let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web", "namespace": "ns"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 3, "maxReplicas": 9}});
    let m = model(vec![deploy("web", 1, json!({})), hpa]);
    assert_eq!(m.templates[0].replicas, 3);
    assert!(m.templates[0].replicas_from.contains("minReplicas"));
}

// --- disruption math -----------------------------------------------------------------------

#[test]
fn pdb_allowed_disruptions_follow_the_disruption_controller() {
    let cases = [
        (json!({"minAvailable": 1}), 3, 2),
        (json!({"minAvailable": 1}), 1, 0),
        (json!({"maxUnavailable": 1}), 3, 1),
        (json!({"minAvailable": "50%"}), 3, 1), // ceil(1.5) = 2 required
        (json!({"maxUnavailable": "50%"}), 3, 2), // ceil(1.5) = 2 may go
        (json!({"minAvailable": "51%"}), 1, 0),
    ];
    for (budget, replicas, allowed) in cases {
        let m = model(vec![
            deploy("web", replicas, json!({})),
            pdb("p", "web", budget.clone()),
        ]);
        let s = State::new(&m, cluster(3, 1).nodes);
        assert_eq!(
            super::disruption::status(&s, &m.pdbs[0]).allowed,
            allowed,
            "{budget} over {replicas}"
        );
    }
}

#[test]
fn fenceposts_round_surge_up_and_unavailable_down() {
    assert_eq!(fenceposts(&json!("25%"), &json!("25%"), 3), Ok((1, 0)));
    assert_eq!(fenceposts(&json!("25%"), &json!("25%"), 4), Ok((1, 1)));
    assert_eq!(
        fenceposts(&json!(0), &json!("10%"), 3),
        Ok((0, 1)),
        "both 0 makes maxUnavailable 1"
    );
    assert_eq!(fenceposts(&json!(0), &json!(1), 3), Ok((0, 1)));
    assert_eq!(
        fenceposts(&json!("1"), &json!(1), 3)
            .unwrap_err()
            .to_string(),
        "invalid value for IntOrString: invalid value \"1\""
    );
}

// --- drill failure modes -------------------------------------------------------------------

#[test]
fn blocking_pdb_makes_the_drain_block_forever() {
    let m = model(vec![
        deploy("web", 1, json!({})),
        pdb("web", "web", json!({"minAvailable": 1})),
    ]);
    let r = super::run(&m, &cluster(3, 2));
    let row = &r.rows[0];
    assert_eq!(row.drain.mark, Mark::Fail);
    assert!(row.drain.reason.contains("blocks forever: PDB web (minAvailable 1) allows 0 disruption(s) (1 healthy, 1 required)"), "{}", row.drain.reason);
    assert!(r.failed);
}

#[test]
fn two_budgets_over_one_pod_block_eviction() {
    let m = model(vec![
        deploy("web", 3, json!({})),
        pdb("a", "web", json!({"maxUnavailable": 1})),
        pdb("b", "web", json!({"maxUnavailable": 1})),
    ]);
    let r = super::run(&m, &cluster(3, 1));
    assert!(
        r.rows[0]
            .drain
            .reason
            .contains("more than one PodDisruptionBudget (a, b)"),
        "{}",
        r.rows[0].drain.reason
    );
}

#[test]
fn hard_anti_affinity_with_nodes_equal_replicas_deadlocks_the_rollout() {
    let m = model(vec![deploy(
        "web",
        3,
        anti("web", "kubernetes.io/hostname"),
    )]);
    let base = State::new(&m, cluster(3, 1).nodes);
    let run = drills::rollout(&base, 0).unwrap();
    let why = run.effects[0].blocked.as_deref().unwrap();
    assert!(why.starts_with("rollout deadlocks: the surge pod stays Pending (0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules)"), "{why}");
    assert_eq!(
        super::run(&m, &cluster(3, 1)).rows[0].rollout.mark,
        Mark::Fail
    );

    // The HA104 fix: replace one pod at a time.
    let mut fixed = deploy("web", 3, anti("web", "kubernetes.io/hostname"));
    fixed["spec"]["strategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}});
    let m = model(vec![fixed]);
    let base = State::new(&m, cluster(3, 1).nodes);
    let run = drills::rollout(&base, 0).unwrap();
    assert_eq!(run.effects[0].blocked, None);
    assert_eq!(run.effects[0].min_ready, 2);
    assert_eq!(base.ready(0), 3);
}

#[test]
fn all_replicas_in_one_zone_go_to_0_when_it_is_lost() {
    let m = model(vec![deploy(
        "web",
        2,
        json!({"nodeSelector": {(ZONE): "zone-a"}}),
    )]);
    let r = super::run(&m, &cluster(3, 2));
    let z = &r.rows[0].zone_loss;
    assert_eq!(z.mark, Mark::Fail);
    assert!(z.reason.starts_with("0 ready when zone-a is lost: all 2 pods are there; 2 pod(s) Pending: 0/6 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 4 node(s) didn't match Pod's node affinity/selector"), "{}", z.reason);
    assert_eq!(r.rows[0].zones, ["zone-a"]);
    assert!(r.failed);
}

#[test]
fn a_taint_without_toleration_leaves_every_pod_pending() {
    let mut c = cluster(2, 1);
    for n in &mut c.nodes {
        n.taints
            .push(Taint::parse("dedicated=gpu:NoSchedule").unwrap());
    }
    let m = model(vec![deploy("web", 2, json!({}))]);
    let r = super::run(&m, &c);
    assert_eq!(r.rows[0].schedule.mark, Mark::Fail);
    assert_eq!(r.rows[0].schedule.reason, "no pod can start: 0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}");
}

#[test]
fn spread_replicas_with_a_budget_pass_every_drill() {
    let soft = spread(ZONE, json!({"whenUnsatisfiable": "ScheduleAnyway"}));
    let m = model(vec![
        deploy("web", 3, soft),
        pdb("web", "web", json!({"maxUnavailable": 1})),
    ]);
    let r = super::run(&m, &cluster(3, 2));
    let row = &r.rows[0];
    assert!(!r.failed, "{}", report::text(&r, false));
    assert_eq!(row.zones, ["zone-a", "zone-b", "zone-c"]);
    assert_eq!(
        row.zone_loss.reason,
        "replicas in 3 zone(s) (zone-a, zone-b, zone-c): ≥2/3 ready when any one is lost"
    );
    assert!(row.drain.reason.contains("evictions allowed while PDB web (maxUnavailable 1) allows 1 disruption(s) (3 healthy, 2 required)"), "{}", row.drain.reason);
    assert_eq!(
        row.rollout.reason,
        "maxSurge 1, maxUnavailable 0: ≥3/3 ready throughout"
    );
}

#[test]
fn do_not_schedule_zone_spread_strands_the_replacement_while_a_zone_is_drained() {
    // Cordoned nodes still count as a domain (nodeTaintsPolicy defaults to Ignore): with zone-a
    // cordoned and empty, the global minimum is 0, so the evicted pod's replacement may not go
    // to zone-b or zone-c (skew 2) and stays Pending until zone-a is uncordoned.
    let m = model(vec![
        deploy("web", 3, spread(ZONE, json!({}))),
        pdb("web", "web", json!({"maxUnavailable": 1})),
    ]);
    let r = super::run(&m, &cluster(3, 2));
    let drain = &r.rows[0].drain;
    assert_eq!(drain.mark, Mark::Warn);
    assert_eq!(drain.reason, "1 pod(s) Pending: 0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) didn't match pod topology spread constraints after draining zone zone-a (node by node)");
    let honor = model(vec![
        deploy("web", 3, spread(ZONE, json!({"nodeTaintsPolicy": "Honor"}))),
        pdb("web", "web", json!({"maxUnavailable": 1})),
    ]);
    assert_eq!(
        super::run(&honor, &cluster(3, 2)).rows[0].drain.mark,
        Mark::Ok,
        "with Honor the cordoned zone is no domain"
    );
}

#[test]
fn recreate_and_single_replica_rollouts_dip_to_0() {
    let mut recreate = deploy("web", 2, json!({}));
    recreate["spec"]["strategy"] = json!({"type": "Recreate"});
    let mut one_at_a_time = deploy("api", 1, json!({}));
    one_at_a_time["spec"]["strategy"] =
        json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}});
    // A Tier-1 service by the chart's word: one copy that must stay up.
    one_at_a_time["spec"]["template"]["metadata"]["annotations"] =
        json!({"helm-ha.io/tier": "stateless"});
    let m = model(vec![recreate, one_at_a_time, deploy("ok", 1, json!({}))]);
    let r = super::run(&m, &cluster(3, 2));
    assert!(
        r.rows[0]
            .rollout
            .reason
            .contains("strategy Recreate stops every pod"),
        "{}",
        r.rows[0].rollout.reason
    );
    assert_eq!(r.rows[1].rollout.mark, Mark::Fail);
    assert_eq!(
        r.rows[2].rollout.mark,
        Mark::Ok,
        "the default surges first: {}",
        r.rows[2].rollout.reason
    );
}

#[test]
fn a_zonal_volume_cannot_follow_its_pod_out_of_a_lost_zone() {
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "ns"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "example/db:1"}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}});
    let m = model(vec![sts]);
    let r = super::run(&m, &cluster(3, 1));
    let row = &r.rows[0];
    assert_eq!(row.tier, "stateful");
    assert_eq!(
        row.zone_loss.mark,
        Mark::Warn,
        "not Tier 1: reported, not failed"
    );
    assert!(
        row.zone_loss
            .reason
            .contains("volume node affinity conflict"),
        "{}",
        row.zone_loss.reason
    );
    assert_eq!(row.rollout.mark, Mark::None);
    assert!(!r.failed);
}

#[test]
fn zone_drain_cordons_the_whole_zone_first() {
    // 2 pods in zone-a on 2 nodes: draining zone-a must not move a pod onto its sibling node.
    let m = model(vec![deploy(
        "web",
        2,
        json!({"nodeSelector": {(ZONE): "zone-a"}}),
    )]);
    let base = State::new(&m, cluster(2, 2).nodes);
    let run = drills::drain(&base, &[0, 1], "zone zone-a".into());
    assert_eq!(run.drill, Drill::Drain);
    assert_eq!(run.effects[0].min_ready, 0);
    assert!(
        run.effects[0]
            .pending
            .as_deref()
            .unwrap()
            .contains("2 node(s) were unschedulable"),
        "{:?}",
        run.effects[0].pending
    );
}

#[test]
fn a_singleton_rolling_update_runs_two_copies_at_once() {
    let mut beat = deploy("beat", 1, json!({}));
    beat["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["celery", "beat"]);
    let policy: Policy =
        serde_json::from_value(serde_json::json!({"detect": {"singletonNames": ["beat"]}}))
            .unwrap();
    let m = {
        let raw = serde_json::to_string(&beat).unwrap();
        let docs = vec![Doc::new(0, 1, &raw, crate::yaml::parse(&raw).unwrap())];
        pods::model(&docs, &policy, Some("ns".into()), None)
    };
    assert_eq!(m.templates[0].tier, crate::policy::Tier::Singleton);
    let r = super::run(&m, &cluster(3, 2));
    assert_eq!(r.rows[0].rollout.mark, Mark::Warn);
    assert_eq!(
        r.rows[0].rollout.reason,
        "2 copies run at once during its rollout: a singleton needs strategy Recreate (HA105)"
    );
    assert!(!r.failed);
}

#[test]
fn pods_that_tolerate_the_cordon_make_a_drain_never_end() {
    let m = model(vec![deploy(
        "web",
        1,
        json!({"tolerations": [{"operator": "Exists"}]}),
    )]);
    let base = State::new(&m, cluster(1, 1).nodes);
    let run = drills::drain(&base, &[0], "node zone-a-1".into());
    assert_eq!(run.effects[0].blocked.as_deref(), Some("drain of zone-a-1 never ends: its pods tolerate node.kubernetes.io/unschedulable and come back"));
}

// --- gaps closed against the upstream tables ---------------------------------------------

#[test]
fn required_pod_affinity_follows_its_target_and_the_first_pod_may_start() {
    let follow = json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": ZONE}]}}});
    let m = model(vec![
        deploy("cache", 1, json!({"nodeSelector": {(ZONE): "zone-b"}})),
        deploy("web", 2, follow.clone()),
    ]);
    let s = State::new(&m, cluster(3, 1).nodes);
    assert_eq!(placement(&s, 1), ["zone-b-1", "zone-b-1"]);
    // Nothing matches and the pod does not select itself: Pending everywhere.
    let alone = model(vec![deploy("web", 1, follow)]);
    let s = State::new(&alone, cluster(2, 1).nodes);
    assert_eq!(
        s.pods[0].pending.as_deref(),
        Some("0/2 nodes are available: 2 node(s) didn't match pod affinity rules")
    );
    // A group with affinity to itself: the first pod starts, the others join it.
    let own = json!({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": ZONE}]}}});
    let m = model(vec![deploy("web", 3, own)]);
    let s = State::new(&m, cluster(3, 1).nodes);
    assert_eq!(placement(&s, 0), ["zone-a-1", "zone-a-1", "zone-a-1"]);
}

#[test]
fn namespace_selectors_read_the_namespace_objects_in_the_stream() {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns", "labels": {"team": "a"}}});
    let guard = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "b"}}, "topologyKey": "kubernetes.io/hostname",
         "namespaceSelector": {"matchLabels": {"team": "a"}}}]}}});
    let m = model(vec![
        ns,
        deploy("guard", 1, guard.clone()),
        deploy("b", 1, json!({})),
    ]);
    assert_eq!(m.namespace_labels("ns").get("team"), Some(&Json::from("a")));
    let s = State::new(&m, cluster(1, 1).nodes);
    assert_eq!(placement(&s, 1), ["-"], "team=a selects namespace ns");
    let without = model(vec![deploy("guard", 1, guard), deploy("b", 1, json!({}))]);
    let s = State::new(&without, cluster(1, 1).nodes);
    assert_eq!(
        placement(&s, 1),
        ["zone-a-1"],
        "no Namespace object, no team label"
    );
}

#[test]
fn sidecars_add_to_the_containers_and_runtime_class_overhead_counts() {
    let rc = json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": "kata"}, "handler": "kata",
        "overhead": {"podFixed": {"cpu": "250m", "memory": "160Mi"}}});
    let spec = json!({
        "runtimeClassName": "kata",
        "initContainers": [
            {"name": "proxy", "image": "x", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
            {"name": "migrate", "image": "x", "resources": {"requests": {"cpu": "1"}}}
        ],
        "containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]
    });
    let m = model(vec![rc, deploy("web", 1, spec)]);
    // max(1 + 0.5 sidecar, 1 init + 0.5 sidecar started before it) + 0.25 overhead.
    assert_eq!(m.templates[0].cpu, 1750);
    assert_eq!(m.templates[0].memory, (1024 + 160) << 20);
}

#[test]
fn host_ports_keep_two_pods_off_one_node() {
    let port = json!({"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]}]});
    let m = model(vec![deploy("edge", 3, port)]);
    let s = State::new(&m, cluster(1, 2).nodes);
    assert_eq!(placement(&s, 0), ["zone-a-1", "zone-a-2", "-"]);
    assert_eq!(
        s.pods[2].pending.as_deref(),
        Some(
            "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports"
        )
    );
}

#[test]
fn strategies_the_api_server_rejects_fail_the_rollout() {
    let with = |ru: Json| {
        let mut d = deploy("web", 2, json!({}));
        d["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": ru});
        d
    };
    for (ru, why) in [
        (
            json!({"maxSurge": 0, "maxUnavailable": 0}),
            "may not be 0 when `maxSurge` is 0",
        ),
        (
            json!({"maxSurge": "0%", "maxUnavailable": 0}),
            "may not be 0 when `maxSurge` is 0",
        ),
        (
            json!({"maxSurge": "1", "maxUnavailable": 0}),
            "a valid percent string must be",
        ),
        (
            json!({"maxSurge": "oops"}),
            "a valid percent string must be",
        ),
        (
            json!({"maxUnavailable": "110%"}),
            "must not be greater than 100%",
        ),
    ] {
        let m = model(vec![with(ru.clone())]);
        let r = super::run(&m, &cluster(3, 1));
        let row = &r.rows[0];
        assert_eq!(row.rollout.mark, Mark::Fail, "{ru}");
        assert!(
            row.rollout.reason.starts_with(
                "invalid Deployment, the API server rejects it: spec.strategy.rollingUpdate."
            ),
            "{ru}: {}",
            row.rollout.reason
        );
        assert!(
            row.rollout.reason.contains(why),
            "{ru}: {}",
            row.rollout.reason
        );
        assert_eq!(row.errors.len(), 1);
        assert!(r.failed);
    }
}

#[test]
fn a_lost_zone_stays_a_spread_domain_and_strands_the_replacement() {
    // The lost zone's nodes stay, NotReady and tainted unreachable: with nodeTaintsPolicy
    // Ignore (the default) zone-a is still a domain with 0 pods, so the replacement may not
    // go to zone-b or zone-c (skew 2) and stays Pending.
    let m = model(vec![deploy("web", 3, spread(ZONE, json!({})))]);
    let r = super::run(&m, &cluster(3, 2));
    let z = &r.rows[0].zone_loss;
    assert_eq!(z.mark, Mark::Warn);
    assert_eq!(z.reason, "1 pod(s) Pending: 0/6 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 4 node(s) didn't match pod topology spread constraints after zone-a is lost");
    let honor = model(vec![deploy(
        "web",
        3,
        spread(ZONE, json!({"nodeTaintsPolicy": "Honor"})),
    )]);
    assert_eq!(
        super::run(&honor, &cluster(3, 2)).rows[0].zone_loss.mark,
        Mark::Ok
    );
}

#[test]
fn a_lost_zone_that_breaks_a_budget_warns_while_it_lasts() {
    // The replacement finds room in another zone, so nothing stays Pending, but while zone-a
    // is lost the budget wants all 3 pods.
    let soft = spread(ZONE, json!({"whenUnsatisfiable": "ScheduleAnyway"}));
    let m = model(vec![
        deploy("web", 3, soft),
        pdb("web", "web", json!({"minAvailable": 3})),
    ]);
    let z = &super::run(&m, &cluster(3, 2)).rows[0].zone_loss;
    assert_eq!(z.mark, Mark::Warn);
    assert_eq!(
        z.reason,
        "2 ready < 3 required by PDB web (minAvailable 3) when zone-a is lost"
    );
}

#[test]
fn not_ready_pods_follow_the_unhealthy_pod_eviction_policy() {
    let build = |policy: Option<&str>| {
        let mut budget = json!({"minAvailable": 2});
        if let Some(p) = policy {
            budget["unhealthyPodEvictionPolicy"] = json!(p);
        }
        model(vec![deploy("web", 3, json!({})), pdb("web", "web", budget)])
    };
    // Two Ready pods meet minAvailable 2: the not-Ready third may go, the Ready ones may not.
    let m = build(None);
    let mut s = State::new(&m, cluster(3, 1).nodes);
    s.pods[0].ready = false;
    let st = super::disruption::status(&s, &m.pdbs[0]);
    assert_eq!((st.healthy, st.desired, st.allowed), (2, 2, 0));
    assert!(super::disruption::evict(&s, 0).is_ok());
    assert!(super::disruption::evict(&s, 1).is_err());
    // Below the budget, IfHealthyBudget keeps even the not-Ready pod; AlwaysAllow lets it go.
    s.pods[1].ready = false;
    assert!(super::disruption::evict(&s, 0).is_err());
    let m = build(Some("AlwaysAllow"));
    let mut s = State::new(&m, cluster(3, 1).nodes);
    s.pods[0].ready = false;
    s.pods[1].ready = false;
    assert!(super::disruption::evict(&s, 0).is_ok());
    assert!(super::disruption::evict(&s, 2).is_err());
    // A drain of the not-Ready pod's node goes through; one of a Ready pod blocks.
    let run = drills::drain(&s, &[0], "node zone-a-1".into());
    assert_eq!(run.effects[0].blocked, None);
    let run = drills::drain(&s, &[2], "node zone-c-1".into());
    assert!(run.effects[0].blocked.is_some());
}
