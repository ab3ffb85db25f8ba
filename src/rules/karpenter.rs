use super::{generated_labels, rule, Cx, Finding, Rule, Severity};
use crate::json;
use crate::policy::{dns_subdomain, Cloud, Problem};
use crate::templates::karpenter::{EC2NodeClass, NodePool};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

rule! {
    /// HA112 karpenter: Karpenter is on, but its node class and pools are not in the release.
    ///
    /// ## What it does
    /// When `karpenter.enabled` (which needs `cloud: aws` and `clusterName`), adds the guide's
    /// `karpenter.k8s.aws/v1` EC2NodeClass `nodeClassName` and one `karpenter.sh/v1` NodePool per
    /// `karpenter.pools` entry, named after the entry. Each is added once per stream, and never
    /// when the stream already has an object of that kind and name.
    /// - EC2NodeClass: AL2023 (`alias: al2023@latest`), role `KarpenterNodeRole-<clusterName>`
    ///   unless `role` is set, subnets and security groups discovered by the tag
    ///   `karpenter.sh/discovery: <clusterName>`, an encrypted root volume (`rootVolumeType`,
    ///   `rootVolumeSize`) deleted with the node, IMDSv2 required with hop limit 1 (pods cannot
    ///   reach the node's credentials).
    /// - NodePool: requirements on `kubernetes.io/arch`, `karpenter.sh/capacity-type`,
    ///   `karpenter.k8s.aws/instance-category`, `karpenter.k8s.aws/instance-generation` Gt
    ///   `minGeneration` and, when `zones` is set, `topology.kubernetes.io/zone`; the pool's taint;
    ///   `expireAfter`; `limits` when set; disruption `WhenEmptyOrUnderutilized` after
    ///   `consolidateAfter`.
    ///
    /// The plane-enterprise profile carries the guide's values (`plane-default`, `plane-general`
    /// on-demand c/m, `plane-spot` spot c/m/r with taint `workload-class=batch:NoSchedule` for the
    /// batch workers) with `enabled: false`. HA109 puts the services assigned to a pool on it.
    /// Rendered from the `ec2nodeclass.yaml` and `nodepool.yaml` templates and checked against
    /// Karpenter's v1 fields.
    ///
    /// These are cluster-scoped: let one release own them.
    ///
    /// ## Why it matters
    /// Karpenter provisions nodes in the zones its NodePools allow; pools across three zones with
    /// encrypted, IMDSv2-only nodes are what the guide's zone-loss setup assumes, and the guide
    /// otherwise asks users to apply them by hand with the cluster name replaced.
    ///
    /// ## Example
    /// `cloud: aws`, `karpenter: {enabled: true, clusterName: prod, zones: [us-east-1a,
    /// us-east-1b, us-east-1c]}` over plane-enterprise.
    ///
    /// ## Fix
    /// The EC2NodeClass and NodePools above. Source: the Plane Commercial Edition: High Availability guide, "Karpenter on AWS".
    pub struct Karpenter("HA112", "karpenter", "the guide's EC2NodeClass and one NodePool per policy pool");
}

/// The policy's `karpenter`: the node class and pools this rule adds; HA109 places services
/// in the pools.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Settings {
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

impl Default for Settings {
    fn default() -> Self {
        Settings {
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

impl Settings {
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
impl Settings {
    /// Only settings that are on are checked: a profile's pools may wait for a cluster name.
    pub(crate) fn check(&self, cloud: Cloud) -> Result<(), Problem> {
        if !self.enabled {
            return Ok(());
        }
        if cloud != Cloud::Aws {
            return Err(Problem::new(
                "karpenter.enabled",
                "Karpenter's EC2NodeClass needs `cloud: aws`",
                "set cloud: aws or karpenter.enabled: false",
            ));
        }
        if self.cluster_name.is_empty() {
            return Err(Problem::new("karpenter.clusterName", "no cluster name (the node role and the subnet and security-group discovery tags derive from it)", "set karpenter.clusterName"));
        }
        if !dns_subdomain(&self.node_class_name) {
            return Err(Problem::new(
                "karpenter.nodeClassName",
                format!("`{}` is not a valid object name", self.node_class_name),
                "use lower-case letters, digits and `-`",
            ));
        }
        if self.pools.is_empty() {
            return Err(Problem::new(
                "karpenter.pools",
                "Karpenter is enabled with no pools",
                "define at least one pool",
            ));
        }
        for (name, pool) in &self.pools {
            pool.check(name)?;
        }
        Ok(())
    }
}

impl Pool {
    fn check(&self, name: &str) -> Result<(), Problem> {
        let key = |f: &str| format!("karpenter.pools.{name}.{f}");
        if !dns_subdomain(name) {
            return Err(Problem::new(
                format!("karpenter.pools.{name}"),
                format!("`{name}` is not a valid NodePool name"),
                "use lower-case letters, digits and `-`",
            ));
        }
        if self.capacity_types.is_empty()
            || self
                .capacity_types
                .iter()
                .any(|c| !matches!(c.as_str(), "on-demand" | "spot" | "reserved"))
        {
            return Err(Problem::new(
                key("capacityTypes"),
                format!("{:?}", self.capacity_types),
                "use on-demand, spot and/or reserved",
            ));
        }
        for (field, v) in [
            ("expireAfter", &self.expire_after),
            ("consolidateAfter", &self.consolidate_after),
        ] {
            if !(duration(v) || v == "Never") {
                return Err(Problem::new(
                    key(field),
                    format!("`{v}` is not a duration"),
                    "write e.g. 720h, 5m or Never",
                ));
            }
        }
        if let Some(t) = &self.taint {
            if Taint::parse(t).is_none() {
                return Err(Problem::new(
                    key("taint"),
                    format!("`{t}` is not a taint"),
                    "write key=value:NoSchedule (or PreferNoSchedule, NoExecute)",
                ));
            }
        }
        Ok(())
    }
}

/// Karpenter's duration pattern `^([0-9]+(s|m|h))+$`.
fn duration(s: &str) -> bool {
    let mut digits = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '0'..='9' => digits = true,
            's' | 'm' | 'h' if digits => {
                digits = false;
                any = true;
            }
            _ => return false,
        }
    }
    any && !digits
}

impl Rule for Karpenter {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn stream(&self, cx: &Cx) -> Vec<Finding> {
        let Some(k) = cx.policy.karpenter.as_ref().filter(|k| k.enabled) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if !cx.exists("EC2NodeClass", None, &k.node_class_name) {
            let ctx = json!({
                "name": k.node_class_name,
                "labels": generated_labels(None),
                "cluster_name": k.cluster_name,
                "role": k.role(),
                "root_volume_type": k.root_volume_type,
                "root_volume_size": k.root_volume_size,
            });
            let Some(new) = cx.render::<EC2NodeClass>("ec2nodeclass.yaml", &ctx, 0) else {
                return out;
            };
            let msg = format!(
                "adds EC2NodeClass {} (AL2023, IMDSv2, encrypted {} root volume) for cluster {}",
                k.node_class_name, k.root_volume_type, k.cluster_name
            );
            out.push(
                Finding::about(
                    &Self::META,
                    Severity::Info,
                    None,
                    format!("EC2NodeClass/{}", k.node_class_name),
                    msg,
                )
                .adding(new),
            );
        }
        for (name, pool) in &k.pools {
            if cx.exists("NodePool", None, name) {
                continue;
            }
            let taint = pool
                .taint
                .as_deref()
                .and_then(Taint::parse)
                .map(|t| match t.value {
                    Some(v) => json!({"key": t.key, "value": v, "effect": t.effect}),
                    None => json!({"key": t.key, "effect": t.effect}),
                });
            let ctx = json!({
                "name": name,
                "labels": generated_labels(None),
                "node_class": k.node_class_name,
                "architectures": pool.architectures,
                "capacity_types": pool.capacity_types,
                "instance_categories": pool.instance_categories,
                "min_generation": pool.min_generation.to_string(),
                "zones": k.zones,
                "taint": taint,
                "expire_after": pool.expire_after,
                "consolidate_after": pool.consolidate_after,
                "cpu_limit": pool.cpu_limit,
                "memory_limit": pool.memory_limit,
            });
            let Some(new) = cx.render::<NodePool>("nodepool.yaml", &ctx, 0) else {
                return out;
            };
            let msg = format!(
                "adds NodePool {name} ({}; {})",
                pool.capacity_types.join("/"),
                if k.zones.is_empty() {
                    "every zone of the discovered subnets".to_string()
                } else {
                    k.zones.join(", ")
                }
            );
            out.push(
                Finding::about(
                    &Self::META,
                    Severity::Info,
                    None,
                    format!("NodePool/{name}"),
                    msg,
                )
                .adding(new),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_karpenters_pattern() {
        assert!(duration("720h") && duration("1h30m") && duration("5m"));
        assert!(!duration("") && !duration("5") && !duration("h") && !duration("5d"));
    }
}
