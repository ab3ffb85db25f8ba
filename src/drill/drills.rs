//! The failure drills, each run from the same baseline placement: losing a zone, draining a node
//! or a whole zone through the eviction API, and rolling out each Deployment.

use super::disruption;
use super::pods::Strategy;
use super::schedule::State;
use crate::yaml::Json;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drill {
    ZoneLoss,
    Drain,
    Rollout,
}

impl Drill {
    pub fn title(self) -> &'static str {
        match self {
            Drill::ZoneLoss => "zone loss",
            Drill::Drain => "drain",
            Drill::Rollout => "rollout",
        }
    }
}

/// What one run of a drill did to one workload.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Effect {
    /// The lowest number of ready pods seen during the run.
    pub min_ready: usize,
    /// The run cannot finish because of this workload, and why.
    pub blocked: Option<String>,
    /// Pods left Pending at the end, with the scheduler's message.
    pub pending: Option<String>,
    /// Ready pods fell below the PDB's required count.
    pub below_budget: Option<String>,
    /// The budgets that allowed its evictions (drains).
    pub allowed_by: Vec<String>,
    /// The pods were touched by the run at all.
    pub touched: bool,
    /// The most pods running at once (a rollout's surge).
    pub max_running: usize,
}

/// One run: a drill on one target (a zone, a node, a Deployment).
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    pub drill: Drill,
    /// `zone-a`, `node zone-a-1`, `zone zone-a (node by node)`, `Deployment/x`.
    pub target: String,
    /// Per template, in model order.
    pub effects: Vec<Effect>,
}

fn effects(state: &State) -> Vec<Effect> {
    (0..state.model.templates.len())
        .map(|t| Effect {
            min_ready: state.ready(t),
            max_running: state.ready(t),
            ..Effect::default()
        })
        .collect()
}

fn note_ready(state: &State, effects: &mut [Effect], template: usize) {
    let e = &mut effects[template];
    let ready = state.ready(template);
    e.min_ready = e.min_ready.min(ready);
    e.max_running = e.max_running.max(ready);
    e.touched = true;
}

fn note_pending(state: &State, effects: &mut [Effect]) {
    for (t, e) in effects.iter_mut().enumerate() {
        let pending: Vec<&str> = state
            .pods
            .iter()
            .filter(|p| p.template == t && p.node.is_none())
            .filter_map(|p| p.pending.as_deref())
            .collect();
        if let Some(first) = pending.first() {
            e.pending = Some(format!("{} pod(s) Pending: {first}", pending.len()));
        }
    }
}

/// Every drill on every target.
pub fn all(base: &State) -> Vec<Run> {
    let mut runs = Vec::new();
    let zones: Vec<String> = {
        let mut z: Vec<String> = base
            .nodes
            .iter()
            .filter(|n| !n.gone)
            .map(|n| n.zone.clone())
            .collect();
        z.sort();
        z.dedup();
        z
    };
    for zone in &zones {
        runs.push(zone_loss(base, zone));
    }
    for n in 0..base.nodes.len() {
        runs.push(drain(base, &[n], format!("node {}", base.nodes[n].name)));
    }
    for zone in &zones {
        let nodes: Vec<usize> = (0..base.nodes.len())
            .filter(|&n| base.nodes[n].zone == *zone)
            .collect();
        runs.push(drain(base, &nodes, format!("zone {zone} (node by node)")));
    }
    for t in 0..base.model.templates.len() {
        if let Some(run) = rollout(base, t) {
            runs.push(run);
        }
    }
    runs
}

/// Every node of `zone` becomes unreachable at once: the node lifecycle controller marks it
/// NotReady and taints it `node.kubernetes.io/unreachable` (NoSchedule, NoExecute); its pods
/// are lost and the controllers recreate them. The nodes stay in the cluster, so they still
/// count as topology spread domains.
pub fn zone_loss(base: &State, zone: &str) -> Run {
    let mut s = base.clone();
    let mut fx = effects(&s);
    for node in s.nodes.iter_mut().filter(|n| n.zone == zone) {
        node.gone = true;
        for effect in ["NoSchedule", "NoExecute"] {
            node.taints.push(super::cluster::Taint {
                key: super::cluster::UNREACHABLE.into(),
                value: String::new(),
                effect: effect.into(),
            });
        }
    }
    for t in 0..fx.len() {
        if s.pods
            .iter()
            .any(|p| p.template == t && p.node.is_some_and(|n| s.nodes[n].gone))
        {
            note_ready(&s, &mut fx, t);
        }
    }
    for pdb in &s.model.pdbs {
        let st = disruption::status(&s, pdb);
        if st.healthy < st.desired {
            for (t, e) in fx.iter_mut().enumerate() {
                if s.pods.iter().any(|p| {
                    p.template == t && pdb.selects(&s.model.templates[t].namespace, &p.labels)
                }) {
                    e.below_budget = Some(format!(
                        "{} ready < {} required by {}",
                        st.healthy,
                        st.desired,
                        pdb.describe()
                    ));
                }
            }
        }
    }
    for pod in s
        .pods
        .iter_mut()
        .filter(|p| p.node.is_some_and(|n| s.nodes[n].gone))
    {
        pod.node = None;
    }
    s.schedule_pending();
    note_pending(&s, &mut fx);
    Run {
        drill: Drill::ZoneLoss,
        target: zone.to_string(),
        effects: fx,
    }
}

/// `kubectl drain` of `nodes`: cordon them all, then evict node by node through the eviction API;
/// each evicted pod's replacement is scheduled before the next eviction is tried.
pub fn drain(base: &State, nodes: &[usize], target: String) -> Run {
    let mut s = base.clone();
    let mut fx = effects(&s);
    for &n in nodes {
        s.nodes[n].cordoned = true;
    }
    for &n in nodes {
        // Pods that tolerate the cordon may come straight back; kubectl would evict them forever.
        let mut budget = 4 * s.pods.len() + 4;
        loop {
            budget -= 1;
            if budget == 0 {
                for t in s
                    .pods
                    .iter()
                    .filter(|p| p.node == Some(n))
                    .map(|p| p.template)
                    .collect::<Vec<_>>()
                {
                    fx[t].touched = true;
                    fx[t].blocked.get_or_insert(format!(
                        "drain of {} never ends: its pods tolerate {} and come back",
                        s.nodes[n].name,
                        super::cluster::UNSCHEDULABLE
                    ));
                }
                break;
            }
            let on_node: Vec<usize> = (0..s.pods.len())
                .filter(|&i| s.pods[i].node == Some(n))
                .collect();
            if on_node.is_empty() {
                break;
            }
            let mut progress = false;
            let mut refused = Vec::new();
            for i in on_node {
                match disruption::evict(&s, i) {
                    Ok(by) => {
                        let t = s.pods[i].template;
                        s.pods[i].node = None;
                        note_ready(&s, &mut fx, t);
                        if let Some(by) = by.filter(|b| !fx[t].allowed_by.contains(b)) {
                            fx[t].allowed_by.push(by);
                        }
                        s.schedule_pending();
                        progress = true;
                    }
                    Err(why) => refused.push((s.pods[i].template, why)),
                }
            }
            if !progress {
                for (t, why) in refused {
                    fx[t].touched = true;
                    fx[t].blocked.get_or_insert(format!(
                        "drain of {} blocks forever: {why}",
                        s.nodes[n].name
                    ));
                }
                break;
            }
        }
    }
    note_pending(&s, &mut fx);
    Run {
        drill: Drill::Drain,
        target,
        effects: fx,
    }
}

/// A string `maxSurge`/`maxUnavailable` that is not a percentage, worded as apimachinery's
/// `GetScaledValueFromIntOrPercent` error.
#[derive(Debug, PartialEq)]
pub struct NotAPercent(pub String);

impl std::fmt::Display for NotAPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid value for IntOrString: invalid value {:?}",
            self.0
        )
    }
}

impl std::error::Error for NotAPercent {}

/// `ResolveFenceposts` (pkg/controller/deployment/util): maxSurge rounds up, maxUnavailable
/// down, both 0 makes maxUnavailable 1; a string that is not a percentage is an error.
pub fn fenceposts(
    max_surge: &Json,
    max_unavailable: &Json,
    desired: u32,
) -> Result<(u32, u32), NotAPercent> {
    let scaled = |v: &Json, up: bool| -> Result<u32, NotAPercent> {
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        match v {
            Json::Number(n) => Ok(n.as_u64().map_or(0, clamp)),
            Json::String(s) => {
                let p: u64 = s
                    .strip_suffix('%')
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| NotAPercent(s.to_string()))?;
                let n = u64::from(desired) * p;
                Ok(clamp(if up { n.div_ceil(100) } else { n / 100 }))
            }
            _ => Ok(0),
        }
    };
    let surge = scaled(max_surge, true)?;
    let unavailable = scaled(max_unavailable, false)?;
    Ok((
        surge,
        if surge == 0 && unavailable == 0 {
            1
        } else {
            unavailable
        },
    ))
}

/// `MaxUnavailable` (pkg/controller/deployment/util): the resolved maxUnavailable, never more
/// than the replicas; 0 for Recreate, for no replicas and for an unusable strategy.
pub fn max_unavailable(strategy: &Strategy, replicas: u32) -> u32 {
    match strategy {
        Strategy::Rolling(ms, mu) if replicas > 0 => {
            fenceposts(ms, mu, replicas).map_or(0, |(_, unavailable)| unavailable.min(replicas))
        }
        _ => 0,
    }
}

/// A rollout of Deployment template `t` to a new revision, as the Deployment controller runs it.
pub fn rollout(base: &State, t: usize) -> Option<Run> {
    let tpl = &base.model.templates[t];
    let strategy = tpl.strategy.clone();
    if strategy == Strategy::Other || tpl.replicas == 0 {
        return None;
    }
    let mut s = base.clone();
    let mut fx = effects(&s);
    fx[t].touched = true;
    if let Strategy::Invalid(why) = &strategy {
        fx[t].blocked = Some(format!(
            "invalid Deployment, the API server rejects it: {why}"
        ));
        return Some(Run {
            drill: Drill::Rollout,
            target: tpl.workload.clone(),
            effects: fx,
        });
    }
    let desired = tpl.replicas as usize;
    let of = |s: &State, rev: u32| -> Vec<usize> {
        (0..s.pods.len())
            .filter(|&i| s.pods[i].template == t && s.pods[i].revision == rev)
            .collect()
    };
    let ready_of =
        |s: &State, idx: &[usize]| idx.iter().filter(|&&i| s.healthy(&s.pods[i])).count();
    let (surge, unavailable) = match &strategy {
        Strategy::Rolling(ms, mu) => match fenceposts(ms, mu, tpl.replicas) {
            Ok(f) => f,
            Err(why) => {
                fx[t].blocked = Some(format!("the Deployment controller cannot roll it: {why}"));
                return Some(Run {
                    drill: Drill::Rollout,
                    target: tpl.workload.clone(),
                    effects: fx,
                });
            }
        },
        _ => (0, 0),
    };
    if strategy == Strategy::Recreate {
        s.pods.retain(|p| p.template != t);
        note_ready(&s, &mut fx, t);
        for _ in 0..desired {
            let p = s.new_pod(t, 1);
            s.pods.push(p);
        }
        s.schedule_pending();
    } else {
        let mut done = false;
        for _ in 0..(4 * desired + 8) {
            let mut changed = false;
            let (old, new) = (of(&s, 0), of(&s, 1));
            let total = old.len() + new.len();
            if new.len() < desired && total < desired + surge as usize {
                for _ in 0..(desired + surge as usize - total).min(desired - new.len()) {
                    let p = s.new_pod(t, 1);
                    s.pods.push(p);
                }
                s.schedule_pending();
                note_ready(&s, &mut fx, t);
                changed = true;
            }
            let (old, new) = (of(&s, 0), of(&s, 1));
            let all_pods = (old.len() + new.len()) as i64;
            let min_available = desired as i64 - i64::from(unavailable);
            let new_unavailable = (new.len() - ready_of(&s, &new)) as i64;
            let max_down = all_pods - min_available - new_unavailable;
            if max_down > 0 {
                // cleanupUnhealthyReplicas: old pods that are not Ready go first.
                let mut unhealthy: Vec<usize> = old
                    .iter()
                    .copied()
                    .filter(|&i| !s.healthy(&s.pods[i]))
                    .collect();
                unhealthy.truncate(max_down as usize);
                changed |= !unhealthy.is_empty();
                remove(&mut s, unhealthy);
                let (old, new) = (of(&s, 0), of(&s, 1));
                let available = (ready_of(&s, &old) + ready_of(&s, &new)) as i64;
                // scaleDownOldReplicaSetsForRollingUpdate: down to minAvailable, never below.
                let down = (available - min_available).min(old.len() as i64);
                if down > 0 {
                    let victims = pick_victims(&s, &old, down as usize);
                    remove(&mut s, victims);
                    note_ready(&s, &mut fx, t);
                    s.schedule_pending();
                    changed = true;
                }
            }
            let (old, new) = (of(&s, 0), of(&s, 1));
            if old.is_empty() && ready_of(&s, &new) == desired {
                done = true;
                break;
            }
            if !changed {
                break;
            }
        }
        if !done {
            let new = of(&s, 1);
            let pending = new.iter().find_map(|&i| s.pods[i].pending.clone());
            let why = match (pending, unavailable) {
                (Some(p), 0) => format!("rollout deadlocks: the surge pod stays Pending ({p}) and maxUnavailable resolves to 0, so no old pod is removed to make room"),
                (Some(p), _) => format!("rollout never completes: new pods stay Pending ({p})"),
                (None, _) => "rollout never completes".to_string(),
            };
            fx[t].blocked = Some(why);
        }
    }
    note_pending(&s, &mut fx);
    Some(Run {
        drill: Drill::Rollout,
        target: tpl.workload.clone(),
        effects: fx,
    })
}

/// The old pods a ReplicaSet scale-down deletes first: Pending or not Ready, then on the node with the most
/// pods of the workload, then the newest.
fn pick_victims(s: &State, old: &[usize], n: usize) -> Vec<usize> {
    let mut ranked: Vec<(bool, usize, usize)> = old
        .iter()
        .map(|&i| {
            let crowd = s
                .pods
                .iter()
                .filter(|p| {
                    p.template == s.pods[i].template && p.node.is_some() && p.node == s.pods[i].node
                })
                .count();
            (s.healthy(&s.pods[i]), usize::MAX - crowd, usize::MAX - i)
        })
        .collect();
    ranked.sort();
    ranked
        .into_iter()
        .take(n)
        .map(|(_, _, i)| usize::MAX - i)
        .collect()
}

fn remove(s: &mut State, mut idx: Vec<usize>) {
    idx.sort_unstable();
    for i in idx.into_iter().rev() {
        s.pods.remove(i);
    }
}
