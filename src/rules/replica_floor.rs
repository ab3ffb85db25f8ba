use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::Workload;
use crate::yaml::{Edit, Json};

rule! {
    /// HA101 replica-floor: a scaled workload runs fewer replicas than its floor.
    ///
    /// ## What it does
    /// Raises `spec.replicas` of stateless and leader-elected Deployments, StatefulSets and
    /// ReplicaSets to their floor (the `helm-ha.io/replicas` annotation, else the policy's per
    /// service, else per tier). It never lowers a count. In the generic profile a workload is
    /// only in those tiers on evidence that a second copy is safe (see the classifier), and the
    /// message names that evidence.
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
    /// `spec.replicas: <floor>`. Source: the Plane Commercial Edition: High Availability guide, "Run at least replicas: 2 per service".
    pub struct ReplicaFloor("HA101", "replica-floor", "raises `spec.replicas` to the floor (not when an autoscaler owns the count)");
}

impl Rule for ReplicaFloor {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if !matches!(d.tier, Tier::Stateless | Tier::LeaderElected)
            || !w.kind.scalable()
            || cx.autoscaled(w, d)
        {
            return Vec::new();
        }
        let Some(floor) = cx.floor(w, d) else {
            return Vec::new();
        };
        let replicas = cx
            .obj(w)
            .at("spec.replicas")
            .and_then(Json::as_i64)
            .unwrap_or(1);
        if replicas >= i64::from(floor) {
            return Vec::new();
        }
        let evidence = if d.policy_key.is_some() && d.explicit {
            String::new()
        } else {
            format!(" ({})", d.why)
        };
        vec![Finding::on(&Self::META, Severity::Warning, w, format!("{replicas} replica(s) < floor {floor} for {} service `{}`{evidence}: one node loss takes it down", d.tier.as_str(), w.service))
            .edit(w, vec![Edit::Set(w.path("spec.replicas"), Json::from(floor))])]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{declaring, deployment, policy, run};
    use super::*;
    use crate::json;
    use crate::rules::Fix;

    #[test]
    fn raises_to_the_floor_and_never_lowers() {
        let found = run(
            &[&ReplicaFloor],
            &declaring(
                policy(),
                &[("web", Tier::Stateless), ("api", Tier::Stateless)],
            ),
            vec![
                deployment("web", 1, json!({"containers": []})),
                deployment("api", 5, json!({"containers": []})),
                deployment("lone", 1, json!({"containers": []})),
            ],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].object, "Deployment/web");
        assert_eq!(
            found[0].fix,
            Some(Fix::Edit {
                doc: 0,
                edits: vec![Edit::Set(
                    crate::yaml::Path::dotted("spec.replicas"),
                    json!(2)
                )]
            })
        );
    }

    #[test]
    fn an_absent_count_is_one_and_a_service_floor_wins() {
        let mut web = deployment("web", 1, json!({"containers": []}));
        web["spec"]
            .as_object_mut()
            .unwrap()
            .shift_remove("replicas");
        let mut p = declaring(policy(), &[("web", Tier::Stateless)]);
        p.services["web"].replicas = Some(4);
        let found = run(&[&ReplicaFloor], &p, vec![web]);
        assert!(
            found[0].message.starts_with("1 replica(s) < floor 4"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn evidence_raises_and_the_message_names_it() {
        let mut web = deployment(
            "web",
            1,
            json!({"containers": [{"name": "n", "image": "nginx:1.27"}]}),
        );
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}});
        let found = run(&[&ReplicaFloor], &policy(), vec![web.clone(), svc.clone()]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].message, "1 replica(s) < floor 2 for stateless service `web` (`nginx` is a web server or proxy behind Service web): one node loss takes it down");
        // The same image with nothing in front of it is not evidence.
        assert!(run(&[&ReplicaFloor], &policy(), vec![web.clone()]).is_empty());
        // A floor the chart asks for through its pod annotations.
        web["spec"]["template"]["metadata"]["annotations"] = json!({"helm-ha.io/replicas": "3"});
        let found = run(&[&ReplicaFloor], &policy(), vec![web]);
        assert!(found[0].message.starts_with("1 replica(s) < floor 3 for stateless service `web` (annotation `helm-ha.io/replicas: \"3\"` on its pod template"), "{}", found[0].message);
    }

    #[test]
    fn a_count_an_autoscaler_owns_is_left_alone() {
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 4}});
        assert!(run(
            &[&ReplicaFloor],
            &declaring(policy(), &[("web", Tier::Stateless)]),
            vec![deployment("web", 1, json!({"containers": []})), hpa]
        )
        .is_empty());
    }
}
