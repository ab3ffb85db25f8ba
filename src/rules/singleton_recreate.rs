use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::{Kind, Workload};
use crate::yaml::{Edit, Json};

rule! {
    /// HA105 singleton-recreate: a Deployment that must not run two pods at once rolls by surging.
    ///
    /// ## What it does
    /// Sets `strategy: {type: Recreate}` (and removes `strategy.rollingUpdate`, which the API
    /// forbids next to Recreate) on
    /// - Deployments declared singletons (a policy's `services.<name>.tier: singleton` or the
    ///   `helm-ha.io/tier: singleton` annotation): a singleton helm-ha only infers is reported,
    ///   not changed, since Recreate trades the chart's zero-downtime rollout for the guess;
    /// - single-replica Deployments that mount a ReadWriteOnce claim, whatever their tier.
    ///
    /// ## Why it matters
    /// A rolling update starts the new pod before stopping the old one: for a minute, two
    /// schedulers run and periodic jobs fire twice. On a ReadWriteOnce claim it is worse: a new
    /// pod scheduled to another node cannot attach the disk the old pod holds, never becomes
    /// Ready, and the rollout hangs until its deadline (the Kubernetes docs, "Persistent
    /// Volumes: Access Modes"; the bitnami charts document `updateStrategy.type: Recreate` for
    /// this). Recreate stops the old pod first.
    ///
    /// ## Example
    /// `beat-worker` with the default RollingUpdate strategy.
    ///
    /// ## Fix
    /// `strategy: {type: Recreate}`. Source: the Plane Commercial Edition: High Availability guide, Tier 2 ("running two copies doubles job
    /// execution").
    pub struct SingletonRecreate("HA105", "singleton-recreate", "`strategy: Recreate` for declared singleton Deployments and single-replica Deployments on a ReadWriteOnce claim");
}

impl Rule for SingletonRecreate {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        let one_disk = d.tier == Tier::Stateful && d.copies <= 1;
        let claim = d.rwo_claim.as_deref().filter(|_| one_disk);
        let declared = d.tier == Tier::Singleton && d.explicit;
        if !(declared || claim.is_some())
            || w.kind != Kind::Deployment
            || cx.obj(w).at("spec.strategy.type").and_then(Json::as_str) == Some("Recreate")
        {
            return Vec::new();
        }
        let mut edits = vec![Edit::Set(
            w.path("spec.strategy.type"),
            Json::from("Recreate"),
        )];
        if cx.obj(w).at("spec.strategy.rollingUpdate").is_some() {
            edits.push(Edit::Remove(w.path("spec.strategy.rollingUpdate")));
        }
        vec![Finding::on(
            &Self::META,
            Severity::Warning,
            w,
            match claim {
                Some(claim) => format!("`{}` mounts ReadWriteOnce claim `{claim}` and rolls by starting a second pod first: on another node that pod cannot attach the disk and the rollout hangs (Multi-Attach); use Recreate", w.service),
                None => format!("singleton `{}` rolls by starting a second copy first; use Recreate", w.service),
            },
        )
        .edit(w, edits)]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{declaring, deployment, policy, run};
    use super::*;
    use crate::json;
    use crate::rules::Fix;

    #[test]
    fn recreate_replaces_the_rolling_update() {
        let mut d = deployment("beat", 1, json!({"containers": []}));
        d["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
        let declared = declaring(policy(), &[("beat", Tier::Singleton)]);
        let found = run(&[&SingletonRecreate], &declared, vec![d.clone()]);
        assert_eq!(
            found[0].fix,
            Some(Fix::Edit {
                doc: 0,
                edits: vec![
                    Edit::Set(
                        crate::yaml::Path::dotted("spec.strategy.type"),
                        json!("Recreate")
                    ),
                    Edit::Remove(crate::yaml::Path::dotted("spec.strategy.rollingUpdate")),
                ]
            })
        );
        let mut done = deployment("beat", 1, json!({"containers": []}));
        done["spec"]["strategy"] = json!({"type": "Recreate"});
        assert!(run(&[&SingletonRecreate], &declared, vec![done]).is_empty());
        assert!(
            run(&[&SingletonRecreate], &policy(), vec![d]).is_empty(),
            "a singleton only inferred from its name keeps the chart's strategy"
        );
        assert!(
            run(
                &[&SingletonRecreate],
                &policy(),
                vec![deployment("web", 1, json!({"containers": []}))]
            )
            .is_empty(),
            "not a singleton"
        );
    }

    #[test]
    fn a_single_copy_on_a_read_write_once_claim_recreates() {
        let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        let pod = json!({"containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]});
        let found = run(
            &[&SingletonRecreate],
            &policy(),
            vec![deployment("db", 1, pod.clone()), claim.clone()],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .contains("mounts ReadWriteOnce claim `data`"),
            "{}",
            found[0].message
        );
        assert!(
            run(
                &[&SingletonRecreate],
                &policy(),
                vec![deployment("db", 2, pod), claim]
            )
            .is_empty(),
            "two copies on one ReadWriteOnce claim are the chart's choice, not a rollout to fix"
        );
    }
}
