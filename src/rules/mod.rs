//! The rules. Each rule is one file: a doc comment (what it does, why it matters, an example,
//! the fix), a stable code, and its tests. A rule that finds a gap carries the fix that closes
//! it, so `check` reports exactly what `render` would change.
//!
//! Rules run in the order of [`all`], each over the documents as the rules before it left them
//! (a kyaml-style pipeline of filters): the rollout rule sees the anti-affinity the spread rule
//! added.

use crate::yaml::Lookup as _;
use crate::classify::Decision;
use crate::policy::{Policy, Tier};
use crate::workload::{Release, Workload};
use crate::yaml::{Edit, Json};

mod do_not_disrupt;
mod hpa;
mod karpenter;
mod load_balancer;
mod node_pool;
mod pdb;
mod pod_spread;
mod replica_floor;
mod rollout_deadlock;
mod singleton_recreate;
mod singleton_replicas;
mod stateful_in_chart;
mod storage_class;
// -- check-only rules (issue 4): HA2xx report what render does not fix, HA9xx manual items --
mod graceful_shutdown;
mod ingress_controller;
mod leader_election;
mod load_balancer_cross_zone;
mod manual;
mod readiness_probe;
mod storage_class_binding;
#[cfg(test)]
mod testkit;
// -- end check-only rules --

/// Define a rule's metadata from its doc comment, so `helm-ha explain` prints the same text the
/// source carries.
macro_rules! rule {
    ($(#[doc = $doc:literal])* $vis:vis struct $name:ident($code:literal, $slug:literal);) => {
        $(#[doc = $doc])*
        $vis struct $name;
        impl $name {
            pub const META: $crate::rules::Meta =
                $crate::rules::Meta { code: $code, name: $slug, doc: concat!($($doc, "\n"),*) };
        }
    };
}
pub(crate) use rule;

/// A rule's identity and documentation.
#[derive(Debug, PartialEq, Eq)]
pub struct Meta {
    /// Stable code, e.g. `HA101`.
    pub code: &'static str,
    /// Stable name, e.g. `replica-floor`.
    pub name: &'static str,
    /// The rule's doc comment: what, why, example, fix.
    pub doc: &'static str,
}

impl Meta {
    /// The first sentence of the doc comment.
    pub fn summary(&self) -> &'static str {
        self.doc.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("")
    }
}

pub trait Rule: Sync {
    fn meta(&self) -> &'static Meta;
    fn check(&self, cx: &Cx) -> Vec<Finding>;
}

/// Every rule, in the order they run.
pub fn all() -> Vec<&'static dyn Rule> {
    vec![
        &stateful_in_chart::StatefulInChart,
        &singleton_replicas::SingletonReplicas,
        &replica_floor::ReplicaFloor,
        &pod_spread::PodSpread,
        &rollout_deadlock::RolloutDeadlock,
        &singleton_recreate::SingletonRecreate,
        &do_not_disrupt::DoNotDisrupt,
        &pdb::PodDisruptionBudget,
        &hpa::HorizontalPodAutoscaler,
        &node_pool::NodePoolPlacement,
        &storage_class::StorageClass,
        &load_balancer::LoadBalancer,
        &karpenter::Karpenter,
        // -- check-only rules (issue 4): after every hardening rule, so they see its fixes --
        &readiness_probe::ReadinessProbe,
        &graceful_shutdown::GracefulShutdown,
        &leader_election::LeaderElection,
        &ingress_controller::IngressController,
        &load_balancer_cross_zone::LoadBalancerCrossZone,
        &storage_class_binding::StorageClassBinding,
        &manual::ThreeZones,
        &manual::ManagedServicesHa,
        &manual::Backups,
        &manual::RestoreDrill,
        &manual::FailureDrill,
        &manual::Monitoring,
        &manual::CloudLoadBalancer,
        // -- end check-only rules --
    ]
}

pub fn by_code(code: &str) -> Option<&'static dyn Rule> {
    all().into_iter().find(|r| r.meta().code.eq_ignore_ascii_case(code) || r.meta().name == code)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A new object a fix adds to the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDoc {
    /// The document that made it necessary.
    pub for_doc: usize,
    pub kind: String,
    pub name: String,
    /// The object; the writer emits it as block YAML.
    pub value: Json<'static>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Fix {
    /// Change a document.
    Edit { doc: usize, edits: Vec<Edit> },
    /// Add a document.
    Add(NewDoc),
}

/// One thing a rule found.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule: &'static Meta,
    pub severity: Severity,
    /// The document it is about.
    pub doc: Option<usize>,
    /// `Kind/name`.
    pub object: String,
    pub service: Option<String>,
    /// One line: what is wrong (or what changes) and why.
    pub message: String,
    pub fix: Option<Fix>,
}

impl Finding {
    pub fn on(rule: &'static Meta, severity: Severity, w: &Workload, message: impl Into<String>) -> Self {
        Finding { rule, severity, doc: Some(w.doc), object: w.describe(), service: Some(w.service.clone()), message: message.into(), fix: None }
    }

    pub fn edit(mut self, w: &Workload, edits: Vec<Edit>) -> Self {
        self.fix = Some(Fix::Edit { doc: w.doc, edits });
        self
    }

    /// A finding about an object that is not a workload (a Service, a claim, the stream).
    pub fn about(rule: &'static Meta, severity: Severity, doc: Option<usize>, object: impl Into<String>, message: impl Into<String>) -> Self {
        Finding { rule, severity, doc, object: object.into(), service: None, message: message.into(), fix: None }
    }

    pub fn adding(mut self, new: NewDoc) -> Self {
        self.fix = Some(Fix::Add(new));
        self
    }

    /// A checklist item no manifest can show (no document, no object): `check` lists it,
    /// `render` does not.
    pub fn is_manual(&self) -> bool {
        self.doc.is_none() && self.object.is_empty()
    }
}

/// Kinds no rule reads beyond `apiVersion`, `kind` and `metadata` (and a Secret's `data`, which
/// must decode). The reader keeps only those fields of their documents: they are most of a
/// chart's bytes (configuration, certificates, CRDs) and were most of its memory. A rule that
/// starts reading more of one of these kinds must take it off this list; `pipeline`'s tests
/// compare every fixture's analysis with and without the trimming.
pub const METADATA_ONLY_KINDS: &[&str] = &[
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "NetworkPolicy",
    "Ingress",
    "IngressClass",
    "PriorityClass",
    "Namespace",
    "LimitRange",
    "ResourceQuota",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ServiceMonitor",
    "PodMonitor",
    "PrometheusRule",
    "Certificate",
    "Issuer",
    "ClusterIssuer",
];

/// Trim a document of a [`METADATA_ONLY_KINDS`] kind to what rules read; other documents are
/// left as they are.
pub fn metadata_only(value: &mut Json<'_>) {
    let Some(kind) = value.get("kind").and_then(Json::as_str) else { return };
    if !METADATA_ONLY_KINDS.contains(&kind) {
        return;
    }
    let secret = kind == "Secret";
    if let Some(m) = value.as_object_mut() {
        m.retain(|k, _| matches!(k, "apiVersion" | "kind" | "metadata") || (secret && k == "data"));
    }
}

/// Label every generated object carries.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "helm-ha";
/// Label naming the workload a generated object is for.
pub const FOR: &str = "helm-ha.io/for";

/// The labels of a generated object: `app.kubernetes.io/managed-by: helm-ha` and, for objects made
/// for one workload, `helm-ha.io/for: <workload name>` (shortened to a valid label value).
pub fn generated_labels(for_workload: Option<&str>) -> Json<'static> {
    let mut labels = crate::yaml::Map::new();
    labels.insert(MANAGED_BY, Json::from(MANAGER));
    if let Some(w) = for_workload {
        labels.insert(FOR, Json::from(shorten(w, "", 63)));
    }
    Json::Object(labels)
}

/// Was `o` generated by helm-ha?
pub fn generated(o: &Json<'_>) -> bool {
    o.at("/metadata/labels").and_then(|l| l.get(MANAGED_BY)).and_then(Json::as_str) == Some(MANAGER)
}

/// `base` + `suffix`, at most `max` characters: a longer base is cut and a hash of the whole
/// name keeps it unique and deterministic. Valid as a DNS subdomain and as a label value when
/// `base` is (no trailing `-` or `.` after the cut).
pub fn shorten(base: &str, suffix: &str, max: usize) -> String {
    let full = format!("{base}{suffix}");
    if full.len() <= max {
        return full;
    }
    let hash = format!("{:08x}", fnv1a(full.as_bytes()) as u32);
    let keep = max.saturating_sub(suffix.len() + hash.len() + 1);
    let cut = base[..keep.min(base.len())].trim_end_matches(['-', '.', '_']);
    format!("{cut}-{hash}{suffix}")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// What the rules see: the policy, the release, and every document as the rules before have left
/// it. `'a` is the input text the documents borrow from.
pub struct Cx<'c, 'a> {
    pub policy: &'c Policy,
    pub release: &'c Release,
    /// Current meaning of each input document, moved out of the parsed documents and edited in
    /// place (a copy per edited document doubled the memory of a large stream); the pipeline
    /// gives them back.
    pub values: Vec<Json<'a>>,
    pub workloads: Vec<(Workload, Decision)>,
    pub added: Vec<NewDoc>,
    /// The templates generated objects are rendered from.
    pub templates: &'c crate::templates::Templates,
    /// A template that failed to render stops the run; the pipeline checks after every rule.
    pub failure: std::cell::RefCell<Option<crate::error::Failure>>,
    /// Where the objects of each kind are, built on first use and dropped by every
    /// [`Cx::apply`]: rules ask "is there a PDB/HPA/... for this workload" once per workload,
    /// and scanning the whole stream each time was quadratic (docs/benchmarks.md).
    pub kinds: std::cell::RefCell<Option<KindIndex>>,
    /// v1 Services by the rarest `key: value` of their selector, built on first use and dropped
    /// by every [`Cx::apply`], for [`Cx::services_selecting`].
    pub services: std::cell::RefCell<Option<ServiceIndex>>,
}

/// `(selector key, value)` → the Services filed under it (see [`Cx::services_selecting`]).
pub type ServiceIndex = std::collections::HashMap<(String, String), Vec<ObjRef>>;

/// Kind → positions of its objects, in [`Cx::objects`] order.
pub type KindIndex = std::collections::HashMap<String, Vec<ObjRef>>;

/// An object of [`Cx::objects`]: `(position, document, item within it)`; `document` is
/// `values.len() + i` for the `i`th added document.
#[derive(Clone, Copy, Debug)]
pub struct ObjRef(usize, usize, usize);

impl<'c, 'a> Cx<'c, 'a> {
    /// The rules' starting point: every document as parsed (its meaning taken out of `docs`),
    /// and its workloads named and classified.
    pub fn new(policy: &'c Policy, release: &'c Release, docs: &mut [crate::stream::Doc<'a>], templates: &'c crate::templates::Templates) -> Self {
        let values: Vec<Json<'a>> = docs.iter_mut().map(|d| d.parsed.value.take()).collect();
        let claims = crate::classify::claims(&values.iter().flat_map(|v| crate::workload::objects(v).map(|(_, o)| o)).collect::<Vec<_>>());
        let workloads = crate::workload::find(&values, &policy.service_labels, release)
            .into_iter()
            .map(|w| {
                let d = crate::classify::classify(&w, w.object(&values[w.doc]), policy, &claims);
                (w, d)
            })
            .collect();
        Cx { policy, release, values, workloads, added: Vec::new(), templates, failure: Default::default(), kinds: Default::default(), services: Default::default() }
    }
}

impl<'a> Cx<'_, 'a> {
    /// The workload's object as it is now.
    pub fn obj(&self, w: &Workload) -> &Json<'a> {
        w.object(&self.values[w.doc])
    }

    /// Workloads of the given tiers.
    pub fn tiered<'s>(&'s self, tiers: &'s [Tier]) -> impl Iterator<Item = (&'s Workload, &'s Decision)> + 's {
        self.workloads.iter().filter(move |(_, d)| tiers.contains(&d.tier)).map(|(w, d)| (w, d))
    }

    /// The replica floor the policy sets for this workload (None for tiers without one).
    pub fn floor(&self, w: &Workload, d: &Decision) -> Option<u32> {
        let scaled = self.policy.scaled(d.tier)?;
        let svc = d.policy_key.as_deref().and_then(|k| self.policy.services.get(k));
        Some(svc.and_then(|s| s.replicas).unwrap_or(scaled.replicas).max(u32::from(w.kind.scalable())))
    }

    /// Every object currently in the stream (input documents, List items, added documents).
    pub fn objects(&self) -> impl Iterator<Item = &Json<'a>> {
        self.values.iter().flat_map(|v| crate::workload::objects(v).map(|(_, o)| o)).chain(self.added.iter().map(|d| &d.value))
    }

    /// Is the workload's replica count owned by an autoscaler: an HPA or KEDA ScaledObject in the
    /// stream targets it, or the policy asks for an HPA?
    pub fn autoscaled(&self, w: &Workload, d: &Decision) -> bool {
        self.autoscaled_by(&self.autoscaler_targets(), w, d)
    }

    /// What every HPA and ScaledObject in the stream scales, collected once, so a rule asking
    /// about each workload does not scan the whole stream for each (that was quadratic).
    pub fn autoscaler_targets(&self) -> Vec<&Json<'a>> {
        self.of_kind(&["HorizontalPodAutoscaler", "ScaledObject"])
    }

    /// [`Cx::autoscaled`] with the autoscalers already collected by [`Cx::autoscaler_targets`].
    pub fn autoscaled_by(&self, autoscalers: &[&Json<'_>], w: &Workload, d: &Decision) -> bool {
        let wanted = d.policy_key.as_deref().and_then(|k| self.policy.services.get(k)).is_some_and(|s| s.hpa.is_some());
        let ns = self.release.namespace.as_deref();
        wanted || autoscalers.iter().any(|o| targets(o, w, ns))
    }

    /// The namespace the workload's objects live in: its own, else the release's.
    pub fn namespace_of(&self, w: &Workload) -> Option<String> {
        landing_namespace(w.namespace.as_deref(), self.release.namespace.as_deref()).map(str::to_string)
    }

    /// The namespace an object of the stream lands in: its own, else the release's.
    pub fn object_namespace<'o>(&'o self, o: &'o Json<'_>) -> Option<&'o str> {
        landing_namespace(o.at("/metadata/namespace").and_then(Json::as_str), self.release.namespace.as_deref())
    }

    /// Does the stream (input and added so far) hold an object of this kind and name? `namespace`
    /// None means cluster-scoped; an absent namespace is the release's.
    pub fn exists(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.of_kind(&[kind]).into_iter().any(|o| {
            let ns = self.object_namespace(o);
            o.at("/metadata/name").and_then(Json::as_str) == Some(name)
                && (namespace.is_none() || ns == namespace)
        })
    }

    /// Render a template into a new document for `for_doc`. A broken template is recorded in
    /// [`Cx::failure`] (the pipeline stops) and `None` returned.
    pub fn render<T: serde::de::DeserializeOwned + serde::Serialize>(&self, template: &str, ctx: &Json<'_>, for_doc: usize) -> Option<NewDoc> {
        match self.templates.render::<T>(template, ctx) {
            Ok(value) => {
                let kind = value.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
                let name = value.at("/metadata/name").and_then(Json::as_str).unwrap_or_default().to_string();
                Some(NewDoc { for_doc, kind, name, value })
            }
            Err(f) => {
                self.failure.borrow_mut().get_or_insert(f);
                None
            }
        }
    }

    /// Every object of `kind` in the stream, in stream order (input documents, List items,
    /// added documents), through the kind index.
    pub fn of_kind(&self, kinds: &[&str]) -> Vec<&Json<'a>> {
        let mut index = self.kinds.borrow_mut();
        let index = index.get_or_insert_with(|| {
            let mut map = KindIndex::new();
            for (pos, (doc, item, o)) in self.numbered().enumerate() {
                let kind = o.get("kind").and_then(Json::as_str).unwrap_or_default();
                map.entry(kind.to_string()).or_default().push(ObjRef(pos, doc, item));
            }
            map
        });
        let mut refs: Vec<ObjRef> = kinds.iter().filter_map(|k| index.get(*k)).flatten().copied().collect();
        refs.sort_by_key(|r| r.0);
        refs.into_iter().map(|ObjRef(_, doc, item)| self.nth_object(doc, item)).collect()
    }

    /// v1 Services with a non-empty selector whose rarest `key: value` is among `labels`, in
    /// stream order: a superset of those that select pods labelled `labels` (the caller checks
    /// the whole selector). Asking every Service about every workload was quadratic.
    pub fn services_selecting(&self, labels: &crate::yaml::Map<'_>) -> Vec<&Json<'a>> {
        let mut index = self.services.borrow_mut();
        let index = index.get_or_insert_with(|| {
            // Each Service is filed under the rarest `key: value` of its selector, so a label
            // every pod carries (`app.kubernetes.io/instance`) does not make every Service a
            // candidate for every workload. A selector value that is not a string matches no
            // label, so such a Service is left out.
            let mut selectors = Vec::new();
            let mut seen: std::collections::HashMap<(&str, &str), usize> = Default::default();
            for (pos, (doc, item, o)) in self.numbered().enumerate() {
                if o.get("kind").and_then(Json::as_str) != Some("Service") || o.get("apiVersion").and_then(Json::as_str) != Some("v1") {
                    continue;
                }
                let Some(sel) = o.at("/spec/selector").and_then(Json::as_object).filter(|m| !m.is_empty()) else { continue };
                let Some(pairs) = sel.iter().map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect::<Option<Vec<_>>>() else { continue };
                for p in &pairs {
                    *seen.entry(*p).or_default() += 1;
                }
                selectors.push((ObjRef(pos, doc, item), pairs));
            }
            let mut map = ServiceIndex::new();
            for (r, pairs) in selectors {
                let (k, v) = pairs.into_iter().min_by_key(|p| seen[p]).expect("non-empty selector");
                map.entry((k.to_string(), v.to_string())).or_default().push(r);
            }
            map
        });
        let mut refs: Vec<ObjRef> = labels.iter().filter_map(|(k, v)| index.get(&(k.to_string(), v.as_str()?.to_string()))).flatten().copied().collect();
        refs.sort_by_key(|r| r.0);
        refs.dedup_by_key(|r| r.0);
        refs.into_iter().map(|ObjRef(_, doc, item)| self.nth_object(doc, item)).collect()
    }

    fn numbered(&self) -> impl Iterator<Item = (usize, usize, &Json<'a>)> {
        let docs = self.values.iter().enumerate().flat_map(|(d, v)| crate::workload::objects(v).enumerate().map(move |(i, (_, o))| (d, i, o)));
        docs.chain(self.added.iter().enumerate().map(|(i, a)| (self.values.len() + i, 0, &a.value)))
    }

    fn nth_object(&self, doc: usize, item: usize) -> &Json<'a> {
        match self.values.get(doc) {
            Some(v) => crate::workload::objects(v).nth(item).map(|(_, o)| o).expect("indexed object"),
            None => &self.added[doc - self.values.len()].value,
        }
    }

    pub fn apply(&mut self, fix: &Fix) -> Result<(), crate::yaml::YamlError> {
        self.kinds.get_mut().take();
        self.services.get_mut().take();
        match fix {
            // Copies a document once, on its first edit; later edits change the copy.
            Fix::Edit { doc, edits } => crate::yaml::apply_in_place(&mut self.values[*doc], edits)?,
            Fix::Add(new) => self.added.push(new.clone()),
        }
        Ok(())
    }
}

/// Does `o` (an HPA or KEDA ScaledObject) scale workload `w`? Namespace, kind and name must match;
/// an absent namespace is the release's (`default_ns`).
pub fn targets(o: &Json<'_>, w: &Workload, default_ns: Option<&str>) -> bool {
    let kind = o.get("kind").and_then(Json::as_str);
    if !matches!(kind, Some("HorizontalPodAutoscaler" | "ScaledObject")) {
        return false;
    }
    let Some(t) = o.at("/spec/scaleTargetRef") else { return false };
    let t_kind = t.get("kind").and_then(Json::as_str).unwrap_or(if kind == Some("ScaledObject") { "Deployment" } else { "" });
    let ns = landing_namespace(o.at("/metadata/namespace").and_then(Json::as_str), default_ns);
    t_kind == w.kind.as_str() && t.get("name").and_then(Json::as_str) == Some(w.name.as_str()) && ns == landing_namespace(w.namespace.as_deref(), default_ns)
}

/// Where an object lands: its own namespace, or the release's when that is absent or empty.
/// Rendered charts often leave it out and Helm fills it in at install (peers.md rule 9), so
/// objects are only ever compared by this.
pub fn landing_namespace<'a>(own: Option<&'a str>, release: Option<&'a str>) -> Option<&'a str> {
    own.filter(|n| !n.is_empty()).or(release)
}
