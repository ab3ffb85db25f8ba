//! Placing pods on nodes as kube-scheduler's filters would, in its plugin order
//! (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, VolumeZone,
//! PodTopologySpread, InterPodAffinity), then a deterministic stand-in for its scoring: fewest
//! preferred-anti-affinity conflicts and least skew for ScheduleAnyway spread, then the system
//! default spreading, then the least allocated node, then the node name.

use super::cluster::{Node, Taint, UNSCHEDULABLE};
use super::pods::{Constraint, Labels, Model, Template};
use crate::selector;
use crate::yaml::Json;
use std::collections::BTreeMap;
use std::fmt;

/// The label the Deployment controller puts on each revision's pods.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

#[derive(Clone, Debug)]
pub struct Pod {
    pub template: usize,
    pub labels: Labels,
    /// The node it runs on; `None` while Pending.
    pub node: Option<usize>,
    /// The zone its ReadWriteOnce volume is bound to, once it first ran.
    pub zone_pin: Option<String>,
    /// 0 for the running revision; rollouts create revision 1.
    pub revision: u32,
    /// Why it is Pending (the scheduler's message), when it is.
    pub pending: Option<String>,
    /// Its Ready condition: a running pod that is not Ready counts against its budgets.
    pub ready: bool,
}

/// The cluster with its pods.
#[derive(Clone, Debug)]
pub struct State<'m> {
    pub model: &'m Model,
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
}

/// Why a node does not fit a pod: kube-scheduler's wording, so the message is familiar.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Why {
    Unschedulable,
    Taint(String),
    NodeAffinity,
    Ports,
    TooManyPods,
    Insufficient(&'static str),
    VolumeZone,
    SpreadLabel,
    Spread,
    Affinity,
    AntiAffinity,
    ExistingAntiAffinity,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Unschedulable => write!(f, "node(s) were unschedulable"),
            Why::Taint(t) => write!(f, "node(s) had untolerated taint {t}"),
            Why::NodeAffinity => write!(f, "node(s) didn't match Pod's node affinity/selector"),
            Why::Ports => write!(
                f,
                "node(s) didn't have free ports for the requested pod ports"
            ),
            Why::TooManyPods => write!(f, "Too many pods"),
            Why::Insufficient(what) => write!(f, "Insufficient {what}"),
            Why::VolumeZone => write!(f, "node(s) had volume node affinity conflict"),
            Why::SpreadLabel => write!(
                f,
                "node(s) didn't match pod topology spread constraints (missing required label)"
            ),
            Why::Spread => write!(f, "node(s) didn't match pod topology spread constraints"),
            Why::Affinity => write!(f, "node(s) didn't match pod affinity rules"),
            Why::ExistingAntiAffinity => write!(
                f,
                "node(s) didn't satisfy existing pods anti-affinity rules"
            ),
            Why::AntiAffinity => write!(f, "node(s) didn't match pod anti-affinity rules"),
        }
    }
}

impl std::error::Error for Why {}

/// kube-scheduler's `FitError`: no node fits the pod, and how many nodes each reason ruled out.
#[derive(Debug)]
pub struct FitError {
    nodes: usize,
    reasons: BTreeMap<Why, usize>,
}

impl fmt::Display for FitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // "N reason" strings, sorted as strings.
        let mut parts: Vec<String> = self
            .reasons
            .iter()
            .map(|(why, n)| format!("{n} {why}"))
            .collect();
        parts.sort();
        write!(
            f,
            "0/{} nodes are available: {}",
            self.nodes,
            parts.join(", ")
        )
    }
}

impl std::error::Error for FitError {}

impl<'m> State<'m> {
    /// Every template's replicas, created in stream order and scheduled one by one.
    pub fn new(model: &'m Model, nodes: Vec<Node>) -> State<'m> {
        let mut state = State {
            model,
            nodes,
            pods: Vec::new(),
        };
        for (i, t) in model.templates.iter().enumerate() {
            for _ in 0..t.replicas {
                state.pods.push(state.new_pod(i, 0));
            }
        }
        state.schedule_pending();
        state
    }

    pub fn new_pod(&self, template: usize, revision: u32) -> Pod {
        let t = &self.model.templates[template];
        let mut labels = t.labels.clone();
        if t.kind == crate::workload::Kind::Deployment {
            labels.insert(POD_TEMPLATE_HASH, Json::from(format!("rev{revision}")));
        }
        Pod {
            template,
            labels,
            node: None,
            zone_pin: None,
            revision,
            pending: None,
            ready: true,
        }
    }

    pub fn template(&self, pod: &Pod) -> &'m Template {
        &self.model.templates[pod.template]
    }

    /// Is the pod running (on a node that is still reachable)?
    pub fn running(&self, pod: &Pod) -> bool {
        pod.node.is_some_and(|n| !self.nodes[n].gone)
    }

    /// Running and Ready: what a budget counts as healthy and a Service sends traffic to.
    pub fn healthy(&self, pod: &Pod) -> bool {
        pod.ready && self.running(pod)
    }

    /// The ready count of a template.
    pub fn ready(&self, template: usize) -> usize {
        self.pods
            .iter()
            .filter(|p| p.template == template && self.healthy(p))
            .count()
    }

    /// Try every Pending pod, in creation order.
    pub fn schedule_pending(&mut self) {
        for i in 0..self.pods.len() {
            if self.pods[i].node.is_none() {
                match self.place(i) {
                    Ok(node) => {
                        let zone = self.nodes[node].zone.clone();
                        let pod = &mut self.pods[i];
                        // A replacement is a new pod; the drill takes it as Ready once placed.
                        pod.node = Some(node);
                        pod.pending = None;
                        pod.ready = true;
                        if self.model.templates[pod.template].zonal_volume {
                            pod.zone_pin.get_or_insert(zone);
                        }
                    }
                    Err(why) => self.pods[i].pending = Some(why.to_string()),
                }
            }
        }
    }

    /// The node pod `i` would go to, or the scheduler's "0/N nodes are available" message.
    pub fn place(&self, i: usize) -> Result<usize, FitError> {
        let pod = &self.pods[i];
        let mut fits = Vec::new();
        let mut why: BTreeMap<Why, usize> = BTreeMap::new();
        // A NotReady node stays in the scheduler's snapshot; its unreachable taint keeps
        // pods off it.
        for n in 0..self.nodes.len() {
            match self.filter(pod, n) {
                Ok(()) => fits.push(n),
                Err(w) => *why.entry(w).or_default() += 1,
            }
        }
        if fits.is_empty() {
            return Err(FitError {
                nodes: self.nodes.len(),
                reasons: why,
            });
        }
        Ok(fits
            .into_iter()
            .min_by_key(|&n| (self.score(pod, n), self.nodes[n].name.clone()))
            .expect("not empty"))
    }

    /// Would pod `i` pass every filter on node `n`? `Err` is the scheduler's reason.
    pub fn fits(&self, i: usize, n: usize) -> Result<(), Why> {
        self.filter(&self.pods[i], n)
    }

    fn filter(&self, pod: &Pod, n: usize) -> Result<(), Why> {
        let t = self.template(pod);
        let node = &self.nodes[n];
        if node.cordoned
            && !t
                .tolerations
                .iter()
                .any(|tol| tol.tolerates(&cordon_taint()))
        {
            return Err(Why::Unschedulable);
        }
        if let Some(taint) = untolerated(t, &node.taints) {
            return Err(Why::Taint(format!("{{{}: {}}}", taint.key, taint.value)));
        }
        if !node_affinity(t, node) {
            return Err(Why::NodeAffinity);
        }
        let on_node = || self.pods.iter().filter(move |p| p.node == Some(n));
        if on_node().any(|other| {
            let o = self.template(other);
            t.host_ports
                .iter()
                .any(|hp| o.host_ports.iter().any(|x| hp.conflicts(x)))
        }) {
            return Err(Why::Ports);
        }
        let (mut cpu, mut memory, mut count) = (t.cpu, t.memory, 1);
        for other in on_node() {
            let o = self.template(other);
            cpu += o.cpu;
            memory += o.memory;
            count += 1;
        }
        if count > node.max_pods {
            return Err(Why::TooManyPods);
        }
        if cpu > node.cpu {
            return Err(Why::Insufficient("cpu"));
        }
        if memory > node.memory {
            return Err(Why::Insufficient("memory"));
        }
        if pod.zone_pin.as_ref().is_some_and(|z| *z != node.zone) {
            return Err(Why::VolumeZone);
        }
        let hard: Vec<&Constraint> = t.spread.iter().filter(|c| c.hard).collect();
        for c in &hard {
            let Some(value) = node.labels.get(&c.topology_key) else {
                return Err(Why::SpreadLabel);
            };
            let (counts, min) = self.domains(pod, c, &hard);
            let self_match =
                usize::from(selector::matches(&c.selector_for(&pod.labels), &pod.labels));
            let skew = counts.get(value).copied().unwrap_or(0) + self_match;
            if skew > min + c.max_skew as usize {
                return Err(Why::Spread);
            }
        }
        // InterPodAffinity: the pod's required affinity, its own required anti-affinity, then
        // existing pods' anti-affinity against it. Every assigned pod counts, Ready or not.
        if !self.affinity_satisfied(pod, node) {
            return Err(Why::Affinity);
        }
        let model = self.model;
        let assigned = || self.pods.iter().filter(|p| p.node.is_some());
        let own_ns = model.namespace_labels(&t.namespace);
        for term in &t.anti_required {
            let hit = assigned().any(|other| {
                let o = self.template(other);
                term.selects(
                    &t.namespace,
                    &o.namespace,
                    &model.namespace_labels(&o.namespace),
                    &other.labels,
                ) && same_domain(
                    node,
                    &self.nodes[other.node.expect("assigned")],
                    &term.topology_key,
                )
            });
            if hit {
                return Err(Why::AntiAffinity);
            }
        }
        for other in assigned() {
            let o = self.template(other);
            let on = &self.nodes[other.node.expect("assigned")];
            if o.anti_required.iter().any(|term| {
                term.selects(&o.namespace, &t.namespace, &own_ns, &pod.labels)
                    && same_domain(node, on, &term.topology_key)
            }) {
                return Err(Why::ExistingAntiAffinity);
            }
        }
        Ok(())
    }

    /// `satisfyPodAffinity`: the node carries every term's topology key and, for each term, a
    /// pod matching all the terms runs in the node's domain. The first pod of a group whose
    /// terms select itself may go anywhere those keys exist while no such pod runs anywhere.
    fn affinity_satisfied(&self, pod: &Pod, node: &Node) -> bool {
        let t = self.template(pod);
        if t.affinity_required.is_empty() {
            return true;
        }
        if !t
            .affinity_required
            .iter()
            .all(|term| node.labels.contains_key(&term.topology_key))
        {
            return false;
        }
        let model = self.model;
        let matches_all = |ns: &str, labels: &Labels| {
            let ns_labels = model.namespace_labels(ns);
            t.affinity_required
                .iter()
                .all(|term| term.selects(&t.namespace, ns, &ns_labels, labels))
        };
        let matching: Vec<&Node> = self
            .pods
            .iter()
            .filter(|p| matches_all(&self.template(p).namespace, &p.labels))
            .filter_map(|p| p.node.map(|n| &self.nodes[n]))
            .collect();
        let counted = |term: &super::pods::Term| {
            matching
                .iter()
                .any(|on| on.labels.contains_key(&term.topology_key))
        };
        if t.affinity_required.iter().all(|term| {
            matching
                .iter()
                .any(|on| same_domain(node, on, &term.topology_key))
        }) {
            return true;
        }
        !t.affinity_required.iter().any(counted) && matches_all(&t.namespace, &pod.labels)
    }

    /// Matching pods per domain of `c`'s topology key, and the global minimum (0 when fewer
    /// domains than `minDomains` exist), over the nodes that count for `pod`: nodes with every
    /// hard constraint's key that pass the node-inclusion policies (PodTopologySpread PreFilter).
    fn domains(
        &self,
        pod: &Pod,
        c: &Constraint,
        all: &[&Constraint],
    ) -> (BTreeMap<String, usize>, usize) {
        let t = self.template(pod);
        let sel = c.selector_for(&pod.labels);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        // NotReady nodes stay domains: they carry the key, and under the default
        // nodeTaintsPolicy Ignore their unreachable taint does not exclude them.
        for (n, node) in self.nodes.iter().enumerate() {
            if !all
                .iter()
                .all(|k| node.labels.contains_key(&k.topology_key))
            {
                continue;
            }
            if c.honor_affinity && !node_affinity(t, node) {
                continue;
            }
            let mut taints = node.taints.clone();
            if node.cordoned {
                taints.push(cordon_taint());
            }
            if c.honor_taints && untolerated(t, &taints).is_some() {
                continue;
            }
            let matching = self
                .pods
                .iter()
                .filter(|p| {
                    p.node == Some(n)
                        && self.template(p).namespace == t.namespace
                        && selector::matches(&sel, &p.labels)
                })
                .count();
            *counts
                .entry(node.labels[&c.topology_key].clone())
                .or_default() += matching;
        }
        let mut min = counts.values().copied().min().unwrap_or(0);
        if c.min_domains.is_some_and(|m| counts.len() < m as usize) {
            min = 0;
        }
        (counts, min)
    }

    /// Lower is better: (preferred anti-affinity and ScheduleAnyway penalty, default spreading,
    /// per-mille of CPU and memory in use after placing).
    fn score(&self, pod: &Pod, n: usize) -> (i64, i64, u64) {
        let t = self.template(pod);
        let node = &self.nodes[n];
        let running: Vec<&Pod> = self.pods.iter().filter(|p| self.running(p)).collect();
        let mut penalty = 0;
        for other in &running {
            let o = self.template(other);
            let on = &self.nodes[other.node.expect("running")];
            for (w, term) in &t.anti_preferred {
                let ns_labels = self.model.namespace_labels(&o.namespace);
                if term.selects(&t.namespace, &o.namespace, &ns_labels, &other.labels)
                    && same_domain(node, on, &term.topology_key)
                {
                    penalty += w;
                }
            }
            for (w, term) in &o.anti_preferred {
                let ns_labels = self.model.namespace_labels(&t.namespace);
                if term.selects(&o.namespace, &t.namespace, &ns_labels, &pod.labels)
                    && same_domain(node, on, &term.topology_key)
                {
                    penalty += w;
                }
            }
        }
        let soft: Vec<&Constraint> = t.spread.iter().filter(|c| !c.hard).collect();
        for c in &soft {
            if let Some(value) = node.labels.get(&c.topology_key) {
                let (counts, min) = self.domains(pod, c, &soft);
                penalty += 100 * (counts.get(value).copied().unwrap_or(0) as i64 - min as i64);
            }
        }
        // Without constraints of its own, a controller's pod gets the system defaults:
        // ScheduleAnyway on hostname (maxSkew 3) and zone (maxSkew 5).
        let mut default_spread = 0;
        if t.spread.is_empty() {
            for other in running.iter().filter(|p| p.template == pod.template) {
                let on = &self.nodes[other.node.expect("running")];
                default_spread +=
                    i64::from(on.name == node.name) * 2 + i64::from(on.zone == node.zone);
            }
        }
        // Scoring counts a pod without requests as 100m CPU and 200Mi (GetNonzeroRequests).
        let nonzero = |t: &Template| {
            (
                if t.cpu == 0 { 100 } else { t.cpu },
                if t.memory == 0 { 200 << 20 } else { t.memory },
            )
        };
        let (mut cpu, mut mem) = nonzero(t);
        for other in self.pods.iter().filter(|p| p.node == Some(n)) {
            let (c, m) = nonzero(self.template(other));
            cpu += c;
            mem += m;
        }
        let used = (cpu * 1000 / node.cpu.max(1)) + (mem * 1000 / node.memory.max(1));
        (penalty, default_spread, used)
    }
}

fn cordon_taint() -> Taint {
    Taint {
        key: UNSCHEDULABLE.into(),
        value: String::new(),
        effect: "NoSchedule".into(),
    }
}

/// The first NoSchedule/NoExecute taint none of the template's tolerations tolerates.
fn untolerated<'a>(t: &Template, taints: &'a [Taint]) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|x| x.effect == "NoSchedule" || x.effect == "NoExecute")
        .find(|x| !t.tolerations.iter().any(|tol| tol.tolerates(x)))
}

/// nodeSelector and required node affinity.
pub fn node_affinity(t: &Template, node: &Node) -> bool {
    t.node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v))
        && t.node_affinity.as_ref().is_none_or(|terms| {
            terms
                .iter()
                .any(|reqs| !reqs.is_empty() && reqs.iter().all(|r| r.matches(node)))
        })
}

/// Both nodes carry `key` with the same value.
fn same_domain(a: &Node, b: &Node, key: &str) -> bool {
    matches!((a.labels.get(key), b.labels.get(key)), (Some(x), Some(y)) if x == y)
}
