use super::{generated_labels, rule, Cx, Finding, Rule, Severity};
use crate::json;
use crate::policy::Taint;
use crate::templates::karpenter::{EC2NodeClass, NodePool};

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
