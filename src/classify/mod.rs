//! Sorting workloads into tiers. A workload is scaled only on evidence that a second copy is
//! safe, and every decision carries the rendered facts it rests on (`--explain` prints them).
//!
//! The order of the questions is the order of trust: what the user said (a policy entry, a
//! `helm-ha.io/*` annotation), what makes the question moot (a hook, a DaemonSet, a component
//! turned off), what holds state, what elects a leader, what the catalogue of well-known apps
//! knows, what the chart itself shows (two or more copies, an autoscaler), and last the guesses
//! (a controller's RBAC, a scheduler-like name), which may keep a count but never refuse a stream.

mod catalogue;
mod facts;
mod pod;

pub use facts::{grants, Facts};
pub use pod::{flag, image_name, truthy, words, Pod};

use crate::policy::{glob, Policy, Tier};
use crate::workload::{Kind, Workload};
use crate::yaml::Json;

/// Annotation prefix of the per-workload steering a chart can set through its
/// `podAnnotations`-style values.
pub const ANNOTATION_PREFIX: &str = "helm-ha.io/";
pub const TIER_ANNOTATION: &str = "helm-ha.io/tier";
pub const REPLICAS_ANNOTATION: &str = "helm-ha.io/replicas";
pub const SKIP_ANNOTATION: &str = "helm-ha.io/skip";

/// A workload's tier and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub tier: Tier,
    /// The rendered facts the tier rests on, in one line.
    pub why: String,
    /// The policy's key for this service, when it names it.
    pub policy_key: Option<String>,
    /// The user said it (a policy entry or an annotation), not a heuristic: only such a decision
    /// may refuse a stream.
    pub explicit: bool,
    /// A replica floor from the `helm-ha.io/replicas` annotation.
    pub floor: Option<u32>,
    /// Copies the chart runs: the larger of `spec.replicas` (absent: 1) and an autoscaler's
    /// minimum.
    pub copies: u32,
    /// The autoscaler over it (`Kind/name`), if any.
    pub autoscaler: Option<String>,
    /// The ReadWriteOnce claim its pods mount, if any.
    pub rwo_claim: Option<String>,
    /// Steering annotations that could not be used, each with the reason; `true` where the
    /// annotation is wrong (a bad value, a contradiction), which refuses the stream.
    pub unused_steering: Vec<(bool, String)>,
}

impl Decision {
    /// The why, with the evidence it scaled on named as such.
    pub fn evidence(&self) -> &str {
        &self.why
    }
}

/// Everything a decision looks at beyond the workload's own object.
pub struct Inputs<'p> {
    pub policy: &'p Policy,
    pub facts: &'p Facts,
}

pub fn classify(w: &Workload, obj: &Json<'_>, inputs: &Inputs<'_>) -> Decision {
    let policy = inputs.policy;
    let named = policy.service(&w.service);
    let spec_replicas = obj.at("spec.replicas").and_then(Json::as_i64);
    let ns = inputs.facts.landing(w.namespace.as_deref());
    let autoscaler = inputs.facts.autoscaler(w.kind.as_str(), &ns, &w.name);
    let copies = (spec_replicas.unwrap_or(1).max(0) as u32).max(autoscaler.map_or(0, |a| a.1));
    let steering = Steering::of(w, obj);
    let mut d = Decision {
        tier: Tier::Skip,
        why: String::new(),
        policy_key: named.map(|(k, _)| k.to_string()),
        explicit: false,
        floor: None,
        copies,
        autoscaler: autoscaler.map(|a| a.0.clone()),
        rwo_claim: None,
        unused_steering: steering.problems.clone(),
    };
    let (tier, why, explicit) = decide(w, obj, inputs, &steering, &mut d, spec_replicas);
    // An annotation the decision did not rest on (a hook, a DaemonSet, a policy entry won).
    let used = |shown: &str| why.contains(shown);
    for shown in [
        steering.tier.as_ref().map(|t| &t.1),
        steering.replicas.as_ref().map(|r| &r.1),
    ]
    .into_iter()
    .flatten()
    {
        let contradicted = d
            .unused_steering
            .iter()
            .any(|(_, p)| p.starts_with(shown.as_str()));
        if !used(shown) && d.floor.is_none() && !contradicted {
            d.unused_steering
                .push((false, format!("{shown}: not used, since {why}")));
        }
    }
    d.tier = tier;
    d.explicit = explicit;
    d.why = why;
    if named.is_none() && !explicit && policy.profile.as_deref() != Some("generic") {
        d.why += &format!(
            " (service `{}` is not named by profile {}: generic rules)",
            w.service,
            policy.profile.as_deref().unwrap_or("?")
        );
    }
    d
}

/// The `helm-ha.io/*` annotations on a workload or its pod template.
struct Steering {
    tier: Option<(Tier, String)>,
    replicas: Option<(u32, String)>,
    skip: Option<String>,
    problems: Vec<(bool, String)>,
}

impl Steering {
    fn of(w: &Workload, obj: &Json<'_>) -> Steering {
        let mut s = Steering {
            tier: None,
            replicas: None,
            skip: None,
            problems: Vec::new(),
        };
        let template = format!("{}.metadata.annotations", w.template_path());
        let places = [
            ("metadata.annotations", "the workload"),
            (template.as_str(), "its pod template"),
        ];
        for (path, place) in places {
            for (key, value) in obj.at(path).and_then(Json::as_object).into_iter().flatten() {
                let key = key.as_str();
                if !key.starts_with(ANNOTATION_PREFIX) {
                    continue;
                }
                let shown = format!("annotation `{key}: {}` on {place}", value_text(value));
                let text = value.as_str().unwrap_or_default();
                match key {
                    TIER_ANNOTATION => match Tier::parse(text) {
                        Some(t) => s.tier = Some((t, shown)),
                        None => s.problems.push((true, format!("{shown}: not a tier (use stateless, leader-elected, singleton, stateful or skip)"))),
                    },
                    REPLICAS_ANNOTATION => match text.parse::<u32>() {
                        Ok(n) if n >= 1 => s.replicas = Some((n, shown)),
                        _ => s.problems.push((true, format!("{shown}: not a replica count (a quoted whole number of at least 1, e.g. \"3\")"))),
                    },
                    SKIP_ANNOTATION => match text {
                        "true" => s.skip = Some(shown),
                        "false" => {}
                        _ => s.problems.push((true, format!("{shown}: use \"true\" or \"false\""))),
                    },
                    _ => s.problems.push((false, format!("{shown}: unknown (helm-ha reads {TIER_ANNOTATION}, {REPLICAS_ANNOTATION} and {SKIP_ANNOTATION})"))),
                }
            }
        }
        s
    }
}

fn value_text(v: &Json<'_>) -> String {
    match v {
        Json::String(s) => format!("\"{}\"", s.as_str()),
        other => other.to_serde().to_string(),
    }
}

/// The tier, why, and whether the user said so.
fn decide(
    w: &Workload,
    obj: &Json<'_>,
    inputs: &Inputs<'_>,
    steering: &Steering,
    d: &mut Decision,
    spec_replicas: Option<i64>,
) -> (Tier, String, bool) {
    let policy = inputs.policy;
    if let Some(hook) = &w.hook {
        return (
            Tier::Skip,
            format!("Helm hook (`helm.sh/hook: {hook}`): hooks pass through untouched"),
            false,
        );
    }
    if policy.excluded(&w.service, &w.name) {
        return (
            Tier::Skip,
            "excluded by the policy's `exclude` list".into(),
            true,
        );
    }
    if let Some(shown) = &steering.skip {
        return (Tier::Skip, format!("{shown}: left alone"), true);
    }
    if w.kind == Kind::DaemonSet {
        return (
            Tier::Skip,
            "DaemonSet: already one pod per node; nothing to scale or spread".into(),
            false,
        );
    }
    if let Some((key, tier)) = policy
        .service(&w.service)
        .and_then(|(k, s)| Some((k, s.tier?)))
    {
        if let Some((n, _)) = &steering.replicas {
            d.floor = Some(*n);
        }
        return (
            tier,
            format!("policy `services.{key}` says {}", tier.as_str()),
            true,
        );
    }
    if let Some((tier, shown)) = &steering.tier {
        if let Some((n, r_shown)) = &steering.replicas {
            if *n > 1 && matches!(tier, Tier::Singleton | Tier::Stateful | Tier::Skip) {
                d.unused_steering.push((
                    true,
                    format!(
                        "{r_shown}: contradicts {shown} (a {} workload keeps its count)",
                        tier.as_str()
                    ),
                ));
            } else {
                d.floor = Some(*n);
            }
        }
        return (*tier, shown.clone(), true);
    }
    if let Some((n, shown)) = &steering.replicas {
        d.floor = Some(*n);
        return (
            Tier::Stateless,
            format!("{shown}: the chart asks for {n} copies"),
            true,
        );
    }
    let (tier, why) = evidence(w, obj, inputs, d, spec_replicas);
    (tier, why, false)
}

/// The tier the rendered stream shows, and the facts that show it.
fn evidence(
    w: &Workload,
    obj: &Json<'_>,
    inputs: &Inputs<'_>,
    d: &mut Decision,
    spec_replicas: Option<i64>,
) -> (Tier, String) {
    let (policy, facts) = (inputs.policy, inputs.facts);
    let null = Json::Null;
    let pod = Pod {
        spec: w.template_at(obj, "spec").unwrap_or(&null),
        namespace: facts.landing(w.namespace.as_deref()),
    };
    let copies = d.copies;
    let kind = w.kind.as_str();
    if spec_replicas == Some(0) && d.autoscaler.is_none() {
        return (
            Tier::Skip,
            format!(
                "`spec.replicas: 0`: the chart turned {kind}/{} off; left at 0",
                w.name
            ),
        );
    }
    if w.kind.runs_to_completion() {
        return (
            Tier::Singleton,
            format!("{kind}: runs to completion; two copies must not run at once"),
        );
    }
    if let Some(word) = pod.words().find(|w| zone_scoped(w)) {
        return (Tier::Skip, format!("scoped to one zone by `{word}`: zone-aware replication places it; spreading it across zones would defeat that"));
    }
    // State.
    let router = pod
        .env(facts)
        .into_iter()
        .find(|e| e.name == "MONGODB_SHARDING_MODE" && e.value.as_deref() == Some("mongos"));
    if let Some(image) = pod
        .images()
        .find(|i| router.is_none() && stateful_image(i, &policy.detect.stateful_images))
    {
        return (
            Tier::Stateful,
            format!(
                "image `{}` is a database, broker or search engine; {}",
                image_name(image),
                copies_text(copies, d)
            ),
        );
    }
    if policy
        .detect
        .stateful_images
        .iter()
        .any(|n| n.eq_ignore_ascii_case(&w.service))
    {
        return (
            Tier::Stateful,
            format!(
                "service `{}` is a database, broker or search engine; {}",
                w.service,
                copies_text(copies, d)
            ),
        );
    }
    let claim_templates: Vec<&str> = obj
        .at("spec.volumeClaimTemplates")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.at("metadata.name").and_then(Json::as_str))
        .collect();
    if w.kind == Kind::StatefulSet && !claim_templates.is_empty() {
        let names = claim_templates.join("`, `");
        return (Tier::Stateful, format!("StatefulSet with volumeClaimTemplates `{names}`: each replica keeps state on its own disk; {}", copies_text(copies, d)));
    }
    let claims = pod
        .spec
        .get("volumes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v.at("persistentVolumeClaim.claimName")
                .and_then(Json::as_str)
        });
    for claim in claims {
        match facts.claim_modes(&pod.namespace, claim) {
            Some(modes) if modes.iter().all(|m| m == "ReadWriteMany" || m == "ReadOnlyMany") => {}
            Some(modes) => {
                d.rwo_claim = Some(claim.to_string());
                return (Tier::Stateful, format!("mounts claim `{claim}` ({}): its state is on one disk that one node attaches at a time; {}", modes.join(", "), copies_text(copies, d)));
            }
            None => return (Tier::Skip, format!("mounts claim `{claim}`, which is not in the stream (its access mode is unknown); not scaled")),
        }
    }
    // What the catalogue knows of the app outweighs the general signs below: ingress-nginx
    // holds a Lease only to decide who writes Ingress status, and every copy serves.
    let service = facts.service_selecting(&pod.namespace, &w.pod_labels);
    if let Some(known) = catalogue::lookup(&pod, facts, service) {
        return (known.tier, known.why);
    }
    // Leader election.
    let election = election(&pod, policy, facts);
    if let Some(Election::On(why)) = &election {
        return (
            Tier::LeaderElected,
            format!("{why}: one active copy through a Lease, the others stand by"),
        );
    }
    // Counts the app reads itself.
    if let Some(count) = coupled_count(&pod, facts) {
        let why = format!("{count}: the app reads its replica or shard count from its own settings, which would have to change together with `spec.replicas`; {}", copies_text(copies, d));
        return (
            if copies <= 1 {
                Tier::Singleton
            } else {
                Tier::Skip
            },
            why,
        );
    }
    if let Some(Election::Off(why)) = &election {
        if copies <= 1 {
            return (
                Tier::Singleton,
                format!(
                    "leader election is off ({why}): a second copy would act alongside the first"
                ),
            );
        }
    }
    if copies >= 2 {
        let shown = match &d.autoscaler {
            Some(a) => format!("{a} keeps at least {copies} copies"),
            None => format!("the chart runs {copies} copies (`spec.replicas: {copies}`)"),
        };
        return (
            Tier::Stateless,
            format!("{shown} and nothing in the pod holds state: spread and budget them"),
        );
    }
    // Guesses: they keep the count and explain; they never refuse a stream.
    let writes = |r: &k8s_openapi::api::rbac::v1::PolicyRule| {
        r.verbs.iter().any(|v| v == "watch" || v == "*")
            && r.verbs
                .iter()
                .any(|v| matches!(v.as_str(), "create" | "update" | "patch" | "delete" | "*"))
    };
    if let Some((via, _)) = facts.granted(&pod.namespace, pod.service_account(), writes) {
        return (Tier::Singleton, format!("looks like a controller (its ServiceAccount `{}` may watch and change objects through {via}) and shows no sign of leader election (no flag, no env var, no named Lease it may update): a second copy would act on the same objects", pod.service_account()));
    }
    if let Some(g) = policy
        .detect
        .singleton_names
        .iter()
        .find(|g| glob(g, &w.service))
    {
        return (Tier::Singleton, format!("service name `{}` matches `{g}` (scheduler, beat, migration, coordinator): kept at one copy", w.service));
    }
    if w.kind == Kind::Deployment
        && obj.at("spec.strategy.type").and_then(Json::as_str) == Some("Recreate")
    {
        return (
            Tier::Singleton,
            "`strategy: Recreate`: the chart says two copies must never run at once".into(),
        );
    }
    (Tier::Unverified, format!("{kind} at {copies} replica with no local state found, but nothing shows a second copy is safe (no autoscaler, no leader election, not a known web server behind a Service)"))
}

/// "1 replica", "3 replicas (HorizontalPodAutoscaler/x minimum)".
fn copies_text(copies: u32, d: &Decision) -> String {
    let s = if copies == 1 { "" } else { "s" };
    match &d.autoscaler {
        Some(a) => format!("{copies} replica{s} ({a} minimum); helm-ha keeps the count"),
        None => format!("{copies} replica{s}; helm-ha keeps the count"),
    }
}

enum Election {
    On(String),
    Off(String),
}

/// Is leader election on or off, and what shows it: a command-line flag, an environment
/// variable (literal or from a ConfigMap), or RBAC that lets the pods write a Lease.
fn election(pod: &Pod<'_, '_>, policy: &Policy, facts: &Facts) -> Option<Election> {
    if let Some((word, on)) = pod
        .words()
        .find_map(|w| flag(w, &policy.detect.leader_election_args))
    {
        return Some(if on {
            Election::On(format!("container argument `{word}`"))
        } else {
            Election::Off(format!("`{word}`"))
        });
    }
    let envs = pod.env(facts);
    if let Some(e) = envs.iter().find(|e| mentions_election(&e.name)) {
        match e.value.as_deref() {
            Some(v) if truthy(v) => return Some(Election::On(e.shown.clone())),
            Some(_) => return Some(Election::Off(e.shown.clone())),
            None => {}
        }
    }
    // The election's own Lease, named: a Role that grants everything, or every Lease (as a
    // scaffolded operator's does whether its election flag is on or off), says nothing about
    // whether this workload elects.
    let leases = |r: &k8s_openapi::api::rbac::v1::PolicyRule| {
        let named = |list: &Option<Vec<String>>, want: &str| {
            list.as_deref()
                .unwrap_or_default()
                .iter()
                .any(|x| x == want)
        };
        named(&r.api_groups, "coordination.k8s.io")
            && named(&r.resources, "leases")
            && grants(r, "coordination.k8s.io", "leases", &["update", "patch"])
            && r.resource_names.as_ref().is_some_and(|n| !n.is_empty())
    };
    facts
        .granted(&pod.namespace, pod.service_account(), leases)
        .map(|(via, rule)| {
            let lease = rule
                .resource_names
                .as_deref()
                .unwrap_or_default()
                .join("`, `");
            Election::On(format!(
                "its ServiceAccount `{}` may update the Lease `{lease}` through {via}",
                pod.service_account()
            ))
        })
}

/// `LEADER_ELECT`, `ENABLE_LEADER_ELECTION`, `USE_LEADER_ELECTOR` and the like.
pub fn mentions_election(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '.'], "_");
    n.contains("leader_elect")
}

/// An env var or argument that carries a replica or shard count: `ARGOCD_CONTROLLER_REPLICAS=1`,
/// `--total-shards=3`.
fn coupled_count(pod: &Pod<'_, '_>, facts: &Facts) -> Option<String> {
    let counts = |name: &str| {
        let n = name.to_ascii_uppercase().replace(['-', '.'], "_");
        n.ends_with("REPLICAS")
            || n.ends_with("SHARDS")
            || n.ends_with("REPLICA_COUNT")
            || n.ends_with("SHARD_COUNT")
    };
    let from_env = pod.env(facts).into_iter().find(|e| {
        counts(&e.name)
            && e.value
                .as_deref()
                .is_some_and(|v| v.trim().parse::<u32>().is_ok())
    });
    if let Some(e) = from_env {
        return Some(e.shown);
    }
    pod.words()
        .find(|w| {
            w.split_once('=')
                .is_some_and(|(k, v)| counts(k.trim_start_matches('-')) && v.parse::<u32>().is_ok())
        })
        .map(|w| format!("argument `{w}`"))
}

/// `-ingester.availability-zone=zone-a` and the like: the instance belongs to one zone.
fn zone_scoped(word: &str) -> bool {
    word.split_once('=').is_some_and(|(k, v)| {
        let k = k.to_ascii_lowercase();
        !v.is_empty() && (k.ends_with("availability-zone") || k.ends_with("availability_zone"))
    })
}

fn stateful_image(image: &str, known: &[String]) -> bool {
    let name = image_name(image).to_ascii_lowercase();
    known.iter().any(|k| {
        name == *k
            || name
                .strip_prefix(k.as_str())
                .is_some_and(|r| r.starts_with('-'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    /// The decisions of the generic profile on `objects` (one document each), by `Kind/name`.
    fn decide(objects: &[Json<'static>]) -> Vec<(String, Tier, String)> {
        let stream: String = objects
            .iter()
            .map(|o| format!("---\n{}", crate::yaml::to_yaml(o)))
            .collect();
        let policy = crate::policy::load(Some("generic"), None).unwrap();
        let a = crate::pipeline::analyze(
            stream.as_bytes(),
            &policy,
            &crate::templates::Templates::default(),
            &crate::pipeline::Names::default(),
        )
        .unwrap();
        a.workloads
            .iter()
            .map(|(w, d)| (w.describe(), d.tier, d.why.clone()))
            .collect()
    }

    fn deployment(name: &str, replicas: u32, pod: Json<'static>) -> Json<'static> {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "ns"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}})
    }

    fn service(name: &str) -> Json<'static> {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "ns"},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}})
    }

    #[test]
    fn an_election_switch_read_from_a_config_map_decides() {
        let pod = |cm: &str| {
            json!({"containers": [{"name": "c", "image": "quay.io/argoproj/argocd:v3",
                "args": ["/usr/local/bin/argocd-applicationset-controller"],
                "env": [{"name": "ARGOCD_APPLICATIONSET_CONTROLLER_ENABLE_LEADER_ELECTION",
                    "valueFrom": {"configMapKeyRef": {"name": cm, "key": "applicationsetcontroller.enable.leader.election", "optional": true}}}]}]})
        };
        let params = |v: &str| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "params", "namespace": "ns"},
                "data": {"applicationsetcontroller.enable.leader.election": v}})
        };
        let off = decide(&[deployment("appset", 1, pod("params")), params("false")]);
        assert_eq!(off[0].1, Tier::Singleton, "{off:?}");
        assert!(off[0].2.contains("from ConfigMap params key `applicationsetcontroller.enable.leader.election`: false"), "{}", off[0].2);
        let on = decide(&[deployment("appset", 1, pod("params")), params("true")]);
        assert_eq!(on[0].1, Tier::LeaderElected, "{on:?}");
    }

    #[test]
    fn only_a_grant_on_the_elections_own_lease_shows_election() {
        let rbac = |rule: Json<'static>| {
            vec![
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "ctl", "namespace": "ns"}, "rules": [rule]}),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "ctl", "namespace": "ns"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "ctl"},
                    "subjects": [{"kind": "ServiceAccount", "name": "ctl", "namespace": "ns"}]}),
            ]
        };
        let with = |rule: Json<'static>| {
            let mut objects = vec![deployment(
                "ctl",
                1,
                json!({"serviceAccountName": "ctl", "containers": [{"name": "m", "image": "example/ctl:1"}]}),
            )];
            objects.extend(rbac(rule));
            decide(&objects)
        };
        let named = with(
            json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"], "resourceNames": ["ctl-leader"]}),
        );
        assert_eq!(named[0].1, Tier::LeaderElected, "{named:?}");
        assert!(named[0].2.starts_with("its ServiceAccount `ctl` may update the Lease `ctl-leader` through Role/ctl (bound by RoleBinding/ctl)"), "{}", named[0].2);
        // Every Lease, as a scaffolded operator's RBAC grants whether its election is on or off.
        let blanket = with(
            json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch", "create", "update", "patch"]}),
        );
        assert_ne!(blanket[0].1, Tier::LeaderElected, "{blanket:?}");
    }

    #[test]
    fn a_replica_count_the_app_reads_itself_keeps_the_count() {
        let pod = json!({"containers": [{"name": "c", "image": "quay.io/argoproj/argocd:v3",
            "env": [{"name": "ARGOCD_CONTROLLER_REPLICAS", "value": "1"}]}]});
        let sts = {
            let mut d = deployment("application-controller", 1, pod);
            d["kind"] = json!("StatefulSet");
            d
        };
        let got = decide(&[sts]);
        assert_eq!(got[0].1, Tier::Singleton);
        assert!(
            got[0].2.starts_with(
                "env ARGOCD_CONTROLLER_REPLICAS=1: the app reads its replica or shard count"
            ),
            "{}",
            got[0].2
        );
    }

    #[test]
    fn catalogue_verdicts_rest_on_the_apps_settings() {
        let grafana = |ini: &str| {
            vec![
                deployment(
                    "grafana",
                    1,
                    json!({"containers": [{"name": "g", "image": "docker.io/grafana/grafana:12.1"}],
                    "volumes": [{"name": "config", "configMap": {"name": "grafana"}}]}),
                ),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "grafana", "namespace": "ns"}, "data": {"grafana.ini": ini}}),
                service("grafana"),
            ]
        };
        let sqlite = decide(&grafana("[server]\ndomain = x\n"));
        assert_eq!(sqlite[0].1, Tier::Singleton, "{sqlite:?}");
        let shared = decide(&grafana("[database]\ntype = postgres\nhost = db:5432\n"));
        assert_eq!(shared[0].1, Tier::Stateless, "{shared:?}");
        assert!(
            shared[0]
                .2
                .contains("`[database] type = postgres` in ConfigMap grafana (grafana.ini)"),
            "{}",
            shared[0].2
        );

        let ksm = |args: Json<'static>| {
            deployment(
                "ksm",
                1,
                json!({"containers": [{"name": "k", "image": "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.16.0", "args": args}]}),
            )
        };
        assert_eq!(
            decide(&[ksm(json!(["--port=8080"])), service("ksm")])[0].1,
            Tier::Singleton
        );

        let dex = |storage: &str| {
            use base64::Engine as _;
            let config = base64::engine::general_purpose::STANDARD.encode(format!(
                "issuer: https://dex\nstorage:\n  type: {storage}\n"
            ));
            vec![
                deployment(
                    "dex",
                    1,
                    json!({"containers": [{"name": "d", "image": "ghcr.io/dexidp/dex:v2.43.0"}],
                    "volumes": [{"name": "config", "secret": {"secretName": "dex"}}]}),
                ),
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "dex", "namespace": "ns"}, "data": {"config.yaml": config}}),
            ]
        };
        assert_eq!(decide(&dex("memory"))[0].1, Tier::Singleton);
        assert_eq!(decide(&dex("kubernetes"))[0].1, Tier::Stateless);
    }

    #[test]
    fn what_the_chart_turned_off_or_scoped_to_a_zone_is_left_alone() {
        let off = decide(&[deployment("old", 0, json!({"containers": []}))]);
        assert_eq!(
            (off[0].1, off[0].2.as_str()),
            (
                Tier::Skip,
                "`spec.replicas: 0`: the chart turned Deployment/old off; left at 0"
            )
        );
        let zone = decide(&[deployment(
            "ingester-zone-a",
            1,
            json!({"containers": [{"name": "i", "image": "grafana/loki:3",
            "args": ["-target=ingester", "-ingester.availability-zone=zone-a"]}]}),
        )]);
        assert_eq!(zone[0].1, Tier::Skip, "{zone:?}");
    }

    #[test]
    fn a_name_guess_never_outweighs_the_charts_own_copies() {
        let got = decide(&[
            deployment(
                "query-scheduler",
                2,
                json!({"containers": [{"name": "q", "image": "grafana/loki:3", "args": ["-target=query-scheduler"]}]}),
            ),
            service("query-scheduler"),
        ]);
        assert_eq!(got[0].1, Tier::Stateless, "{got:?}");
        let lone = decide(&[deployment("scheduler", 1, json!({"containers": []}))]);
        assert_eq!(lone[0].1, Tier::Singleton);
    }

    #[test]
    fn steering_annotations_override_evidence() {
        let mut d = deployment("worker", 1, json!({"containers": []}));
        d["spec"]["template"]["metadata"]["annotations"] =
            json!({"helm-ha.io/tier": "leader-elected"});
        assert_eq!(decide(&[d.clone()])[0].1, Tier::LeaderElected);
        d["metadata"]["annotations"] = json!({"helm-ha.io/skip": "true"});
        assert_eq!(decide(&[d])[0].1, Tier::Skip);
    }

    #[test]
    fn stateful_images_match_whole_names_or_dash_suffixes() {
        let known = vec!["redis".to_string(), "postgres".to_string()];
        assert!(stateful_image("redis:7", &known));
        assert!(stateful_image("bitnami/redis-cluster:7", &known));
        assert!(!stateful_image("myorg/redisinsight:1", &known));
        assert!(!stateful_image("makeplane/backend:1", &known));
    }

    #[test]
    fn election_env_names() {
        assert!(mentions_election("AGENT_INJECT_USE_LEADER_ELECTOR"));
        assert!(mentions_election(
            "ARGOCD_APPLICATIONSET_CONTROLLER_ENABLE_LEADER_ELECTION"
        ));
        assert!(!mentions_election("LEADER"));
    }

    #[test]
    fn zone_scoped_arguments() {
        assert!(zone_scoped("-ingester.availability-zone=zone-a"));
        assert!(!zone_scoped("-ingester.availability-zone="));
        assert!(!zone_scoped("--zone-awareness-enabled=true"));
    }
}
