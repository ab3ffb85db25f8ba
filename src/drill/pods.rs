//! What the stream asks the cluster to run: every workload as a pod template with the scheduling
//! terms kube-scheduler reads, its replica count, its rollout strategy and the PDBs over it.

use super::quantity;
use crate::classify::{self, Decision};
use crate::policy::{IntOrPercent, Policy, Tier};
use crate::stream::Doc;
use crate::workload::{self, Kind, Release, Workload};
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
    /// A list, plus a namespace selector over the namespace's labels (its Namespace object's
    /// labels when the stream has one, and always `kubernetes.io/metadata.name`).
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

    /// Does the term (of a pod in `own_ns`) select a pod labelled `labels` in namespace `ns`,
    /// whose Namespace carries `ns_labels`?
    pub fn selects(&self, own_ns: &str, ns: &str, ns_labels: &Labels, labels: &Labels) -> bool {
        let ns_ok = match &self.namespaces {
            Namespaces::Own => ns == own_ns,
            Namespaces::Some(list, sel) => {
                list.iter().any(|n| n == ns)
                    || sel
                        .as_ref()
                        .is_some_and(|s| crate::selector::matches(s, ns_labels))
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
        // A value that is no label value makes the requirement unparseable
        // (`labels.NewRequirement`), and an unparseable term matches no node.
        if !self.field && !self.values.iter().all(|v| label_value(v)) {
            return false;
        }
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

/// `validation.IsValidLabelValue`: at most 63 characters, alphanumerics with `-`, `_`, `.`
/// inside, starting and ending alphanumeric; empty is valid.
fn label_value(v: &str) -> bool {
    let inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    v.len() <= 63
        && v.chars().all(inner)
        && v.chars().next().is_none_or(|c| c.is_ascii_alphanumeric())
        && v.chars().last().is_none_or(|c| c.is_ascii_alphanumeric())
}

#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    /// `maxSurge`, `maxUnavailable` as written (defaults 25%).
    Rolling(Json, Json),
    /// A rolling update the API server rejects (`ValidateRollingUpdateDeployment`), and why.
    Invalid(InvalidField),
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
    /// Required pod affinity: every term must find a matching pod in the node's domain.
    pub affinity_required: Vec<Term>,
    pub anti_required: Vec<Term>,
    pub anti_preferred: Vec<(i64, Term)>,
    pub spread: Vec<Constraint>,
    /// Each pod keeps a ReadWriteOnce volume that binds to the zone it first runs in.
    pub zonal_volume: bool,
    pub strategy: Strategy,
    /// Host ports of its containers and native sidecars (NodePorts).
    pub host_ports: Vec<HostPort>,
}

/// A container port bound on the node: `hostPort` with its protocol and `hostIP`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    pub protocol: String,
    /// `0.0.0.0` when unset: every address of the node.
    pub ip: String,
    pub port: u64,
}

impl HostPort {
    /// `HostPortInfo.CheckConflict`: the same protocol and port, on the same address or with
    /// either side on every address.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        const ANY: &str = "0.0.0.0";
        self.protocol == other.protocol
            && self.port == other.port
            && (self.ip == other.ip || self.ip == ANY || other.ip == ANY)
    }
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
    /// `unhealthyPodEvictionPolicy: AlwaysAllow` (default IfHealthyBudget).
    pub always_allow_unhealthy: bool,
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
    /// Labels of the Namespace objects in the stream, by name.
    pub namespaces: BTreeMap<String, Labels>,
}

impl Model {
    /// The labels a `namespaceSelector` sees on namespace `ns`: its Namespace object's, and
    /// `kubernetes.io/metadata.name`, which the API server sets on every namespace.
    pub fn namespace_labels(&self, ns: &str) -> Labels {
        let mut labels = self.namespaces.get(ns).cloned().unwrap_or_default();
        labels.insert("kubernetes.io/metadata.name", Json::from(ns.to_string()));
        labels
    }
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
    let mut model = Model::default();
    let mut stream = Stream {
        all: &objects,
        facts: classify::Facts::of(
            &values.iter().collect::<Vec<_>>(),
            release.namespace.as_deref(),
        ),
        overheads: Overheads::new(),
        default_ns: default_ns.clone(),
        release_ns: release.namespace.clone(),
    };
    for o in &objects {
        let name = o.at("metadata.name").and_then(Json::as_str).unwrap_or("");
        match o.get("kind").and_then(Json::as_str) {
            Some("Namespace") => {
                let labels = o.at("metadata.labels").and_then(Json::as_object);
                model
                    .namespaces
                    .insert(name.to_string(), labels.cloned().unwrap_or_default());
            }
            Some("RuntimeClass") => {
                if let Some(fixed) = o.at("overhead.podFixed") {
                    stream.overheads.insert(name.to_string(), resources(fixed));
                }
            }
            _ => {}
        }
    }
    for w in workload::find(&values, &policy.service_labels, &release) {
        let obj = w.object(&values[w.doc]);
        let inputs = classify::Inputs {
            policy,
            facts: &stream.facts,
        };
        let decision = classify::classify(&w, obj, &inputs);
        if let Some(why) = skip_reason(&w) {
            model.skipped.push(format!("{} ({why})", w.describe()));
            continue;
        }
        model.templates.push(template(&w, obj, &decision, &stream));
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
            .at("metadata.name")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string(),
        namespace: o
            .at("metadata.namespace")
            .and_then(Json::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(default_ns)
            .to_string(),
        selector: spec.get("selector").cloned().unwrap_or(Json::Null),
        min_available: int_or_percent(spec.get("minAvailable")),
        max_unavailable: int_or_percent(spec.get("maxUnavailable")),
        always_allow_unhealthy: spec
            .get("unhealthyPodEvictionPolicy")
            .and_then(Json::as_str)
            == Some("AlwaysAllow"),
    }
}

/// CPU (millicores) and memory (bytes) per RuntimeClass name: its `overhead.podFixed`.
pub type Overheads = BTreeMap<String, (u64, u64)>;

/// What a template reads from the rest of the stream.
pub struct Stream<'a> {
    /// Every object, for the HPAs that set a replica count.
    pub all: &'a [&'a Json],
    /// What the stream tells about its workloads (claims, autoscalers, RBAC, settings).
    pub facts: classify::Facts,
    pub overheads: Overheads,
    /// The namespace of objects that name none.
    pub default_ns: String,
    pub release_ns: Option<String>,
}

/// The pod template of workload `w` (object `obj`).
pub fn template(w: &Workload, obj: &Json, d: &Decision, stream: &Stream) -> Template {
    let (all, facts, default_ns) = (stream.all, &stream.facts, stream.default_ns.as_str());
    let null = Json::Null;
    let tpl = obj.at(w.template_path()).unwrap_or(&null);
    let spec = tpl.get("spec").unwrap_or(&null);
    let list = |p: &str| spec.at(p).and_then(Json::as_array).into_iter().flatten();
    let (replicas, replicas_from) = replicas(w, obj, all, stream.release_ns.as_deref());
    // The RuntimeClass admission controller copies the class's overhead into `spec.overhead`.
    let overhead = spec
        .get("runtimeClassName")
        .and_then(Json::as_str)
        .and_then(|c| stream.overheads.get(c).copied())
        .or_else(|| spec.get("overhead").map(resources))
        .unwrap_or((0, 0));
    let (cpu, memory) = requests(spec);
    let (cpu, memory) = (cpu + overhead.0, memory + overhead.1);
    let node_affinity = spec.at("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms").and_then(Json::as_array).map(|terms| {
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
    let volumes_zonal = list("volumes")
        .filter_map(|v| {
            v.at("persistentVolumeClaim.claimName")
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
        .at("spec.volumeClaimTemplates")
        .and_then(Json::as_array)
        .is_some_and(|v| !v.is_empty());
    let strategy = match w.kind {
        Kind::Deployment => match obj.at("spec.strategy.type").and_then(Json::as_str) {
            Some("Recreate") => Strategy::Recreate,
            _ => {
                let ru = obj.at("spec.strategy.rollingUpdate");
                let get = |k: &str| {
                    ru.and_then(|r| r.get(k))
                        .filter(|v| !v.is_null())
                        .cloned()
                        .unwrap_or(Json::from("25%"))
                };
                let (surge, unavailable) = (get("maxSurge"), get("maxUnavailable"));
                match validate_rolling_update(&surge, &unavailable) {
                    Ok(()) => Strategy::Rolling(surge, unavailable),
                    Err(why) => Strategy::Invalid(why),
                }
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
            .at("metadata.labels")
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
        tolerations: list("tolerations")
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
        affinity_required: list(
            "affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution",
        )
        .filter_map(Term::parse)
        .collect(),
        anti_required: list(
            "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
        )
        .filter_map(Term::parse)
        .collect(),
        anti_preferred: list(
            "affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution",
        )
        .filter_map(|p| {
            Some((
                p.get("weight").and_then(Json::as_i64).unwrap_or(1),
                Term::parse(p.get("podAffinityTerm")?)?,
            ))
        })
        .collect(),
        spread: list("topologySpreadConstraints")
            .filter_map(Constraint::parse)
            .collect(),
        zonal_volume: volumes_zonal || (w.kind == Kind::StatefulSet && claim_templates),
        strategy,
        host_ports: host_ports(spec),
    }
}

/// A field the API server rejects, worded as apimachinery's `field.Invalid` error:
/// `<field>: Invalid value: <value>: <detail>`.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidField {
    pub field: String,
    /// The value as the API server quotes it.
    pub value: String,
    pub detail: &'static str,
}

impl std::fmt::Display for InvalidField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let InvalidField {
            field,
            value,
            detail,
        } = self;
        write!(f, "{field}: Invalid value: {value}: {detail}")
    }
}

impl std::error::Error for InvalidField {}

/// `ValidateRollingUpdateDeployment` (pkg/apis/apps/validation) on the defaulted values: each
/// an integer ≥ 0 or a percent string, `maxUnavailable` at most 100%, not both 0.
pub fn validate_rolling_update(
    max_surge: &Json,
    max_unavailable: &Json,
) -> Result<(), InvalidField> {
    let invalid = |k: &str, value: String, detail| InvalidField {
        field: format!("spec.strategy.rollingUpdate.{k}"),
        value,
        detail,
    };
    let value = |k: &str, v: &Json| -> Result<i64, InvalidField> {
        match v {
            Json::Number(n) => match n.as_i64() {
                Some(n) if n >= 0 => Ok(n),
                _ => Err(invalid(
                    k,
                    n.to_string(),
                    "must be greater than or equal to 0",
                )),
            },
            Json::String(s) => s
                .strip_suffix('%')
                .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| {
                    invalid(
                        k,
                        format!("\"{s}\""),
                        "a valid percent string must be a numeric string followed by an ending '%'",
                    )
                }),
            other => Err(invalid(
                k,
                other.to_string(),
                "must be an integer or a percent string",
            )),
        }
    };
    let unavailable = value("maxUnavailable", max_unavailable)?;
    let surge = value("maxSurge", max_surge)?;
    if unavailable == 0 && surge == 0 {
        return Err(invalid(
            "maxUnavailable",
            "0".into(),
            "may not be 0 when `maxSurge` is 0",
        ));
    }
    if max_unavailable.as_str().is_some() && unavailable > 100 {
        return Err(invalid(
            "maxUnavailable",
            max_unavailable.to_string(),
            "must not be greater than 100%",
        ));
    }
    Ok(())
}

/// Host ports of the containers and of restartable init containers (native sidecars run
/// alongside them); ordinary init containers have exited by then and hold no port.
fn host_ports(spec: &Json) -> Vec<HostPort> {
    workload::running_containers(spec)
        .flat_map(|c| {
            c.get("ports")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|p| {
            let port = p
                .get("hostPort")
                .and_then(Json::as_u64)
                .filter(|p| *p > 0)?;
            Some(HostPort {
                protocol: p
                    .get("protocol")
                    .and_then(Json::as_str)
                    .unwrap_or("TCP")
                    .to_string(),
                ip: p
                    .get("hostIP")
                    .and_then(Json::as_str)
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or("0.0.0.0")
                    .to_string(),
                port,
            })
        })
        .collect()
}

/// A native sidecar: an init container with `restartPolicy: Always`.
/// A resource list (`{cpu, memory}`) as millicores and bytes.
fn resources(list: &Json) -> (u64, u64) {
    let get = |k: &str| list.get(k).and_then(quantity::of);
    (
        get("cpu").map_or(0, quantity::millicores),
        get("memory").map_or(0, quantity::bytes),
    )
}

/// `spec.replicas` (absent = 1), or the `minReplicas` of an HPA (KEDA: `minReplicaCount`) that
/// targets the workload.
fn replicas(w: &Workload, obj: &Json, all: &[&Json], release_ns: Option<&str>) -> (u32, String) {
    if let Some(hpa) = all.iter().find(|o| crate::rules::targets(o, w, release_ns)) {
        let kind = hpa.get("kind").and_then(Json::as_str).unwrap_or("");
        let name = hpa.at("metadata.name").and_then(Json::as_str).unwrap_or("");
        let field = if kind == "ScaledObject" {
            "minReplicaCount"
        } else {
            "minReplicas"
        };
        let n = hpa
            .at(format!("spec.{field}"))
            .and_then(Json::as_u64)
            .unwrap_or(1)
            .max(1);
        return (
            u32::try_from(n).unwrap_or(u32::MAX),
            format!("{kind} {name} {field}"),
        );
    }
    match obj.at("spec.replicas") {
        Some(Json::Number(n)) => (
            n.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            "spec.replicas".into(),
        ),
        _ => (1, "spec.replicas absent (1)".into()),
    }
}

/// The pod's effective requests (`PodRequests` in k8s.io/component-helpers/resource): each
/// container's requests (limits stand in, as the API server defaults them); native sidecars
/// run beside the containers, so they add to the containers' sum, and each ordinary init
/// container needs its own requests plus the sidecars started before it; the larger wins.
fn requests(spec: &Json) -> (u64, u64) {
    let of = |c: &Json| -> (u64, u64) {
        let get = |res: &str| {
            let field = |f: &str| {
                c.at(format!("resources.{f}"))
                    .and_then(|r| r.get(res))
                    .and_then(quantity::of)
            };
            field("requests").or_else(|| field("limits")).unwrap_or(0.0)
        };
        (
            quantity::millicores(get("cpu")),
            quantity::bytes(get("memory")),
        )
    };
    let add = |a: (u64, u64), b: (u64, u64)| (a.0 + b.0, a.1 + b.1);
    let max = |a: (u64, u64), b: (u64, u64)| (a.0.max(b.0), a.1.max(b.1));
    let list = |k: &str| spec.get(k).and_then(Json::as_array).into_iter().flatten();
    let main = list("containers").map(of).fold((0, 0), add);
    let (mut sidecars, mut init) = ((0, 0), (0, 0));
    for c in list("initContainers") {
        if workload::is_sidecar(c) {
            sidecars = add(sidecars, of(c));
            init = max(init, sidecars);
        } else {
            init = max(init, add(of(c), sidecars));
        }
    }
    max(add(main, sidecars), init)
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
        assert!(t.selects("a", "a", &l, &l));
        assert!(!t.selects("a", "b", &l, &l));
        let all =
            Term::parse(&json!({"topologyKey": "k", "labelSelector": {}, "namespaceSelector": {}}))
                .unwrap();
        assert!(all.selects("a", "b", &l, &l));
        let team = Term::parse(&json!({"topologyKey": "k", "labelSelector": {}, "namespaceSelector": {"matchLabels": {"team": "x"}}}))
            .unwrap();
        let x = json!({"team": "x"}).as_object().unwrap().clone();
        assert!(team.selects("a", "b", &x, &l));
        assert!(!team.selects("a", "b", &l, &l));
        assert_eq!(Term::parse(&json!({"labelSelector": {}})), None);
    }
}
