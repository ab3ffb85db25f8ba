use super::pdb::{allowed, budget_of};
use super::{rule, Budgets, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::selector;
use crate::workload::Workload;
use crate::yaml::Json;

rule! {
    /// HA207 chart-budget: a PodDisruptionBudget from the chart that no drain can get past.
    ///
    /// ## What it does
    /// For every Deployment, StatefulSet and ReplicaSet of every tier (hooks excepted), finds the
    /// chart's PodDisruptionBudgets that select its pods and counts the disruptions each allows
    /// over the pods that will really run: the larger of `spec.replicas` (after helm-ha's own
    /// changes; absent means 1) and the `minReplicas` of an autoscaler over it, rounding
    /// percentages up as the disruption controller does. A budget that allows 0 is a warning
    /// that names the budget, its setting and the count. A budget that also selects the pods of
    /// other workloads is not judged here: the count would be theirs together.
    ///
    /// ## Why it matters
    /// `minAvailable: 1` over a single replica, or `maxUnavailable: 0`, allows no eviction at
    /// all: `kubectl drain`, cluster upgrades and Karpenter consolidation wait on it forever. It
    /// is common in charts that ship a budget by default whatever the replica count.
    ///
    /// ## Example
    /// `minAvailable: 1` over the single MongoDB pod of a standalone install.
    ///
    /// ## Fix
    /// Run more replicas than `minAvailable`, or use `maxUnavailable: 1`, or turn the chart's
    /// budget off while the workload runs one copy. Source: the Kubernetes docs, "Specifying a
    /// Disruption Budget for your Application" ("if you set minAvailable to 100% ... this can
    /// block node drains").
    pub struct ChartBudget("HA207", "chart-budget", "check only: a chart PodDisruptionBudget that allows 0 disruptions over the pods that will really run, in every tier");
}

impl Rule for ChartBudget {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if !w.kind.scalable() {
            return Vec::new();
        }
        let replicas = cx
            .obj(w)
            .at("spec.replicas")
            .and_then(Json::as_u64)
            .unwrap_or(1) as u32;
        let (count, counted) = match (&d.autoscaler, d.copies.max(replicas)) {
            (Some(hpa), n) if n > replicas => (n, format!("{n} pods ({hpa} minimum)")),
            (_, n) => (n, format!("{n} pod{}", if n == 1 { "" } else { "s" })),
        };
        if count == 0 {
            return Vec::new();
        }
        let ns = cx.namespace_of(w);
        let mut found = Vec::new();
        for pdb in cx.budgets_of(w, Budgets::Chart) {
            let selects = |labels| {
                pdb.json
                    .at("spec.selector")
                    .is_some_and(|s| selector::matches(s, labels))
            };
            let shared = cx.workloads.iter().any(|(o, _)| {
                (o.doc, &o.base) != (w.doc, &w.base)
                    && cx.namespace_of(o) == ns
                    && cx.in_scope_workload(o)
                    && selects(&o.pod_labels)
            });
            let budget = budget_of(&pdb.spec);
            if shared || allowed(&budget, count) != Some(0) {
                continue;
            }
            let name = pdb.name();
            let setting = serde_json::to_string(&budget).unwrap_or_default();
            found.push(Finding::on(
                &Self::META,
                Severity::Warning,
                w,
                format!("PodDisruptionBudget/{name} from the chart ({setting}) allows 0 disruptions over the {counted} of {}: every node drain, upgrade and consolidation waits on it; run more replicas than it keeps available, or use maxUnavailable: 1", w.describe()),
            ));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;

    fn pdb(name: &str, budget: Json<'static>) -> Json<'static> {
        let mut spec = json!({"selector": {"matchLabels": {"app": "db"}}});
        for (k, v) in budget.as_object().unwrap().iter() {
            spec[k.as_str()] = v.clone();
        }
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name}, "spec": spec})
    }

    #[test]
    fn a_budget_that_blocks_at_the_real_count_warns_with_its_facts() {
        let found = run(
            &[&ChartBudget],
            &policy(),
            vec![
                deployment("db", 1, json!({"containers": []})),
                pdb("db", json!({"minAvailable": 1})),
            ],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0].message.starts_with("PodDisruptionBudget/db from the chart ({\"minAvailable\":1}) allows 0 disruptions over the 1 pod of Deployment/db"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn budgets_that_let_a_drain_through_are_quiet() {
        for (replicas, budget) in [
            (3, json!({"minAvailable": 2})),
            (1, json!({"maxUnavailable": 1})),
            (2, json!({"minAvailable": "50%"})),
        ] {
            let found = run(
                &[&ChartBudget],
                &policy(),
                vec![
                    deployment("db", replicas, json!({"containers": []})),
                    pdb("db", budget.clone()),
                ],
            );
            assert!(found.is_empty(), "{replicas} {budget:?}: {found:?}");
        }
    }

    #[test]
    fn an_autoscaler_minimum_is_the_count() {
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "db"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "db"}, "minReplicas": 3, "maxReplicas": 5}});
        let found = run(
            &[&ChartBudget],
            &policy(),
            vec![
                deployment("db", 1, json!({"containers": []})),
                hpa,
                pdb("db", json!({"minAvailable": 3})),
            ],
        );
        assert!(
            found[0]
                .message
                .contains("over the 3 pods (HorizontalPodAutoscaler/db minimum)"),
            "{found:?}"
        );
    }
}
