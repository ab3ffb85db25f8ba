//! The rules. Each rule is one file: a doc comment (what it does, why it matters, an example,
//! the fix), a stable code, and its tests. A rule that finds a gap carries the fix that closes
//! it, so `check` reports exactly what `render` would change.
//!
//! Rules run in the order of [`all`], each over the documents as the rules before it left them
//! (a kyaml-style pipeline of filters): the rollout rule sees the anti-affinity the spread rule
//! added.

use crate::classify::Decision;
use crate::workload::Workload;
use crate::yaml::{Edit, Json};

mod cx;
pub use cx::{Budgets, Cx};

/// The policy settings rules declare next to themselves; the policy file is made of them.
pub(crate) mod settings {
    pub use super::hpa::Settings as Hpa;
    pub use super::karpenter::{Pool, Settings as Karpenter, Taint};
    pub use super::load_balancer::Settings as LoadBalancer;
    pub use super::storage_class::Settings as StorageClass;
}

#[cfg(test)]
mod testkit;

/// Declares each rule's module and lists its rules, in the order they run: adding a rule is its
/// file and one line here.
macro_rules! registry {
    (@ [$($module:ident)*] [$($rule:path),*]) => {
        $(mod $module;)*

        /// Every rule, in the order they run.
        pub fn all() -> Vec<&'static dyn Rule> {
            vec![$(&$rule),*]
        }
    };
    (@ [$($m:ident)*] [$($r:path),*] $module:ident::{$($rule:ident),+} $(, $($rest:tt)*)?) => {
        registry!(@ [$($m)* $module] [$($r,)* $($module::$rule),+] $($($rest)*)?);
    };
    (@ [$($m:ident)*] [$($r:path),*] $module:ident::$rule:ident $(, $($rest:tt)*)?) => {
        registry!(@ [$($m)* $module] [$($r,)* $module::$rule] $($($rest)*)?);
    };
    ($($entries:tt)*) => {
        registry!(@ [] [] $($entries)*);
    };
}

registry! {
    stateful_in_chart::StatefulInChart,
    singleton_replicas::SingletonReplicas,
    replica_floor::ReplicaFloor,
    pod_spread::PodSpread,
    rollout_deadlock::RolloutDeadlock,
    singleton_recreate::SingletonRecreate,
    do_not_disrupt::DoNotDisrupt,
    pdb::PodDisruptionBudget,
    hpa::HorizontalPodAutoscaler,
    node_pool::NodePoolPlacement,
    storage_class::StorageClass,
    load_balancer::LoadBalancer,
    karpenter::Karpenter,
    // Check-only rules (HA2xx report what render does not fix, HA9xx are manual checklist
    // items) run after every hardening rule, so they see its fixes.
    readiness_probe::ReadinessProbe,
    graceful_shutdown::GracefulShutdown,
    leader_election::LeaderElection,
    ingress_controller::IngressController,
    load_balancer_cross_zone::LoadBalancerCrossZone,
    storage_class_binding::StorageClassBinding,
    chart_budget::ChartBudget,
    unverified::Unverified,
    steering::Steering,
    manual::{
        ThreeZones,
        ManagedServicesHa,
        Backups,
        RestoreDrill,
        FailureDrill,
        Monitoring,
        CloudLoadBalancer
    },
}

/// Define a rule's metadata from its doc comment, so `helm-ha explain` prints the same text the
/// source carries.
macro_rules! rule {
    ($(#[doc = $doc:literal])* $vis:vis struct $name:ident($code:literal, $slug:literal, $does:literal);) => {
        $(#[doc = $doc])*
        $vis struct $name;
        impl $name {
            pub const META: $crate::rules::Meta = $crate::rules::Meta {
                code: $code,
                name: $slug,
                does: $does,
                doc: concat!($($doc, "\n"),*),
            };
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
    /// What it does, in one line of the rules table (docs/rules.md).
    pub does: &'static str,
    /// The rule's doc comment: what, why, example, fix.
    pub doc: &'static str,
}

impl Meta {
    /// The first sentence of the doc comment (it starts with the code and name).
    pub fn summary(&self) -> &'static str {
        self.doc
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("")
    }

    /// [`Meta::summary`] without the code and name it starts with (for lists that show them).
    pub fn gist(&self) -> &'static str {
        let first = self.summary();
        first
            .strip_prefix(self.code)
            .and_then(|l| l.trim_start().strip_prefix(self.name))
            .and_then(|l| l.strip_prefix(':'))
            .map_or(first, str::trim_start)
    }
}

/// A rule looks at each workload, at the stream as a whole, or both.
pub trait Rule {
    fn meta(&self) -> &'static Meta;

    /// What the rule finds about one workload, with the stream as the rules before this one
    /// left it (every document whole).
    fn workload(&self, _cx: &Cx, _w: &Workload, _d: &Decision) -> Vec<Finding> {
        Vec::new()
    }

    /// What the rule finds about the stream as a whole: objects that are no workload, objects it
    /// adds once. It runs after every workload went through every rule's workload part.
    fn stream(&self, _cx: &Cx) -> Vec<Finding> {
        Vec::new()
    }
}

/// The rules table of docs/rules.md: a row per rule in code order, consecutive rules that do
/// the same (the manual checklist items) in one row.
pub fn table() -> String {
    let mut rules: Vec<&'static Meta> = all().into_iter().map(|r| r.meta()).collect();
    rules.sort_by_key(|m| m.code);
    let mut rows: Vec<(Vec<&Meta>, &str)> = Vec::new();
    for m in rules {
        match rows.last_mut() {
            Some((same, does)) if *does == m.does => same.push(m),
            _ => rows.push((vec![m], m.does)),
        }
    }
    let mut out = String::from("| code | name | does |\n|---|---|---|\n");
    for (rules, does) in rows {
        let first = rules[0].code;
        let last = rules[rules.len() - 1].code;
        let code = if first == last {
            first.to_string()
        } else {
            format!("{first}–{last}")
        };
        let names: Vec<&str> = rules.iter().map(|m| m.name).collect();
        out.push_str(&format!("| {code} | {} | {does} |\n", names.join(", ")));
    }
    out
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
    /// stream's list of added objects and the context hold it.
    pub value: std::sync::Arc<Json<'static>>,
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
    o.at("metadata.labels")
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
    let Some(t) = o.at("spec.scaleTargetRef") else {
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
        o.at("metadata.namespace").and_then(Json::as_str),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/rules.md with its rules table (from the `| code |` header to the first blank line
    /// after it) replaced by [`table`]; the prose around it is written by hand.
    fn with_current_table(doc: &str) -> String {
        let start = doc
            .find("| code | name | does |")
            .expect("docs/rules.md has the rules table");
        let end = doc[start..]
            .find("\n\n")
            .map_or(doc.len(), |i| start + i + 1);
        format!("{}{}{}", &doc[..start], table(), &doc[end..])
    }

    #[test]
    fn the_rules_table_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
        let mut have = std::fs::read_to_string(&path).unwrap_or_default();
        let want = with_current_table(&have);
        if std::env::var_os("HELM_HA_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
            have.clone_from(&want);
        }
        pretty_assertions::assert_eq!(
            have,
            want,
            "docs/rules.md is stale: rerun with HELM_HA_BLESS=1"
        );
    }

    #[test]
    fn every_rule_has_its_own_code_and_name_and_a_summary_that_does_not_repeat_them() {
        let metas: Vec<&Meta> = all().iter().map(|r| r.meta()).collect();
        let mut codes: Vec<&str> = metas.iter().map(|m| m.code).collect();
        let mut names: Vec<&str> = metas.iter().map(|m| m.name).collect();
        codes.sort_unstable();
        codes.dedup();
        names.sort_unstable();
        names.dedup();
        assert_eq!((codes.len(), names.len()), (metas.len(), metas.len()));
        for m in metas {
            assert!(!m.gist().is_empty(), "{}", m.code);
            assert!(!m.gist().starts_with(m.code), "{}: {}", m.code, m.gist());
            assert!(!m.does.is_empty(), "{}", m.code);
        }
    }
}
