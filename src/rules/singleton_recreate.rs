use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::{Kind, Workload};
use crate::yaml::Lookup as _;
use crate::yaml::{Edit, Json};

rule! {
    /// HA105 singleton-recreate: a singleton Deployment that rolls by surging.
    ///
    /// ## What it does
    /// Sets `strategy: {type: Recreate}` on singleton Deployments (and removes
    /// `strategy.rollingUpdate`, which the API forbids next to Recreate).
    ///
    /// ## Why it matters
    /// A rolling update starts the new pod before stopping the old one: for a minute, two
    /// schedulers run and periodic jobs fire twice. Recreate stops the old pod first.
    ///
    /// ## Example
    /// `beat-worker` with the default RollingUpdate strategy.
    ///
    /// ## Fix
    /// `strategy: {type: Recreate}`. Source: the Plane Commercial Edition: High Availability guide, Tier 2 ("running two copies doubles job
    /// execution").
    pub struct SingletonRecreate("HA105", "singleton-recreate");
}

impl Rule for SingletonRecreate {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if d.tier != Tier::Singleton
            || w.kind != Kind::Deployment
            || cx.obj(w).at("/spec/strategy/type").and_then(Json::as_str) == Some("Recreate")
        {
            return Vec::new();
        }
        let mut edits = vec![Edit::Set(
            w.path("spec.strategy.type"),
            Json::from("Recreate"),
        )];
        if cx.obj(w).at("/spec/strategy/rollingUpdate").is_some() {
            edits.push(Edit::Remove(w.path("spec.strategy.rollingUpdate")));
        }
        vec![Finding::on(
            &Self::META,
            Severity::Warning,
            w,
            format!(
                "singleton `{}` rolls by starting a second copy first; use Recreate",
                w.service
            ),
        )
        .edit(w, edits)]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;
    use crate::rules::Fix;

    #[test]
    fn recreate_replaces_the_rolling_update() {
        let mut d = deployment("beat", 1, json!({"containers": []}));
        d["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}});
        let found = run(&[&SingletonRecreate], &policy(), vec![d]);
        assert_eq!(
            found[0].fix,
            Some(Fix::Edit {
                doc: 0,
                edits: vec![
                    Edit::Set(crate::yaml::path("spec.strategy.type"), json!("Recreate")),
                    Edit::Remove(crate::yaml::path("spec.strategy.rollingUpdate")),
                ]
            })
        );
        let mut done = deployment("beat", 1, json!({"containers": []}));
        done["spec"]["strategy"] = json!({"type": "Recreate"});
        assert!(run(&[&SingletonRecreate], &policy(), vec![done]).is_empty());
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
}
