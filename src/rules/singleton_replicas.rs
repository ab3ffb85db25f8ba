use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::Workload;
use crate::yaml::Json;

rule! {
    /// HA102 singleton-replicas: a singleton asked to run more than one copy.
    ///
    /// ## What it does
    /// Fails when a workload the user declared a singleton (a policy's `services.<name>.tier`, or
    /// the `helm-ha.io/tier: singleton` annotation) sets `spec.replicas` above 1, unless the
    /// policy allows it (`services.<name>.allowReplicas`). When the singleton tier is only
    /// helm-ha's inference (a scheduler-like name, a controller's RBAC, an app on SQLite), it
    /// warns and changes nothing: a guess never refuses a stream.
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
    pub struct SingletonReplicas("HA102", "singleton-replicas", "refuses a declared singleton asked to run more than one copy (an inferred one: a warning)");
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
            .at("spec.replicas")
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
        if d.explicit {
            return vec![Finding::on(&Self::META, Severity::Error, w, format!("singleton `{}` asks for {replicas} replicas; two copies would run its jobs twice (policy allows {allowed})", w.service))];
        }
        vec![Finding::on(&Self::META, Severity::Warning, w, format!("{replicas} copies of `{}`, which helm-ha takes for a singleton ({}); kept as the chart renders it. If it must run once, set its replicas to 1; if the copies are safe, annotate its pod template `helm-ha.io/tier: stateless`", w.service, d.why))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{declaring, deployment, policy, run};
    use super::*;
    use crate::json;

    #[test]
    fn a_singleton_asked_for_two_copies_is_an_error_without_a_fix() {
        let declared = declaring(policy(), &[("beat", Tier::Singleton)]);
        let found = run(
            &[&SingletonReplicas],
            &declared,
            vec![deployment("beat", 2, json!({"containers": []}))],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].severity, found[0].fix.is_none()),
            (Severity::Error, true)
        );
        assert!(run(
            &[&SingletonReplicas],
            &declared,
            vec![deployment("beat", 1, json!({"containers": []}))]
        )
        .is_empty());
    }

    #[test]
    fn an_inferred_singleton_with_copies_warns_and_never_refuses() {
        // Grafana on SQLite at 2 replicas: the catalogue's verdict, not the user's.
        let grafana = deployment(
            "grafana",
            2,
            json!({"containers": [{"name": "g", "image": "grafana/grafana:12"}]}),
        );
        let found = run(&[&SingletonReplicas], &policy(), vec![grafana]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.starts_with("2 copies of `grafana`, which helm-ha takes for a singleton (`grafana` on SQLite in the pod"), "{}", found[0].message);
        // A scheduler-like name is no evidence against the chart's own 2 copies.
        assert!(run(
            &[&SingletonReplicas],
            &policy(),
            vec![deployment("beat", 2, json!({"containers": []}))]
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
