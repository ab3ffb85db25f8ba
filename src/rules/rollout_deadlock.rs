use super::pod_spread::{Pod, HOSTNAME};
use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::{Kind, Workload};
use crate::yaml::{Edit, Json};

rule! {
    /// HA104 rollout-deadlock: a rolling update that can wait forever for a node.
    ///
    /// ## What it does
    /// For Deployments whose pods must not share a node (required anti-affinity on
    /// `kubernetes.io/hostname`, whether the chart or HA103 put it there) and whose rolling update
    /// may not take a pod down first (`maxUnavailable` resolves to 0; the default 25% rounds down
    /// to 0 below 4 replicas; an autoscaled workload is judged at its floor, the lowest count its
    /// autoscaler may choose), sets `strategy.rollingUpdate` to `maxSurge: 0, maxUnavailable: 1`.
    ///
    /// ## Why it matters
    /// With as many nodes as replicas, the surge pod has no node it may use; with
    /// `maxUnavailable: 0` no old pod is removed to make room, so the rollout never ends
    /// (kubernetes/kubernetes#116891). Replacing one pod at a time cannot deadlock: the old pod
    /// frees its node before the new one needs it, and the floor of 2 keeps the service up.
    ///
    /// ## Example
    /// `api` with 3 replicas, the HA guide's anti-affinity and the default strategy.
    ///
    /// ## Fix
    /// `strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 0, maxUnavailable: 1}}`.
    pub struct RolloutDeadlock("HA104", "rollout-deadlock", "`maxSurge: 0, maxUnavailable: 1` where required per-node anti-affinity would deadlock a rollout");
}

impl Rule for RolloutDeadlock {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if !matches!(d.tier, Tier::Stateless | Tier::LeaderElected) || w.kind != Kind::Deployment {
            return Vec::new();
        }
        let obj = cx.obj(w);
        if !Pod::of(obj, w).anti_affinity(HOSTNAME, true) {
            return Vec::new();
        }
        let strategy = obj.at("spec.strategy");
        if strategy
            .and_then(|s| s.get("type"))
            .and_then(Json::as_str)
            .is_some_and(|t| t != "RollingUpdate")
        {
            return Vec::new();
        }
        // Under an autoscaler the count can drop to its minimum, which HA108 keeps at the floor or
        // above: judge the rollout at the floor.
        let static_count = if cx.autoscaled(w, d) {
            None
        } else {
            obj.at("spec.replicas").and_then(Json::as_u64)
        };
        let replicas = static_count
            .or_else(|| cx.floor(w, d).map(u64::from))
            .unwrap_or(1);
        let max_unavailable = strategy
            .and_then(|s| s.at("rollingUpdate.maxUnavailable"))
            .cloned()
            .unwrap_or(Json::from("25%"));
        if resolve_down(&max_unavailable, replicas) != Some(0) {
            return Vec::new();
        }
        let path = |k: &str| w.path(&format!("spec.strategy.{k}"));
        vec![Finding::on(&Self::META, Severity::Warning, w, format!("required per-node anti-affinity with maxUnavailable {max_unavailable} (0 of {replicas}): a rollout deadlocks when nodes == replicas; replace one pod at a time (maxSurge 0, maxUnavailable 1)"))
            .edit(w, vec![
                Edit::Set(path("type"), Json::from("RollingUpdate")),
                Edit::Set(path("rollingUpdate.maxSurge"), Json::from(0)),
                Edit::Set(path("rollingUpdate.maxUnavailable"), Json::from(1)),
            ])]
    }
}

/// An int-or-percent of `total`, rounded down as the Deployment controller does for
/// `maxUnavailable`. `None` for a malformed value.
fn resolve_down(v: &Json, total: u64) -> Option<u64> {
    match v {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => s
            .strip_suffix('%')?
            .parse::<u64>()
            .ok()
            .map(|p| total * p / 100),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_down() {
        assert_eq!(resolve_down(&Json::from("25%"), 3), Some(0));
        assert_eq!(resolve_down(&Json::from("25%"), 4), Some(1));
        assert_eq!(resolve_down(&Json::from(0), 4), Some(0));
        assert_eq!(resolve_down(&Json::from("x"), 4), None);
    }
}

#[cfg(test)]
mod rule_tests {
    use super::super::pod_spread::PodSpread;
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;
    use crate::policy::Spread;

    fn hard() -> crate::policy::Policy {
        let mut p = policy();
        p.tiers.stateless.spread = Spread::AntiAffinity;
        p
    }

    #[test]
    fn hard_node_anti_affinity_with_the_default_strategy_rolls_one_pod_at_a_time() {
        let found = run(
            &[&PodSpread, &RolloutDeadlock],
            &hard(),
            vec![deployment("web", 3, json!({"containers": []}))],
        );
        assert_eq!(found.len(), 1);
        let Some(crate::rules::Fix::Edit { edits, .. }) = &found[0].fix else {
            panic!()
        };
        assert!(edits.contains(&Edit::Set(
            crate::yaml::Path::dotted("spec.strategy.rollingUpdate.maxSurge"),
            json!(0)
        )));
        assert!(edits.contains(&Edit::Set(
            crate::yaml::Path::dotted("spec.strategy.rollingUpdate.maxUnavailable"),
            json!(1)
        )));
    }

    #[test]
    fn soft_spread_or_a_strategy_that_can_take_a_pod_down_is_fine() {
        assert!(run(
            &[&PodSpread, &RolloutDeadlock],
            &policy(),
            vec![deployment("web", 3, json!({"containers": []}))]
        )
        .is_empty());
        let mut d = deployment("web", 4, json!({"containers": []}));
        d["spec"]["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}});
        assert!(
            run(&[&PodSpread, &RolloutDeadlock], &hard(), vec![d]).is_empty(),
            "25% of 4 is 1"
        );
    }
}
