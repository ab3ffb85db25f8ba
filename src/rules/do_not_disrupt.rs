use super::{rule, Cx, Finding, Rule, Severity};
use crate::policy::Tier;
use crate::workload::at;
use crate::yaml::{Edit, Json, Seg};

pub const DO_NOT_DISRUPT: &str = "karpenter.sh/do-not-disrupt";

rule! {
    /// HA106 do-not-disrupt: Karpenter may evict a singleton or a running Job.
    ///
    /// ## What it does
    /// Adds the pod-template annotation `karpenter.sh/do-not-disrupt: "true"` to singletons and
    /// run-to-completion Jobs and CronJobs (policy `tiers.singleton.doNotDisrupt`). It reports,
    /// without changing it, the annotation on stateless or leader-elected pods.
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
    /// Source: seed 000, "How Karpenter interacts with AZ spread". (`do-not-evict` was removed in
    /// Karpenter v1.)
    pub struct DoNotDisrupt("HA106", "do-not-disrupt");
}

impl Rule for DoNotDisrupt {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn check(&self, cx: &Cx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (w, d) in cx.tiered(&[Tier::Singleton, Tier::Stateless, Tier::LeaderElected]) {
            let annotations = format!("{}.metadata.annotations", w.template_path());
            let current = at(cx.obj(w), &annotations).and_then(|a| a.get(DO_NOT_DISRUPT)).and_then(Json::as_str);
            match d.tier {
                Tier::Singleton if cx.policy.tiers.singleton.do_not_disrupt && current != Some("true") => {
                    let mut path = w.path(&annotations);
                    path.push(Seg::Key(DO_NOT_DISRUPT.into()));
                    let what = if w.kind.runs_to_completion() { "a run-to-completion job" } else { "a singleton" };
                    out.push(
                        Finding::on(&Self::META, Severity::Warning, w, format!("`{}` is {what}: Karpenter must not move it mid-run", w.service))
                            .edit(w, vec![Edit::Set(path, Json::from("true"))]),
                    );
                }
                Tier::Stateless | Tier::LeaderElected if current == Some("true") => out.push(Finding::on(
                    &Self::META,
                    Severity::Warning,
                    w,
                    format!("{} `{}` carries {DO_NOT_DISRUPT}: its nodes can never be consolidated or expired; remove it from the chart values", d.tier.as_str(), w.service),
                )),
                _ => {}
            }
        }
        out
    }
}
