use super::{rule, Cx, Finding, Rule, Severity};
use crate::policy::Tier;
use crate::yaml::{Edit, Json};

rule! {
    /// HA101 replica-floor: a scaled workload runs fewer replicas than its floor.
    ///
    /// ## What it does
    /// Raises `spec.replicas` of stateless and leader-elected Deployments, StatefulSets and
    /// ReplicaSets to the policy's floor (per service, else per tier). It never lowers a count.
    /// An absent `spec.replicas` counts as 1. Workloads an autoscaler owns are left to the HPA
    /// rule, which raises `minReplicas` instead (a static count would fight the HPA).
    ///
    /// ## Why it matters
    /// One replica is one node: a drain, a node failure or a zone outage takes the service down.
    ///
    /// ## Example
    /// `api` with `replicas: 1` under the plane-enterprise profile becomes `replicas: 3`.
    ///
    /// ## Fix
    /// `spec.replicas: <floor>`. Source: seed 000, "Run at least replicas: 2 per service".
    pub struct ReplicaFloor("HA101", "replica-floor");
}

impl Rule for ReplicaFloor {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn check(&self, cx: &Cx) -> Vec<Finding> {
        let autoscalers = cx.autoscaler_targets();
        cx.tiered(&[Tier::Stateless, Tier::LeaderElected])
            .filter(|(w, d)| w.kind.scalable() && !cx.autoscaled_by(&autoscalers, w, d))
            .filter_map(|(w, d)| {
                let floor = cx.floor(w, d)?;
                let replicas = cx.obj(w).pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
                (replicas < i64::from(floor)).then(|| {
                    Finding::on(&Self::META, Severity::Warning, w, format!("{replicas} replica(s) < floor {floor} for {} service `{}`: one node loss takes it down", d.tier.as_str(), w.service))
                        .edit(w, vec![Edit::Set(w.path("spec.replicas"), Json::from(floor))])
                })
            })
            .collect()
    }
}
