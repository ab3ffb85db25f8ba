//! The rules. Each rule is one file: a doc comment (what it does, why it matters, an example,
//! the fix), a stable code, and its tests. A rule that finds a gap carries the fix that closes
//! it, so `check` reports exactly what `render` would change.
//!
//! Rules run in the order of [`all`], each over the documents as the rules before it left them
//! (a kyaml-style pipeline of filters): the rollout rule sees the anti-affinity the spread rule
//! added.

use crate::classify::Decision;
use crate::workload::Workload;
use crate::yaml::Lookup as _;
use crate::yaml::{Edit, Json};

mod cx;
pub use cx::{Base, Cx};

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
// Check-only rules: HA2xx report what render does not fix, HA9xx are manual items.
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
        self.doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("")
    }
}

/// A rule looks at each workload, at the stream as a whole, or both.
pub trait Rule: Sync {
    fn meta(&self) -> &'static Meta;

    /// What the rule finds about one workload, whose document the context holds whole and as the
    /// rules before this one left it. It may look at the stream's other objects (Services,
    /// autoscalers, budgets) but not at other workloads' documents: the pipeline runs the
    /// workloads of a stream in groups, possibly on several threads (`pipeline`).
    fn workload(&self, _cx: &Cx, _w: &Workload, _d: &Decision) -> Vec<Finding> {
        Vec::new()
    }

    /// What the rule finds about the stream as a whole: objects that are no workload, objects it
    /// adds once. It runs after every workload went through every rule, when workload documents
    /// are down to their metadata: it sees workloads through `cx.workloads` (names, pod labels,
    /// decisions) only.
    fn stream(&self, _cx: &Cx) -> Vec<Finding> {
        Vec::new()
    }
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
        // Check-only rules run after every hardening rule, so they see its fixes.
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
    all()
        .into_iter()
        .find(|r| r.meta().code.eq_ignore_ascii_case(code) || r.meta().name == code)
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
    /// The object; the writer emits it as block YAML. Shared: the finding that adds it, the
    /// stream's list of added objects and every later context hold it.
    pub value: std::sync::Arc<Json<'static>>,
    /// The document as written, when it was written before the stream was (rendering a large
    /// stream writes what a group added when the group is done, and keeps of its meaning only
    /// what the stream's rules may ask: kind, name, namespace).
    pub written: Option<std::sync::Arc<str>>,
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
    pub fn on(
        rule: &'static Meta,
        severity: Severity,
        w: &Workload,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            severity,
            doc: Some(w.doc),
            object: w.describe(),
            service: Some(w.service.clone()),
            message: message.into(),
            fix: None,
        }
    }

    pub fn edit(mut self, w: &Workload, edits: Vec<Edit>) -> Self {
        self.fix = Some(Fix::Edit { doc: w.doc, edits });
        self
    }

    /// A finding about an object that is not a workload (a Service, a claim, the stream).
    pub fn about(
        rule: &'static Meta,
        severity: Severity,
        doc: Option<usize>,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            severity,
            doc,
            object: object.into(),
            service: None,
            message: message.into(),
            fix: None,
        }
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

/// Kinds no rule reads beyond `apiVersion`, `kind` and `metadata`. The reader keeps only those
/// fields of their documents once it checked them (a Secret's `data` must decode): they are most
/// of a chart's bytes (configuration, certificates, CRDs) and were most of its memory. A rule
/// that starts reading more of one of these kinds must take it off this list; `pipeline`'s tests
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

/// Trim a document of a [`METADATA_ONLY_KINDS`] kind to what rules read (and say so); other
/// documents are left as they are.
pub fn metadata_only(value: &mut Json<'_>) -> bool {
    let Some(kind) = value.get("kind").and_then(Json::as_str) else {
        return false;
    };
    if !METADATA_ONLY_KINDS.contains(&kind) {
        return false;
    }
    if let Some(m) = value.as_object_mut() {
        m.retain(|k, _| matches!(k, "apiVersion" | "kind" | "metadata"));
    }
    true
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
    o.at("/metadata/labels")
        .and_then(|l| l.get(MANAGED_BY))
        .and_then(Json::as_str)
        == Some(MANAGER)
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
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Does `o` (an HPA or KEDA ScaledObject) scale workload `w`? Namespace, kind and name must match;
/// an absent namespace is the release's (`default_ns`).
pub fn targets(o: &Json<'_>, w: &Workload, default_ns: Option<&str>) -> bool {
    let kind = o.get("kind").and_then(Json::as_str);
    if !matches!(kind, Some("HorizontalPodAutoscaler" | "ScaledObject")) {
        return false;
    }
    let Some(t) = o.at("/spec/scaleTargetRef") else {
        return false;
    };
    let t_kind = t
        .get("kind")
        .and_then(Json::as_str)
        .unwrap_or(if kind == Some("ScaledObject") {
            "Deployment"
        } else {
            ""
        });
    let ns = landing_namespace(
        o.at("/metadata/namespace").and_then(Json::as_str),
        default_ns,
    );
    t_kind == w.kind.as_str()
        && t.get("name").and_then(Json::as_str) == Some(w.name.as_str())
        && ns == landing_namespace(w.namespace.as_deref(), default_ns)
}

/// Where an object lands: its own namespace, or the release's when that is absent or empty.
/// Rendered charts often leave it out and Helm fills it in at install, so
/// objects are only ever compared by this.
pub fn landing_namespace<'a>(own: Option<&'a str>, release: Option<&'a str>) -> Option<&'a str> {
    own.filter(|n| !n.is_empty()).or(release)
}
