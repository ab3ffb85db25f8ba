use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::Workload;
use crate::yaml::Json;
use crate::yaml::Lookup as _;

rule! {
    /// HA102 singleton-replicas: a singleton asked to run more than one copy.
    ///
    /// ## What it does
    /// Fails when a workload in the singleton tier (scheduler, Celery beat, coordinator) sets
    /// `spec.replicas` above 1, unless the policy allows it (`services.<name>.allowReplicas`).
    ///
    /// ## Why it matters
    /// Running two copies of a scheduler doubles job execution: every periodic task fires twice.
    /// helm-ha never lowers a replica count silently, so this is an error, not a fix.
    ///
    /// ## Example
    /// `beat-worker` with `replicas: 2`.
    ///
    /// ## Fix
    /// Set the chart value back to 1, or, if the software elects a leader itself, declare the
    /// service `tier: leader-elected` or `allowReplicas: 2` in the policy.
    /// Source: the Plane Commercial Edition: High Availability guide, "Tier 2 - Singletons (replicas: 1 only)".
    pub struct SingletonReplicas("HA102", "singleton-replicas");
}

impl Rule for SingletonReplicas {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if d.tier != Tier::Singleton || !w.kind.scalable() {
            return Vec::new();
        }
        let replicas = cx
            .obj(w)
            .at("/spec/replicas")
            .and_then(Json::as_i64)
            .unwrap_or(1);
        let allowed = d
            .policy_key
            .as_deref()
            .and_then(|k| cx.policy.services.get(k))
            .and_then(|s| s.allow_replicas)
            .unwrap_or(1);
        if replicas <= i64::from(allowed) {
            return Vec::new();
        }
        vec![Finding::on(&Self::META, Severity::Error, w, format!("singleton `{}` asks for {replicas} replicas; two copies would run its jobs twice (policy allows {allowed})", w.service))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;

    #[test]
    fn a_singleton_asked_for_two_copies_is_an_error_without_a_fix() {
        let found = run(
            &[&SingletonReplicas],
            &policy(),
            vec![deployment("beat", 2, json!({"containers": []}))],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].severity, found[0].fix.is_none()),
            (Severity::Error, true)
        );
        assert!(run(
            &[&SingletonReplicas],
            &policy(),
            vec![deployment("beat", 1, json!({"containers": []}))]
        )
        .is_empty());
    }

    #[test]
    fn the_policy_can_allow_more() {
        let mut p = policy();
        p.services.insert(
            "beat".into(),
            crate::policy::Service {
                tier: Some(Tier::Singleton),
                allow_replicas: Some(2),
                ..Default::default()
            },
        );
        assert!(run(
            &[&SingletonReplicas],
            &p,
            vec![deployment("beat", 2, json!({"containers": []}))]
        )
        .is_empty());
        assert_eq!(
            run(
                &[&SingletonReplicas],
                &p,
                vec![deployment("beat", 3, json!({"containers": []}))]
            )
            .len(),
            1
        );
    }
}
