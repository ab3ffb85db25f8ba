use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::{Decision, REPLICAS_ANNOTATION, TIER_ANNOTATION};
use crate::policy::Tier;
use crate::workload::Workload;

rule! {
    /// HA208 unverified: a workload that looks stateless, kept at one copy for lack of evidence.
    ///
    /// ## What it does
    /// Reports every workload in the `unverified` tier: no volume, no database image, no sign of
    /// a controller, but also nothing that shows a second copy is safe (the chart does not run
    /// two, no autoscaler, no leader election, not a web server or proxy helm-ha knows behind a
    /// Service). helm-ha leaves it as the chart renders it and says how to scale it.
    ///
    /// ## Why it matters
    /// A second copy of something that must run once (a poller, an in-memory cache of sessions,
    /// a controller that elects no leader) breaks it, and a manifest rarely says which kind a
    /// workload is. A missed scale-up costs availability; a wrong one costs correctness.
    ///
    /// ## Example
    /// A `worker` Deployment at 1 replica with no Service in front of it.
    ///
    /// ## Fix
    /// If two copies are safe, say so, in the order of preference: the chart's own replica value
    /// (`replicaCount: 2`); the pod annotation `helm-ha.io/replicas: "2"` (or
    /// `helm-ha.io/tier: stateless`) through the chart's `podAnnotations`; or a policy entry
    /// `services.<name>.tier: stateless`. If it must run once, `helm-ha.io/tier: singleton`.
    pub struct Unverified("HA208", "unverified", "check only: a workload kept at its count for lack of evidence, with the ways to scale it");
}

impl Rule for Unverified {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, _cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if d.tier != Tier::Unverified {
            return Vec::new();
        }
        vec![Finding::on(
            &Self::META,
            Severity::Info,
            w,
            format!("`{}` kept at {} cop{}: {}. If two copies are safe, set the chart's replica value to 2, or annotate its pods `{REPLICAS_ANNOTATION}: \"2\"` (or `{TIER_ANNOTATION}: stateless`) through the chart's podAnnotations, or add `services.{}.tier: stateless` to a policy", w.service, d.copies, if d.copies == 1 { "y" } else { "ies" }, d.why, w.service),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;

    #[test]
    fn a_lone_deployment_is_reported_with_the_ways_to_scale_it() {
        let found = run(
            &[&Unverified],
            &policy(),
            vec![deployment(
                "worker",
                1,
                json!({"containers": [{"name": "w", "image": "example/worker:1"}]}),
            )],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].severity, found[0].fix.is_none()),
            (Severity::Info, true)
        );
        assert!(
            found[0].message.starts_with(
                "`worker` kept at 1 copy: Deployment at 1 replica with no local state found"
            ),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("helm-ha.io/replicas: \"2\""),
            "{}",
            found[0].message
        );
    }
}
