//! The eviction API's rules: the disruption controller's allowed-disruptions math
//! (pkg/controller/disruption) and the one-budget-per-pod check of the eviction subresource.

use super::pods::Pdb;
use super::schedule::{Pod, State};
use crate::policy::IntOrPercent;

/// A PDB's status as the disruption controller computes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub healthy: u32,
    pub desired: u32,
    pub expected: u32,
    pub allowed: u32,
}

impl Status {
    pub fn describe(&self, pdb: &Pdb) -> String {
        format!(
            "{} allows {} disruption(s) ({} healthy, {} required)",
            pdb.describe(),
            self.allowed,
            self.healthy,
            self.desired
        )
    }
}

/// `getExpectedPodCount` + `updatePdbStatus`: percentages and `maxUnavailable` scale against the
/// owning controllers' replicas and round up; an integer `minAvailable` counts the matching pods.
pub fn status(state: &State, pdb: &Pdb) -> Status {
    let pods: Vec<&Pod> = state
        .pods
        .iter()
        .filter(|p| pdb.selects(&state.template(p).namespace, &p.labels))
        .collect();
    let healthy = pods.iter().filter(|p| state.healthy(p)).count() as u32;
    let mut owners: Vec<usize> = pods.iter().map(|p| p.template).collect();
    owners.sort_unstable();
    owners.dedup();
    let scale: u32 = owners
        .iter()
        .map(|&t| state.model.templates[t].replicas)
        .sum();
    let (expected, desired) = match (&pdb.max_unavailable, &pdb.min_available) {
        (Some(mu), _) => (scale, scale.saturating_sub(mu.scaled(scale).unwrap_or(0))),
        (None, Some(IntOrPercent::Int(n))) => (pods.len() as u32, *n),
        (None, Some(pct)) => (scale, pct.scaled(scale).unwrap_or(scale)),
        (None, None) => (pods.len() as u32, 0),
    };
    let allowed = if expected == 0 {
        0
    } else {
        healthy.saturating_sub(desired)
    };
    Status {
        healthy,
        desired,
        expected,
        allowed,
    }
}

/// Why the eviction API refuses to evict a pod.
#[derive(Debug)]
pub enum EvictionRefused {
    /// Its one budget allows no disruption now: the budget and its status, described.
    Budget(String),
    /// More than one budget selects it: their names.
    ManyBudgets(Vec<String>),
}

impl std::fmt::Display for EvictionRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvictionRefused::Budget(budget) => write!(f, "{budget}"),
            EvictionRefused::ManyBudgets(names) => write!(
                f,
                "the pod has more than one PodDisruptionBudget ({}), which the eviction API refuses",
                names.join(", ")
            ),
        }
    }
}

impl std::error::Error for EvictionRefused {}

/// May pod `i` be evicted now? `Ok` names the budget that allowed it, if any; `Err` says why not.
/// A running pod that is not Ready goes without spending a disruption under
/// `unhealthyPodEvictionPolicy: AlwaysAllow`, or under the default IfHealthyBudget while the
/// budget is met (`currentHealthy ≥ desiredHealthy > 0`, pkg/registry/core/pod/storage/eviction.go).
pub fn evict(state: &State, i: usize) -> Result<Option<String>, EvictionRefused> {
    let pod = &state.pods[i];
    let ns = &state.template(pod).namespace;
    let budgets: Vec<&Pdb> = state
        .model
        .pdbs
        .iter()
        .filter(|b| b.selects(ns, &pod.labels))
        .collect();
    match budgets.as_slice() {
        [] => Ok(None),
        [pdb] => {
            let s = status(state, pdb);
            let unhealthy_goes = !pod.ready
                && (pdb.always_allow_unhealthy || (s.desired > 0 && s.healthy >= s.desired));
            if s.allowed > 0 || unhealthy_goes {
                Ok(Some(s.describe(pdb)))
            } else {
                Err(EvictionRefused::Budget(s.describe(pdb)))
            }
        }
        many => Err(EvictionRefused::ManyBudgets(
            many.iter().map(|b| b.name.clone()).collect(),
        )),
    }
}
