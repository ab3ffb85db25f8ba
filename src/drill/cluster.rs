//! The simulated cluster: nodes with a zone, labels, taints and allocatable resources, from
//! flags (`--zones`, `--nodes-per-zone`, `--node-cpu`, `--node-memory`) or a small YAML file.

use super::quantity;
use crate::error::Failure;
use crate::policy::Karpenter;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const ZONE: &str = "topology.kubernetes.io/zone";
/// The taint `kubectl cordon` stands for (the NodeUnschedulable filter checks its toleration).
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
/// The taint the node lifecycle controller puts on a node it cannot reach.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: String,
}

impl Taint {
    /// `key=value:Effect` or `key:Effect`.
    pub fn parse(text: &str) -> Option<Taint> {
        let (kv, effect) = text.rsplit_once(':')?;
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        let effect = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
            .into_iter()
            .find(|e| *e == effect)?;
        (!key.is_empty()).then(|| Taint {
            key: key.into(),
            value: value.into(),
            effect: effect.into(),
        })
    }

    pub fn describe(&self) -> String {
        if self.value.is_empty() {
            format!("{}:{}", self.key, self.effect)
        } else {
            format!("{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub zone: String,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    /// Allocatable CPU, millicores.
    pub cpu: u64,
    /// Allocatable memory, bytes.
    pub memory: u64,
    pub max_pods: u32,
    /// `kubectl cordon`: `spec.unschedulable`.
    pub cordoned: bool,
    /// Lost with its zone: NotReady and unreachable, its pods gone; still a node.
    pub gone: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub nodes: Vec<Node>,
}

/// `zone-a`, `zone-b`, … `zone-z`, `zone-27`, …
pub fn zone_name(i: usize) -> String {
    match u8::try_from(i).ok().filter(|i| *i < 26) {
        Some(i) => format!("zone-{}", char::from(b'a' + i)),
        None => format!("zone-{}", i + 1),
    }
}

/// One pool of identical nodes in the cluster file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PoolFile {
    name: String,
    /// Nodes per zone.
    #[serde(default = "one")]
    count: usize,
    #[serde(default)]
    cpu: Option<String>,
    #[serde(default)]
    memory: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// `key=value:Effect` strings.
    #[serde(default)]
    taints: Vec<String>,
    /// Zones this pool has nodes in; default every zone.
    #[serde(default)]
    zones: Option<Vec<String>>,
}

fn one() -> usize {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClusterFile {
    #[serde(default)]
    zones: Option<Vec<String>>,
    pools: Vec<PoolFile>,
}

/// The size of one node.
#[derive(Clone, Debug)]
pub struct Shape {
    pub cpu: u64,
    pub memory: u64,
}

impl Shape {
    pub fn parse(cpu: &str, memory: &str) -> Result<Shape, BadShape> {
        let cpu = quantity::parse(cpu)
            .map(quantity::millicores)
            .filter(|c| *c > 0)
            .ok_or_else(|| BadShape::Cpu(cpu.to_string()))?;
        let memory = quantity::parse(memory)
            .map(quantity::bytes)
            .filter(|m| *m > 0)
            .ok_or_else(|| BadShape::Memory(memory.to_string()))?;
        Ok(Shape { cpu, memory })
    }
}

/// A node size that is not a positive quantity, as given.
#[derive(Debug, PartialEq)]
pub enum BadShape {
    Cpu(String),
    Memory(String),
}

impl std::fmt::Display for BadShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadShape::Cpu(cpu) => write!(f, "`{cpu}` is not a CPU quantity (e.g. 4, 3500m)"),
            BadShape::Memory(memory) => {
                write!(f, "`{memory}` is not a memory quantity (e.g. 16Gi)")
            }
        }
    }
}

impl std::error::Error for BadShape {}

impl Cluster {
    /// `zones` × `per_zone` identical nodes, `zone-a-1`, `zone-a-2`, `zone-b-1`, …
    pub fn uniform(zones: usize, per_zone: usize, shape: &Shape) -> Cluster {
        let names: Vec<String> = (0..zones).map(zone_name).collect();
        let mut nodes = Vec::new();
        for zone in &names {
            for i in 1..=per_zone {
                nodes.push(node(
                    format!("{zone}-{i}"),
                    zone,
                    shape,
                    BTreeMap::new(),
                    Vec::new(),
                ));
            }
        }
        Cluster { nodes }
    }

    /// A cluster file:
    /// ```yaml
    /// zones: [zone-a, zone-b, zone-c]   # default: --zones
    /// pools:
    ///   - name: general
    ///     count: 2                       # nodes per zone
    ///     cpu: "4"
    ///     memory: 16Gi
    ///     labels: {karpenter.sh/nodepool: general}
    ///     taints: ["workload-class=batch:NoSchedule"]
    /// ```
    pub fn from_file(
        name: &str,
        text: &str,
        default_zones: usize,
        default_shape: &Shape,
    ) -> Result<Cluster, Failure> {
        let bad = |what: String| Failure::Usage(format!("cluster file {name}: {what}"));
        let file: ClusterFile = serde_saphyr::from_str(text).map_err(|e| bad(e.to_string()))?;
        let zones = file
            .zones
            .unwrap_or_else(|| (0..default_zones).map(zone_name).collect());
        if zones.is_empty() || file.pools.is_empty() {
            return Err(bad("needs at least one zone and one pool".into()));
        }
        let mut nodes = Vec::new();
        for pool in &file.pools {
            let shape = Shape {
                cpu: default_shape.cpu,
                memory: default_shape.memory,
            };
            let shape = match (&pool.cpu, &pool.memory) {
                (None, None) => shape,
                (cpu, memory) => {
                    let cpu = cpu.clone().unwrap_or_else(|| format!("{}m", shape.cpu));
                    let memory = memory.clone().unwrap_or_else(|| shape.memory.to_string());
                    Shape::parse(&cpu, &memory)
                        .map_err(|e| bad(format!("pool {}: {e}", pool.name)))?
                }
            };
            let taints = pool
                .taints
                .iter()
                .map(|t| {
                    Taint::parse(t).ok_or_else(|| {
                        bad(format!(
                            "pool {}: taint `{t}` is not key=value:Effect",
                            pool.name
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            for zone in pool.zones.as_ref().unwrap_or(&zones) {
                for i in 1..=pool.count {
                    nodes.push(node(
                        format!("{}-{zone}-{i}", pool.name),
                        zone,
                        &shape,
                        pool.labels.clone(),
                        taints.clone(),
                    ));
                }
            }
        }
        Ok(Cluster { nodes })
    }

    /// The policy's Karpenter NodePools: `per_zone` nodes of each pool in each of its zones
    /// (`karpenter.zones`, else `default_zones` generated names), labelled
    /// `karpenter.sh/nodepool` and `karpenter.sh/capacity-type` and carrying the pool's taint.
    pub fn karpenter(
        k: &Karpenter,
        default_zones: usize,
        per_zone: usize,
        shape: &Shape,
    ) -> Result<Cluster, Failure> {
        if k.pools.is_empty() {
            return Err(Failure::Usage(
                "the policy has no `karpenter.pools`; describe the nodes with --zones/--nodes-per-zone or --cluster".into(),
            ));
        }
        let zones: Vec<String> = if k.zones.is_empty() {
            (0..default_zones).map(zone_name).collect()
        } else {
            k.zones.clone()
        };
        let mut nodes = Vec::new();
        for (name, pool) in &k.pools {
            let taints = match &pool.taint {
                Some(t) => vec![Taint::parse(t).ok_or_else(|| {
                    Failure::Usage(format!(
                        "karpenter.pools.{name}.taint `{t}` is not key=value:Effect"
                    ))
                })?],
                None => Vec::new(),
            };
            let mut labels = BTreeMap::new();
            labels.insert("karpenter.sh/nodepool".to_string(), name.clone());
            labels.insert(
                "karpenter.sh/capacity-type".to_string(),
                pool.capacity_types
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "on-demand".into()),
            );
            for zone in &zones {
                for i in 1..=per_zone {
                    nodes.push(node(
                        format!("{name}-{zone}-{i}"),
                        zone,
                        shape,
                        labels.clone(),
                        taints.clone(),
                    ));
                }
            }
        }
        Ok(Cluster { nodes })
    }

    pub fn zones(&self) -> Vec<String> {
        let mut zones: Vec<String> = self.nodes.iter().map(|n| n.zone.clone()).collect();
        zones.sort();
        zones.dedup();
        zones
    }

    pub fn describe(&self) -> String {
        let zones = self.zones();
        let live = self.nodes.iter().filter(|n| !n.gone).count();
        format!("{} zone(s), {} node(s)", zones.len(), live)
    }
}

fn node(
    name: String,
    zone: &str,
    shape: &Shape,
    mut labels: BTreeMap<String, String>,
    taints: Vec<Taint>,
) -> Node {
    labels.insert(HOSTNAME.into(), name.clone());
    labels.insert(ZONE.into(), zone.into());
    Node {
        name,
        zone: zone.into(),
        labels,
        taints,
        cpu: shape.cpu,
        memory: shape.memory,
        max_pods: 110,
        cordoned: false,
        gone: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_cluster_names_zones_and_nodes() {
        let c = Cluster::uniform(3, 2, &Shape::parse("4", "16Gi").unwrap());
        let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["zone-a-1", "zone-a-2", "zone-b-1", "zone-b-2", "zone-c-1", "zone-c-2"]
        );
        assert_eq!(c.nodes[2].labels[ZONE], "zone-b");
        assert_eq!(c.nodes[2].labels[HOSTNAME], "zone-b-1");
        assert_eq!(c.nodes[0].cpu, 4000);
        assert_eq!(c.nodes[0].memory, 16 << 30);
    }

    #[test]
    fn taints_parse_with_and_without_value() {
        assert_eq!(
            Taint::parse("a=b:NoSchedule"),
            Some(Taint {
                key: "a".into(),
                value: "b".into(),
                effect: "NoSchedule".into()
            })
        );
        assert_eq!(
            Taint::parse("a:NoExecute").map(|t| t.value),
            Some(String::new())
        );
        assert_eq!(Taint::parse("a=b:Sometimes"), None);
    }

    #[test]
    fn karpenter_pools_become_labelled_tainted_nodes_per_zone() {
        let k: Karpenter = serde_json::from_value(serde_json::json!({
            "zones": ["us-east-1a", "us-east-1b"],
            "pools": {"general": {"capacityTypes": ["on-demand"]}, "batch": {"capacityTypes": ["spot"], "taint": "workload-class=batch:NoSchedule"}}
        }))
        .unwrap();
        let c = Cluster::karpenter(&k, 3, 1, &Shape::parse("4", "16Gi").unwrap()).unwrap();
        let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "general-us-east-1a-1",
                "general-us-east-1b-1",
                "batch-us-east-1a-1",
                "batch-us-east-1b-1"
            ]
        );
        assert_eq!(c.nodes[2].labels["karpenter.sh/capacity-type"], "spot");
        assert_eq!(c.nodes[2].labels[ZONE], "us-east-1a");
        assert_eq!(
            c.nodes[2].taints[0].describe(),
            "workload-class=batch:NoSchedule"
        );
        assert!(c.nodes[0].taints.is_empty());
        assert!(Cluster::karpenter(
            &Karpenter::default(),
            3,
            1,
            &Shape::parse("4", "16Gi").unwrap()
        )
        .is_err());
    }

    #[test]
    fn cluster_file_pools_and_zones() {
        let text = "zones: [z1, z2]\npools:\n  - name: big\n    count: 2\n    cpu: \"8\"\n  - name: edge\n    zones: [z2]\n    labels: {tier: edge}\n    taints: [\"edge=true:NoExecute\"]\n";
        let c = Cluster::from_file("c.yaml", text, 3, &Shape::parse("4", "16Gi").unwrap()).unwrap();
        let names: Vec<&str> = c.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["big-z1-1", "big-z1-2", "big-z2-1", "big-z2-2", "edge-z2-1"]
        );
        assert_eq!(c.nodes[0].cpu, 8000);
        assert_eq!(c.nodes[4].cpu, 4000);
        assert_eq!(c.nodes[4].labels["tier"], "edge");
        assert!(Cluster::from_file(
            "c.yaml",
            "pools: []\n",
            3,
            &Shape::parse("4", "16Gi").unwrap()
        )
        .is_err());
        assert!(Cluster::from_file(
            "c.yaml",
            "pools:\n  - name: x\n    colour: red\n",
            3,
            &Shape::parse("4", "16Gi").unwrap()
        )
        .is_err());
    }

    #[test]
    fn shape_rejects_garbage() {
        assert_eq!(
            Shape::parse("four", "16Gi").unwrap_err().to_string(),
            "`four` is not a CPU quantity (e.g. 4, 3500m)"
        );
        assert_eq!(
            Shape::parse("4", "0").unwrap_err(),
            BadShape::Memory("0".into())
        );
    }
}
