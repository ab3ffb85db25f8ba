//! What the stream asks the cluster to run: every workload as a pod template with the scheduling
//! terms kube-scheduler reads, its replica count, its rollout strategy and the PDBs over it.

use super::quantity;
use crate::classify::{self, Decision};
use crate::policy::{IntOrPercent, Policy, Tier};
use crate::stream::Doc;
use crate::workload::{self, Kind, Release, Workload};
use crate::yaml::Lookup as _;
use crate::yaml::Map;
use std::collections::BTreeMap;

/// The drill keeps what it reads from the stream (selectors, strategies) as owned values: it
/// copies the stream's meaning once, outside any hot path.
pub type Json = crate::yaml::Json<'static>;
pub type Labels = Map<'static>;

/// A pod-affinity term: pods matching `selector` in `namespaces`, within `topology_key`.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub selector: Json,
    pub topology_key: String,
    pub namespaces: Namespaces,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Namespaces {
    /// Neither `namespaces` nor `namespaceSelector`: the pod's own namespace.
    Own,
    /// A list, plus a namespace selector (evaluated over `kubernetes.io/metadata.name`).
    Some(Vec<String>, Option<Json>),
}

impl Term {
    fn parse(t: &Json) -> Option<Term> {
        let topology_key = t
            .get("topologyKey")
            .and_then(Json::as_str)
            .filter(|k| !k.is_empty())?
            .to_string();
        let selector = t.get("labelSelector").cloned().unwrap_or(Json::Null);
        let list: Vec<String> = strings(t.get("namespaces"));
        let ns_selector = t
            .get("namespaceSelector")
            .filter(|s| s.is_object())
            .cloned();
        let namespaces = if list.is_empty() && ns_selector.is_none() {
            Namespaces::Own
        } else {
            Namespaces::Some(list, ns_selector)
        };
        Some(Term {
            selector,
            topology_key,
            namespaces,
        })
    }

    /// Does the term (of a pod in `own_ns`) select a pod in `ns` labelled `labels`?
    pub fn selects(&self, own_ns: &str, ns: &str, labels: &Labels) -> bool {
        let ns_ok = match &self.namespaces {
            Namespaces::Own => ns == own_ns,
            Namespaces::Some(list, sel) => {
                let mut ns_labels = Labels::new();
                ns_labels.insert("kubernetes.io/metadata.name", Json::from(ns.to_string()));
                list.iter().any(|n| n == ns)
                    || sel
                        .as_ref()
                        .is_some_and(|s| crate::selector::matches(s, &ns_labels))
            }
        };
        ns_ok && crate::selector::matches(&self.selector, labels)
    }
}

/// A topology spread constraint.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub max_skew: u32,
    pub topology_key: String,
    /// `whenUnsatisfiable: DoNotSchedule` (the default).
    pub hard: bool,
    pub selector: Json,
    pub match_label_keys: Vec<String>,
    pub min_domains: Option<u32>,
    /// `nodeAffinityPolicy: Honor` (the default): only nodes the pod may use are domains.
    pub honor_affinity: bool,
    /// `nodeTaintsPolicy: Honor` (default Ignore): only nodes whose taints it tolerates are domains.
    pub honor_taints: bool,
}

impl Constraint {
    fn parse(c: &Json) -> Option<Constraint> {
        Some(Constraint {
            max_skew: c
                .get("maxSkew")
                .and_then(Json::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .unwrap_or(1),
            topology_key: c
                .get("topologyKey")
                .and_then(Json::as_str)
                .filter(|k| !k.is_empty())?
                .to_string(),
            hard: c.get("whenUnsatisfiable").and_then(Json::as_str) != Some("ScheduleAnyway"),
            selector: c.get("labelSelector").cloned().unwrap_or(Json::Null),
            match_label_keys: strings(c.get("matchLabelKeys")),
            min_domains: c
                .get("minDomains")
                .and_then(Json::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            honor_affinity: c.get("nodeAffinityPolicy").and_then(Json::as_str) != Some("Ignore"),
            honor_taints: c.get("nodeTaintsPolicy").and_then(Json::as_str) == Some("Honor"),
        })
    }

    /// The selector with `matchLabelKeys` folded in for a pod labelled `labels` (keys the pod
    /// lacks are ignored), as the API server does since KEP-3243.
    pub fn selector_for(&self, labels: &Labels) -> Json {
        let mut sel = self.selector.clone();
        let extra: Vec<Json> = self
            .match_label_keys
            .iter()
            .filter_map(|k| {
                labels
                    .get(k)
                    .and_then(Json::as_str)
                    .map(|v| crate::json!({"key": k, "operator": "In", "values": [v]}))
            })
            .collect();
        if let (false, Some(obj)) = (extra.is_empty(), sel.as_object_mut()) {
            let exprs = obj.entry_or_insert_with("matchExpressions", || Json::Array(Vec::new()));
            if let Some(list) = exprs.as_array_mut() {
                list.extend(extra);
            }
        }
        sel
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Toleration {
    pub key: String,
    /// `Exists` (true) or `Equal`.
    pub exists: bool,
    pub value: String,
    /// Empty: every effect.
    pub effect: String,
}

impl Toleration {
    /// `v1helper.TolerationsTolerateTaint`.
    pub fn tolerates(&self, taint: &super::cluster::Taint) -> bool {
        if !self.effect.is_empty() && self.effect != taint.effect {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        // An empty key with Exists tolerates everything.
        self.exists || self.value == taint.value
    }
}

/// One node selector requirement of required node affinity.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
    /// `matchFields` (only `metadata.name` exists) rather than `matchExpressions`.
    pub field: bool,
}

impl Requirement {
    pub fn matches(&self, node: &super::cluster::Node) -> bool {
        let value = if self.field {
            (self.key == "metadata.name").then_some(node.name.as_str())
        } else {
            node.labels.get(&self.key).map(String::as_str)
        };
        let number = |s: &str| s.parse::<i64>().ok();
        match (self.operator.as_str(), value) {
            ("In", Some(v)) => self.values.iter().any(|x| x == v),
            ("NotIn", Some(v)) => !self.values.iter().any(|x| x == v),
            ("NotIn", None) | ("DoesNotExist", None) | ("Exists", Some(_)) => true,
            ("Gt", Some(v)) => {
                matches!((number(v), self.values.first().and_then(|x| number(x))), (Some(a), Some(b)) if a > b)
            }
            ("Lt", Some(v)) => {
                matches!((number(v), self.values.first().and_then(|x| number(x))), (Some(a), Some(b)) if a < b)
            }
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    /// `maxSurge`, `maxUnavailable` as written (defaults 25%).
    Rolling(Json, Json),
    Recreate,
    /// StatefulSets, ReplicaSets: not simulated by the rollout drill.
    Other,
}

/// One workload's pods.
#[derive(Clone, Debug)]
pub struct Template {
    pub service: String,
    /// `Kind/name`.
    pub workload: String,
    pub kind: Kind,
    pub tier: Tier,
    pub namespace: String,
    pub replicas: u32,
    /// Where the count comes from, for the report.
    pub replicas_from: String,
    pub labels: Labels,
    pub cpu: u64,
    pub memory: u64,
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity: any term (OR) whose requirements all hold (AND).
    pub node_affinity: Option<Vec<Vec<Requirement>>>,
    pub tolerations: Vec<Toleration>,
    pub anti_required: Vec<Term>,
    pub anti_preferred: Vec<(i64, Term)>,
    pub spread: Vec<Constraint>,
    /// Each pod keeps a ReadWriteOnce volume that binds to the zone it first runs in.
    pub zonal_volume: bool,
    pub strategy: Strategy,
}

impl Template {
    /// Tier 1: services that must never reach 0 ready.
    pub fn must_stay_up(&self) -> bool {
        matches!(self.tier, Tier::Stateless | Tier::LeaderElected)
    }
}

/// A PodDisruptionBudget.
#[derive(Clone, Debug)]
pub struct Pdb {
    pub name: String,
    pub namespace: String,
    pub selector: Json,
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
}

impl Pdb {
    pub fn selects(&self, ns: &str, labels: &Labels) -> bool {
        self.namespace == ns && crate::selector::matches(&self.selector, labels)
    }

    pub fn describe(&self) -> String {
        let rule = match (&self.min_available, &self.max_unavailable) {
            (_, Some(m)) => format!("maxUnavailable {}", show(m)),
            (Some(m), None) => format!("minAvailable {}", show(m)),
            (None, None) => "no budget".into(),
        };
        format!("PDB {} ({rule})", self.name)
    }
}

fn show(v: &IntOrPercent) -> String {
    match v {
        IntOrPercent::Int(n) => n.to_string(),
        IntOrPercent::Percent(p) => p.clone(),
    }
}

/// Everything the drills need from the stream.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub templates: Vec<Template>,
    pub pdbs: Vec<Pdb>,
    /// Workloads not simulated and why (DaemonSets, Jobs, hooks).
    pub skipped: Vec<String>,
}

/// Build the model from a parsed stream.
pub fn model(
    docs: &[Doc<'_>],
    policy: &Policy,
    namespace: Option<String>,
    release: Option<String>,
) -> Model {
    let release = Release::infer(docs, namespace, release);
    let default_ns = release
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let values: Vec<Json> = docs.iter().map(|d| d.value().to_owned_value()).collect();
    let objects: Vec<&Json> = values
        .iter()
        .flat_map(|v| workload::objects(v).map(|(_, o)| o))
        .collect();
    let facts = classify::Facts::of(
        &values.iter().collect::<Vec<_>>(),
        release.namespace.as_deref(),
    );
    let mut model = Model::default();
    for w in workload::find(&values, &policy.service_labels, &release) {
        let obj = w.object(&values[w.doc]);
        let inputs = classify::Inputs {
            policy,
            facts: &facts,
        };
        let decision = classify::classify(&w, obj, &inputs);
        if let Some(why) = skip_reason(&w) {
            model.skipped.push(format!("{} ({why})", w.describe()));
            continue;
        }
        model.templates.push(template(
            &w,
            obj,
            &decision,
            &objects,
            &facts,
            &default_ns,
            release.namespace.as_deref(),
        ));
    }
    for o in &objects {
        if o.get("kind").and_then(Json::as_str) == Some("PodDisruptionBudget") {
            model.pdbs.push(pdb(o, &default_ns));
        }
    }
    model
}

fn skip_reason(w: &Workload) -> Option<&'static str> {
    if w.hook.is_some() {
        return Some("Helm hook");
    }
    match w.kind {
        Kind::DaemonSet => Some("DaemonSet: one pod per node follows the nodes"),
        Kind::Job | Kind::CronJob => Some("runs to completion"),
        _ => None,
    }
}

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_string)
        .collect()
}

fn int_or_percent(v: Option<&Json>) -> Option<IntOrPercent> {
    match v? {
        Json::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(IntOrPercent::Int),
        Json::String(s) if s.ends_with('%') => Some(IntOrPercent::Percent(s.to_string())),
        Json::String(s) => s.parse().ok().map(IntOrPercent::Int),
        _ => None,
    }
}

pub fn pdb(o: &Json, default_ns: &str) -> Pdb {
    let null = Json::Null;
    let spec = o.get("spec").unwrap_or(&null);
    Pdb {
        name: o
            .at("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
        namespace: o
            .at("/metadata/namespace")
            .and_then(Json::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(default_ns)
            .to_string(),
        selector: spec.get("selector").cloned().unwrap_or(Json::Null),
        min_available: int_or_percent(spec.get("minAvailable")),
        max_unavailable: int_or_percent(spec.get("maxUnavailable")),
    }
}

/// The pod template of workload `w` (object `obj`).
pub fn template(
    w: &Workload,
    obj: &Json,
    d: &Decision,
    all: &[&Json],
    facts: &classify::Facts,
    default_ns: &str,
    release_ns: Option<&str>,
) -> Template {
    let null = Json::Null;
    let tpl = workload::at(obj, w.template_path()).unwrap_or(&null);
    let spec = tpl.get("spec").unwrap_or(&null);
    let list = |p: &str| spec.at(p).and_then(Json::as_array).into_iter().flatten();
    let (replicas, replicas_from) = replicas(w, obj, all, release_ns);
    let (cpu, memory) = requests(spec);
    let node_affinity = spec.at("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms").and_then(Json::as_array).map(|terms| {
        terms
            .iter()
            .map(|t| {
                let reqs = |k: &str, field: bool| {
                    t.get(k).and_then(Json::as_array).into_iter().flatten().map(move |r| Requirement {
                        key: r.get("key").and_then(Json::as_str).unwrap_or("").to_string(),
                        operator: r.get("operator").and_then(Json::as_str).unwrap_or("").to_string(),
                        values: strings(r.get("values")),
                        field,
                    })
                };
                reqs("matchExpressions", false).chain(reqs("matchFields", true)).collect()
            })
            .collect()
    });
    let volumes_zonal = list("/volumes")
        .filter_map(|v| {
            v.at("/persistentVolumeClaim/claimName")
                .and_then(Json::as_str)
        })
        .any(|c| {
            facts
                .claim_modes(&facts.landing(w.namespace.as_deref()), c)
                .is_some_and(|modes| {
                    modes
                        .iter()
                        .any(|m| m == "ReadWriteOnce" || m == "ReadWriteOncePod")
                })
        });
    let claim_templates = obj
        .at("/spec/volumeClaimTemplates")
        .and_then(Json::as_array)
        .is_some_and(|v| !v.is_empty());
    let strategy = match w.kind {
        Kind::Deployment => match obj.at("/spec/strategy/type").and_then(Json::as_str) {
            Some("Recreate") => Strategy::Recreate,
            _ => {
                let ru = obj.at("/spec/strategy/rollingUpdate");
                let get = |k: &str| {
                    ru.and_then(|r| r.get(k))
                        .filter(|v| !v.is_null())
                        .cloned()
                        .unwrap_or(Json::from("25%"))
                };
                Strategy::Rolling(get("maxSurge"), get("maxUnavailable"))
            }
        },
        _ => Strategy::Other,
    };
    Template {
        service: w.service.clone(),
        workload: w.describe(),
        kind: w.kind,
        tier: d.tier,
        namespace: w
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| default_ns.to_string()),
        replicas,
        replicas_from,
        labels: tpl
            .at("/metadata/labels")
            .and_then(Json::as_object)
            .cloned()
            .unwrap_or_default(),
        cpu,
        memory,
        node_selector: spec
            .get("nodeSelector")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        node_affinity,
        tolerations: list("/tolerations")
            .map(|t| Toleration {
                key: t
                    .get("key")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string(),
                exists: t.get("operator").and_then(Json::as_str) == Some("Exists"),
                value: t
                    .get("value")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string(),
                effect: t
                    .get("effect")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
            .collect(),
        anti_required: list(
            "/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution",
        )
        .filter_map(Term::parse)
        .collect(),
        anti_preferred: list(
            "/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution",
        )
        .filter_map(|p| {
            Some((
                p.get("weight").and_then(Json::as_i64).unwrap_or(1),
                Term::parse(p.get("podAffinityTerm")?)?,
            ))
        })
        .collect(),
        spread: list("/topologySpreadConstraints")
            .filter_map(Constraint::parse)
            .collect(),
        zonal_volume: volumes_zonal || (w.kind == Kind::StatefulSet && claim_templates),
        strategy,
    }
}

/// `spec.replicas` (absent = 1), or the `minReplicas` of an HPA (KEDA: `minReplicaCount`) that
/// targets the workload.
fn replicas(w: &Workload, obj: &Json, all: &[&Json], release_ns: Option<&str>) -> (u32, String) {
    if let Some(hpa) = all.iter().find(|o| crate::rules::targets(o, w, release_ns)) {
        let kind = hpa.get("kind").and_then(Json::as_str).unwrap_or("");
        let name = hpa
            .at("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or("");
        let field = if kind == "ScaledObject" {
            "minReplicaCount"
        } else {
            "minReplicas"
        };
        let n = hpa
            .at(&format!("/spec/{field}"))
            .and_then(Json::as_u64)
            .unwrap_or(1)
            .max(1);
        return (
            u32::try_from(n).unwrap_or(u32::MAX),
            format!("{kind} {name} {field}"),
        );
    }
    match obj.at("/spec/replicas") {
        Some(Json::Number(n)) => (
            n.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            "spec.replicas".into(),
        ),
        _ => (1, "spec.replicas absent (1)".into()),
    }
}

/// The pod's effective requests: the sum over containers (requests, else limits, as the API
/// server defaults them), or the largest init container if that is more.
fn requests(spec: &Json) -> (u64, u64) {
    let of = |c: &Json, res: &str| -> (u64, u64) {
        let get = |field: &str| {
            c.at(&format!("/resources/{field}/{res}"))
                .and_then(quantity::of)
        };
        let v = get("requests").or_else(|| get("limits")).unwrap_or(0.0);
        if res == "cpu" {
            (quantity::millicores(v), 0)
        } else {
            (0, quantity::bytes(v))
        }
    };
    let sum = |k: &str| -> Vec<(u64, u64)> {
        spec.get(k)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|c| (of(c, "cpu").0, of(c, "memory").1))
            .collect()
    };
    let main = sum("containers")
        .into_iter()
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let init = sum("initContainers")
        .into_iter()
        .fold((0, 0), |a, b| (a.0.max(b.0), a.1.max(b.1)));
    (main.0.max(init.0), main.1.max(init.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn requests_fall_back_to_limits_and_init_containers_count_when_larger() {
        let spec = json!({
            "containers": [
                {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
                {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
            ],
            "initContainers": [{"resources": {"requests": {"cpu": "2", "memory": "64Mi"}}}]
        });
        assert_eq!(requests(&spec), (2000, (128 + 1024) << 20));
    }

    #[test]
    fn match_label_keys_narrow_the_selector_to_the_pods_revision() {
        let c = Constraint::parse(&json!({"maxSkew": 1, "topologyKey": "k", "labelSelector": {"matchLabels": {"app": "a"}}, "matchLabelKeys": ["pod-template-hash", "absent"]})).unwrap();
        let labels = |h: &str| {
            json!({"app": "a", "pod-template-hash": h})
                .as_object()
                .unwrap()
                .clone()
        };
        let sel = c.selector_for(&labels("old"));
        assert!(crate::selector::matches(&sel, &labels("old")));
        assert!(!crate::selector::matches(&sel, &labels("new")));
        assert!(c.hard, "DoNotSchedule is the default");
    }

    #[test]
    fn terms_default_to_the_pods_namespace() {
        let t = Term::parse(&json!({"topologyKey": "k", "labelSelector": {}})).unwrap();
        let l = Labels::new();
        assert!(t.selects("a", "a", &l));
        assert!(!t.selects("a", "b", &l));
        let all =
            Term::parse(&json!({"topologyKey": "k", "labelSelector": {}, "namespaceSelector": {}}))
                .unwrap();
        assert!(all.selects("a", "b", &l));
        assert_eq!(Term::parse(&json!({"labelSelector": {}})), None);
    }
}
