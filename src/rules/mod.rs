//! The rules. Each rule is one file: a doc comment (what it does, why it matters, an example,
//! the fix), a stable code, and its tests. A rule that finds a gap carries the fix that closes
//! it, so `check` reports exactly what `render` would change.
//!
//! Rules run in the order of [`all`], each over the documents as the rules before it left them
//! (a kyaml-style pipeline of filters): the rollout rule sees the anti-affinity the spread rule
//! added.

use crate::classify::Decision;
use crate::policy::{Policy, Tier};
use crate::workload::{Release, Workload};
use crate::yaml::{Edit, Json};

mod do_not_disrupt;
mod pod_spread;
mod replica_floor;
mod rollout_deadlock;
mod singleton_recreate;
mod singleton_replicas;
mod stateful_in_chart;
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
    /// Block YAML of the object, without marker or comments.
    pub text: String,
    pub value: Json,
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

    /// A checklist item no manifest can show (no document, no object): `check` lists it,
    /// `render` does not.
    pub fn is_manual(&self) -> bool {
        self.doc.is_none() && self.object.is_empty()
    }
}

/// What the rules see: the policy, the release, and every document as the rules before have left
/// it.
pub struct Cx<'a> {
    pub policy: &'a Policy,
    pub release: &'a Release,
    /// Current meaning of each input document.
    pub values: Vec<Json>,
    pub workloads: Vec<(Workload, Decision)>,
    pub added: Vec<NewDoc>,
}

impl Cx<'_> {
    /// The workload's object as it is now.
    pub fn obj(&self, w: &Workload) -> &Json {
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
    pub fn objects(&self) -> impl Iterator<Item = &Json> {
        self.values.iter().flat_map(|v| crate::workload::objects(v).map(|(_, o)| o)).chain(self.added.iter().map(|d| &d.value))
    }

    /// Is the workload's replica count owned by an autoscaler: an HPA or KEDA ScaledObject in the
    /// stream targets it, or the policy asks for an HPA?
    pub fn autoscaled(&self, w: &Workload, d: &Decision) -> bool {
        let wanted = d.policy_key.as_deref().and_then(|k| self.policy.services.get(k)).is_some_and(|s| s.hpa.is_some());
        let ns = self.release.namespace.as_deref();
        wanted || self.objects().any(|o| targets(o, w, ns))
    }

    pub fn apply(&mut self, fix: &Fix) -> Result<(), crate::yaml::YamlError> {
        match fix {
            Fix::Edit { doc, edits } => self.values[*doc] = crate::yaml::apply(&self.values[*doc], edits)?,
            Fix::Add(new) => self.added.push(new.clone()),
        }
        Ok(())
    }
}

/// Does `o` (an HPA or KEDA ScaledObject) scale workload `w`? Namespace, kind and name must match;
/// an absent namespace is the release's (`default_ns`).
pub fn targets(o: &Json, w: &Workload, default_ns: Option<&str>) -> bool {
    let kind = o.get("kind").and_then(Json::as_str);
    let target = match kind {
        Some("HorizontalPodAutoscaler") => o.pointer("/spec/scaleTargetRef"),
        Some("ScaledObject") => o.pointer("/spec/scaleTargetRef"),
        _ => return false,
    };
    let Some(t) = target else { return false };
    let t_kind = t.get("kind").and_then(Json::as_str).unwrap_or(if kind == Some("ScaledObject") { "Deployment" } else { "" });
    let ns = o.pointer("/metadata/namespace").and_then(Json::as_str).filter(|n| !n.is_empty()).or(default_ns);
    let w_ns = w.namespace.as_deref().filter(|n| !n.is_empty()).or(default_ns);
    t_kind == w.kind.as_str() && t.get("name").and_then(Json::as_str) == Some(w.name.as_str()) && ns == w_ns
}
