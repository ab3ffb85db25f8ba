//! The policy: which tier each service is in and what high availability means for it.
//!
//! A policy is a YAML file in this shape; built-in profiles (`profiles/*.yaml`) are written in
//! it too, and `helm-ha policy --profile NAME` prints the effective one. A user file is merged
//! over its profile key by key (mappings merge, lists and scalars replace).

mod load;

pub use load::{load, profile_names};
// The settings of one rule are declared in the rule's file.
pub use crate::rules::settings::{Hpa, Karpenter, LoadBalancer, Pool, StorageClass, Taint};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Policy {
    /// The built-in profile this policy starts from.
    pub profile: Option<String>,
    /// Pod-template labels that name a service, in order; `metadata.name` is the last resort.
    pub service_labels: Vec<String>,
    /// Refuse (exit 1) streams that run in-chart stateful services.
    pub strict: bool,
    /// Cloud provider, for provider-specific objects and annotations.
    pub cloud: Cloud,
    pub tiers: Tiers,
    pub detect: Detect,
    /// Per-service settings, keyed by service name (see `aliases` for other spellings).
    pub services: IndexMap<String, Service>,
    /// Services or workload names (globs with `*`) that helm-ha must leave alone.
    pub exclude: Vec<String>,
    pub storage_class: Option<StorageClass>,
    pub karpenter: Option<Karpenter>,
    /// The `services` keys the user's policy file names (not the profile's), so that one that
    /// matches no workload can be reported.
    #[serde(skip)]
    pub user_services: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    #[default]
    None,
    Aws,
    Gcp,
    Azure,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// Scale out and spread.
    Stateless,
    /// Exactly one copy: schedulers, coordinators, migrations.
    Singleton,
    /// Two or more copies, one active through a Lease.
    LeaderElected,
    /// In-chart database, queue, search engine or object store: not HA, left alone.
    Stateful,
    /// Never touched.
    Skip,
    /// Looks stateless, but nothing shows a second copy is safe: kept as it is and reported.
    /// Only evidence decides it; a policy or an annotation names one of the others.
    #[serde(skip_deserializing)]
    Unverified,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Stateless => "stateless",
            Tier::Singleton => "singleton",
            Tier::LeaderElected => "leader-elected",
            Tier::Stateful => "stateful",
            Tier::Skip => "skip",
            Tier::Unverified => "unverified",
        }
    }

    /// A tier a user may name (a policy entry or an annotation).
    pub fn parse(name: &str) -> Option<Tier> {
        [
            Tier::Stateless,
            Tier::Singleton,
            Tier::LeaderElected,
            Tier::Stateful,
            Tier::Skip,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }
}

/// How replicas are kept apart.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// The HA guide's block: required anti-affinity per node, preferred (weight 100) per zone.
    AntiAffinity,
    /// Both terms preferred: never leaves a pod Pending on a small cluster.
    SoftAntiAffinity,
    /// topologySpreadConstraints over zone and node, `maxSkew: 1`.
    TopologySpread,
    /// No spreading.
    None,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum WhenUnsatisfiable {
    #[default]
    ScheduleAnyway,
    DoNotSchedule,
}

// Every policy struct defaults its fields: a user file only names what it changes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Tiers {
    pub stateless: Scaled,
    pub leader_elected: Scaled,
    pub singleton: Singleton,
}

/// Settings of a tier that runs several copies.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Scaled {
    /// Replica floor: never lowered, raised to this.
    pub replicas: u32,
    pub spread: Spread,
    /// For `topology-spread`.
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// The PodDisruptionBudget generated for these workloads.
    pub pdb: Budget,
    /// Leader-elected only: do standbys report Ready? (PgDog's control plane: only the leader does.)
    pub standbys_ready: bool,
}

impl Default for Scaled {
    fn default() -> Self {
        Scaled {
            replicas: 2,
            spread: Spread::TopologySpread,
            when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
            pdb: Budget {
                max_unavailable: Some(IntOrPercent::Int(1)),
                min_available: None,
            },
            standbys_ready: false,
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Singleton {
    /// Add `karpenter.sh/do-not-disrupt: "true"` to the pods of Jobs and CronJobs: Karpenter
    /// must not stop a finite run half-way.
    pub do_not_disrupt: bool,
    /// Also add it to long-running singletons the user declared (policy entry or annotation).
    /// A pin on a pod that never ends keeps its node from ever being consolidated or replaced
    /// on drift, so the generic profile leaves it off.
    pub do_not_disrupt_long_running: bool,
}

impl Default for Singleton {
    fn default() -> Self {
        Singleton {
            do_not_disrupt: true,
            do_not_disrupt_long_running: true,
        }
    }
}

/// A disruption budget: exactly one of the two.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Budget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<IntOrPercent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_available: Option<IntOrPercent>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum IntOrPercent {
    Int(u32),
    /// `"50%"`
    Percent(String),
}

impl IntOrPercent {
    /// The count out of `total` pods, rounding up as the disruption controller does for both
    /// PDB fields (`GetScaledValueFromIntOrPercent(…, roundUp=true)`).
    pub fn scaled(&self, total: u32) -> Option<u32> {
        match self {
            IntOrPercent::Int(n) => Some(*n),
            IntOrPercent::Percent(p) => {
                let pct: u32 = p.strip_suffix('%')?.parse().ok()?;
                Some((total * pct).div_ceil(100))
            }
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Detect {
    /// Service names (globs) that are singletons: schedulers, beat, migrations.
    pub singleton_names: Vec<String>,
    /// Image names (last path part, before the tag) of databases, brokers, search engines.
    pub stateful_images: Vec<String>,
    /// Container arguments that turn on leader election.
    pub leader_election_args: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Service {
    /// Other spellings of the service name (chart labels that differ from values keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// Replica floor for this service (overrides the tier's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<Spread>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdb: Option<Budget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hpa: Option<Hpa>,
    /// Karpenter pool the service runs in (a key of `karpenter.pools`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Singletons: allow this many copies instead of failing (the chart knows better).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_replicas: Option<u32>,
    /// Stateful: the managed service to use instead, for the warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed: Option<String>,
    /// Services of type LoadBalancer selecting this service's pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancer>,
}

impl Policy {
    /// The policy entry for a service name, matching keys and aliases with `_` and `-` treated
    /// alike (values keys use `_`, chart labels `-`).
    pub fn service(&self, name: &str) -> Option<(&str, &Service)> {
        let want = normalize(name);
        self.services.iter().find_map(|(key, svc)| {
            let hit = normalize(key) == want || svc.aliases.iter().any(|a| normalize(a) == want);
            hit.then_some((key.as_str(), svc))
        })
    }

    pub fn scaled(&self, tier: Tier) -> Option<&Scaled> {
        match tier {
            Tier::Stateless => Some(&self.tiers.stateless),
            Tier::LeaderElected => Some(&self.tiers.leader_elected),
            _ => None,
        }
    }

    pub fn excluded(&self, service: &str, workload_name: &str) -> bool {
        self.exclude
            .iter()
            .any(|g| glob(g, service) || glob(g, workload_name))
    }
}

/// A policy setting that cannot work: where it is (a dotted key), what it holds, how to fix it.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub what: String,
    pub fix: String,
}

impl Problem {
    pub fn new(key: impl Into<String>, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            key: key.into(),
            what: what.into(),
            fix: fix.into(),
        }
    }
}

/// A DNS-1123 subdomain: what most object names must be.
pub fn dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

fn normalize(name: &str) -> String {
    name.replace('_', "-").to_ascii_lowercase()
}

/// `*` matches any run of characters; everything else literally (case-insensitive).
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_ascii_lowercase(), text.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !t.starts_with(first) || t.len() < first.len() + last.len() || !t.ends_with(last) {
        return false;
    }
    let mut rest = &t[first.len()..t.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_dns_subdomains() {
        assert!(dns_subdomain("plane-spot") && dns_subdomain("a.b"));
        assert!(
            !dns_subdomain("Plane")
                && !dns_subdomain("a_b")
                && !dns_subdomain("-a")
                && !dns_subdomain("")
        );
    }

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob("*beat*", "pi-beat"));
        assert!(glob("*migrat*", "api-migrate"));
        assert!(glob("web", "WEB"));
        assert!(!glob("web", "web2"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "acb"));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn percentages_round_up_like_the_disruption_controller() {
        assert_eq!(IntOrPercent::Percent("51%".into()).scaled(1), Some(1));
        assert_eq!(IntOrPercent::Percent("50%".into()).scaled(3), Some(2));
        assert_eq!(IntOrPercent::Percent("25%".into()).scaled(3), Some(1));
        assert_eq!(IntOrPercent::Int(1).scaled(3), Some(1));
        assert_eq!(IntOrPercent::Percent("x".into()).scaled(3), None);
    }
}
