use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::workload::Workload;

rule! {
    /// HA209 steering: a `helm-ha.io/*` annotation or a policy entry that helm-ha cannot use.
    ///
    /// ## What it does
    /// Reports what the user asked for and did not get:
    /// - a steering annotation (`helm-ha.io/tier`, `helm-ha.io/replicas`, `helm-ha.io/skip`, on
    ///   the workload or its pod template) with a value helm-ha cannot read, or one that
    ///   contradicts another (`tier: singleton` with `replicas: "3"`): an error, which refuses
    ///   the stream, since the user said something that cannot be done;
    /// - an unknown `helm-ha.io/` annotation (a typo, or a newer helm-ha's), and one that was not
    ///   used because something took precedence (a Helm hook, a DaemonSet, a policy entry for the
    ///   same service): a warning;
    /// - a `services.<name>` entry of the user's policy file that matches no workload of the
    ///   stream: a warning that lists the service names the stream has.
    ///
    /// A policy entry that is another spelling of a profile's entry (`services.email-app` where
    /// the profile names `email_service` with that alias) is refused when the policy is loaded.
    ///
    /// ## Why it matters
    /// A setting silently ignored is worse than none: the user believes the workload is pinned,
    /// scaled or left alone, and finds out in an outage.
    ///
    /// ## Example
    /// `helm-ha.io/replicas: three` on a pod template.
    ///
    /// ## Fix
    /// Correct the annotation (the message says what it accepts) or the policy key (use a name
    /// from the list).
    pub struct Steering("HA209", "steering", "a `helm-ha.io/*` annotation helm-ha cannot use (error when wrong, warning when unknown or overridden); a policy entry that matches no workload");
}

impl Rule for Steering {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, _cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        d.unused_steering
            .iter()
            .map(|(wrong, message)| {
                let severity = if *wrong {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                Finding::on(&Self::META, severity, w, message.clone())
            })
            .collect()
    }

    fn stream(&self, cx: &Cx) -> Vec<Finding> {
        let mut found = Vec::new();
        for key in &cx.policy.user_services {
            if cx
                .workloads
                .iter()
                .any(|(_, d)| d.policy_key.as_deref() == Some(key.as_str()))
            {
                continue;
            }
            let mut names: Vec<&str> = cx
                .workloads
                .iter()
                .map(|(w, _)| w.service.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            found.push(Finding::about(
                &Self::META,
                Severity::Warning,
                None,
                format!("services.{key}"),
                format!("policy entry `services.{key}` matches no workload of the stream; its services are: {}", names.join(", ")),
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

    fn annotated(annotations: crate::yaml::Json<'static>) -> crate::yaml::Json<'static> {
        let mut d = deployment("web", 1, json!({"containers": []}));
        d["spec"]["template"]["metadata"]["annotations"] = annotations;
        d
    }

    #[test]
    fn a_bad_value_refuses_and_an_unknown_key_warns() {
        let found = run(
            &[&Steering],
            &policy(),
            vec![annotated(
                json!({"helm-ha.io/replicas": "three", "helm-ha.io/tire": "skip"}),
            )],
        );
        let got: Vec<(Severity, &str)> = found
            .iter()
            .map(|f| (f.severity, f.message.as_str()))
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, Severity::Error);
        assert!(got[0].1.starts_with("annotation `helm-ha.io/replicas: \"three\"` on its pod template: not a replica count"), "{}", got[0].1);
        assert_eq!(got[1].0, Severity::Warning);
        assert!(
            got[1]
                .1
                .contains("`helm-ha.io/tire: \"skip\"` on its pod template: unknown"),
            "{}",
            got[1].1
        );
    }

    #[test]
    fn a_contradiction_refuses() {
        let found = run(
            &[&Steering],
            &policy(),
            vec![annotated(
                json!({"helm-ha.io/tier": "singleton", "helm-ha.io/replicas": "3"}),
            )],
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0]
                .message
                .contains("contradicts annotation `helm-ha.io/tier: \"singleton\"`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_user_policy_entry_that_matches_nothing_is_reported() {
        let mut p = policy();
        p.services
            .insert("wbe".into(), crate::policy::Service::default());
        p.user_services = vec!["wbe".into()];
        let found = run(
            &[&Steering],
            &p,
            vec![deployment("web", 1, json!({"containers": []}))],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "policy entry `services.wbe` matches no workload of the stream; its services are: web"
        );
    }
}
