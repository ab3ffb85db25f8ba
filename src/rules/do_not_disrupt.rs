use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::Workload;
use crate::yaml::{Edit, Json};

pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";

rule! {
    /// HA106 do-not-disrupt: Karpenter may evict a singleton or a running Job.
    ///
    /// ## What it does
    /// Adds the pod-template annotation `karpenter.sh/do-not-disrupt: "true"` to run-to-completion
    /// Jobs and CronJobs (policy `tiers.singleton.doNotDisrupt`, on in every profile) and to
    /// long-running singletons the user declared (a policy entry or the `helm-ha.io/tier`
    /// annotation) when `tiers.singleton.doNotDisruptLongRunning` is on (plane-enterprise, as its
    /// guide says; off in the generic profile). It reports, without changing it, the annotation
    /// on stateless or leader-elected pods.
    ///
    /// Finite Jobs are the clear case: the pin ends when the run does. A pin on a pod that never
    /// ends keeps its node from ever being consolidated or replaced on drift, so it is only
    /// added where the user named the singleton and the profile asks for it.
    ///
    /// ## Why it matters
    /// Karpenter consolidates nodes voluntarily. A singleton has no second copy to serve while it
    /// moves, and a migration Job killed halfway leaves the schema half-migrated. Tier-1 pods are
    /// the opposite: the annotation acts as a PDB that never allows a disruption, so nodes running
    /// them could never be consolidated or expired.
    ///
    /// ## Example
    /// `beat-worker`, `monitor` and the `api-migrate` Job under plane-enterprise.
    ///
    /// ## Fix
    /// `spec.template.metadata.annotations["karpenter.sh/do-not-disrupt"]: "true"`.
    /// Source: the Plane Commercial Edition: High Availability guide, "How Karpenter interacts with AZ spread". (`do-not-evict` was removed in
    /// Karpenter v1.)
    pub struct DoNotDisrupt("HA106", "do-not-disrupt", "`karpenter.sh/do-not-disrupt` on Jobs and CronJobs (and declared singletons where the profile says so), never on Tier 1");
}

impl Rule for DoNotDisrupt {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        let annotations = w.in_template("metadata.annotations");
        let current = cx
            .value(w.doc)
            .at(&annotations)
            .and_then(|a| a.get(DO_NOT_DISRUPT))
            .and_then(Json::as_str);
        match d.tier {
            Tier::Singleton if pinned(cx, w, d) && current != Some("true") => {
                let path = annotations.key(DO_NOT_DISRUPT);
                let what = if w.kind.runs_to_completion() { "a run-to-completion job" } else { "a singleton" };
                vec![Finding::on(&Self::META, Severity::Warning, w, format!("`{}` is {what}: Karpenter must not move it mid-run", w.service))
                    .edit(w, vec![Edit::Set(path, Json::from("true"))])]
            }
            Tier::Stateless | Tier::LeaderElected if current == Some("true") => vec![Finding::on(
                &Self::META,
                Severity::Warning,
                w,
                format!("{} `{}` carries {DO_NOT_DISRUPT}: its nodes can never be consolidated or expired; remove it from the chart values", d.tier.as_str(), w.service),
            )],
            _ => Vec::new(),
        }
    }
}

/// Does the policy pin this singleton: a finite run, or a declared long-running one?
fn pinned(cx: &Cx, w: &Workload, d: &Decision) -> bool {
    let s = &cx.policy.tiers.singleton;
    if w.kind.runs_to_completion() {
        s.do_not_disrupt
    } else {
        s.do_not_disrupt_long_running && d.explicit
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{declaring, deployment, policy, run};
    use super::*;
    use crate::json;
    use crate::rules::Fix;
    use crate::yaml::Path;

    fn set_path(f: &Finding) -> Path {
        match &f.fix {
            Some(Fix::Edit { edits, .. }) => match &edits[0] {
                Edit::Set(p, v) if v == "true" => p.clone(),
                e => panic!("{e:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn singletons_and_jobs_get_it_on_the_pod_template() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "seed"},
            "spec": {"template": {"metadata": {"labels": {"app": "seed"}}, "spec": {"containers": []}}}});
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "report"},
            "spec": {"schedule": "@hourly", "jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "report"}}, "spec": {"containers": []}}}}}});
        let mut p = declaring(policy(), &[("beat", Tier::Singleton)]);
        p.tiers.singleton.do_not_disrupt_long_running = true;
        let found = run(
            &[&DoNotDisrupt],
            &p,
            vec![
                deployment("beat", 1, json!({"containers": []})),
                job.clone(),
                cron.clone(),
            ],
        );
        let key = |p: &str| Path::dotted(p).key(DO_NOT_DISRUPT);
        assert_eq!(
            set_path(&found[0]),
            key("spec.template.metadata.annotations")
        );
        assert_eq!(
            set_path(&found[1]),
            key("spec.template.metadata.annotations")
        );
        assert_eq!(
            set_path(&found[2]),
            key("spec.jobTemplate.spec.template.metadata.annotations")
        );
        // The generic profile pins finite runs only, and never a singleton it merely infers.
        p.tiers.singleton.do_not_disrupt_long_running = false;
        let only_jobs = run(
            &[&DoNotDisrupt],
            &p,
            vec![deployment("beat", 1, json!({"containers": []})), job, cron],
        );
        let objects: Vec<&str> = only_jobs.iter().map(|f| f.object.as_str()).collect();
        assert_eq!(objects, ["Job/seed", "CronJob/report"]);
    }

    #[test]
    fn tier_one_pods_never_get_it_and_are_warned_when_they_have_it() {
        assert!(run(
            &[&DoNotDisrupt],
            &policy(),
            vec![deployment("web", 2, json!({"containers": []}))]
        )
        .is_empty());
        let mut d = deployment("web", 2, json!({"containers": []}));
        d["spec"]["template"]["metadata"]["annotations"] = json!({DO_NOT_DISRUPT: "true"});
        let found = run(&[&DoNotDisrupt], &policy(), vec![d]);
        assert_eq!((found.len(), found[0].fix.is_none()), (1, true));
    }
}
