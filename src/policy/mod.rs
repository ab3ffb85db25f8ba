//! The policy: which tier each service is in and what high availability means for it.
//!
//! A policy is a YAML file in this shape; built-in profiles (`profiles/*.yaml`) are written in
//! it too, and `helm-ha policy --profile NAME` prints the effective one. A user file is merged
//! over its profile key by key (mappings merge, lists and scalars replace).

mod load;

pub use load::{load, profile_names};

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

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Hpa {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Target average CPU utilisation, percent of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// Target average memory utilisation, percent of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct LoadBalancer {
    /// Idle timeout long enough for WebSockets (AWS: NLB/ALB attribute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_seconds: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct StorageClass {
    /// `aws-ebs-gp3`, `aws-ebs-gp2`, `gce-pd`, `azure-disk`; empty: emit nothing and only point
    /// claims at the existing class `name`.
    pub preset: String,
    pub name: String,
    /// Mark it the cluster's default class.
    pub default: bool,
    /// Point volumeClaimTemplates and PVCs with no class (field absent or null) at it.
    pub assign_to_claims: bool,
    /// Also replace `storageClassName: ""`, which Kubernetes reads as "no class: bind a
    /// pre-provisioned volume only". Off by default.
    pub assign_to_empty_class: bool,
}

/// A storage preset: name, provisioner, parameters.
pub type Preset = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

pub const STORAGE_PRESETS: &[Preset] = &[
    (
        "aws-ebs-gp3",
        "ebs.csi.aws.com",
        &[
            ("type", "gp3"),
            ("csi.storage.k8s.io/fstype", "ext4"),
            ("encrypted", "true"),
        ],
    ),
    (
        "aws-ebs-gp2",
        "ebs.csi.aws.com",
        &[
            ("type", "gp2"),
            ("csi.storage.k8s.io/fstype", "ext4"),
            ("encrypted", "true"),
        ],
    ),
    (
        "gce-pd",
        "pd.csi.storage.gke.io",
        &[
            ("type", "pd-balanced"),
            ("csi.storage.k8s.io/fstype", "ext4"),
        ],
    ),
    (
        "azure-disk",
        "disk.csi.azure.com",
        &[("skuName", "StandardSSD_ZRS")],
    ),
];

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Karpenter {
    pub enabled: bool,
    pub cluster_name: String,
    pub node_class_name: String,
    /// IAM role of the nodes; default `KarpenterNodeRole-<clusterName>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// EBS type of the encrypted root volume (`gp3`, `gp2`).
    pub root_volume_type: String,
    pub root_volume_size: String,
    pub zones: Vec<String>,
    pub pools: IndexMap<String, Pool>,
}

impl Default for Karpenter {
    fn default() -> Self {
        Karpenter {
            enabled: false,
            cluster_name: String::new(),
            node_class_name: "default".into(),
            role: None,
            root_volume_type: "gp3".into(),
            root_volume_size: "100Gi".into(),
            zones: Vec::new(),
            pools: IndexMap::new(),
        }
    }
}

impl Karpenter {
    pub fn role(&self) -> String {
        self.role
            .clone()
            .unwrap_or_else(|| format!("KarpenterNodeRole-{}", self.cluster_name))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Pool {
    /// `kubernetes.io/arch` values.
    pub architectures: Vec<String>,
    /// `on-demand` and/or `spot`.
    pub capacity_types: Vec<String>,
    pub instance_categories: Vec<String>,
    /// Instance generation must be greater than this.
    pub min_generation: u32,
    pub expire_after: String,
    pub consolidate_after: String,
    /// Empty: no limit.
    pub cpu_limit: String,
    pub memory_limit: String,
    /// Taint `key=value:NoSchedule` the pool's nodes carry (pods assigned to it tolerate it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taint: Option<String>,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            architectures: vec!["amd64".into()],
            capacity_types: vec!["on-demand".into()],
            instance_categories: vec!["c".into(), "m".into()],
            min_generation: 5,
            expire_after: "720h".into(),
            consolidate_after: "1m".into(),
            cpu_limit: String::new(),
            memory_limit: String::new(),
            taint: None,
        }
    }
}

/// A node taint: `key=value:Effect` or `key:Effect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    pub effect: String,
}

impl Taint {
    pub fn parse(s: &str) -> Option<Taint> {
        let (kv, effect) = s.rsplit_once(':')?;
        let (key, value) = match kv.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (kv, None),
        };
        let ok =
            !key.is_empty() && matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute");
        ok.then(|| Taint {
            key: key.to_string(),
            value,
            effect: effect.to_string(),
        })
    }
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
