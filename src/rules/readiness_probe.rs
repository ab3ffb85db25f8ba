use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::selector;
use crate::workload::Workload;
use crate::yaml::Json;

rule! {
    /// HA201 readiness-probe: a Tier-1 container has no readiness probe.
    ///
    /// ## What it does
    /// Reports every container (not init containers) of a stateless or leader-elected workload
    /// that has no `readinessProbe`. It is a warning when a Service in the stream selects the
    /// pods (traffic is sent to them), and a note otherwise (the probe then only paces rollouts).
    /// It never adds a probe: only the application knows which endpoint means "ready", and a
    /// placeholder probe (a TCP check on some port) would report ready while the app is not.
    ///
    /// ## Why it matters
    /// Without a readiness probe a pod counts as Ready as soon as its process starts: a Service
    /// sends it requests before it can serve them, a rolling update or a node drain replaces the
    /// next pod before the new one works, and a hung replica keeps receiving traffic. Replicas
    /// spread over zones only help if a broken one leaves the load balancer.
    ///
    /// ## Example
    /// `api` (3 replicas, selected by Service `api`) whose container has a `livenessProbe` only.
    ///
    /// ## Fix
    /// Set the chart's readiness probe value (usually `<service>.readinessProbe`), e.g.
    /// `httpGet: {path: /ready, port: 8000}, periodSeconds: 5, failureThreshold: 3`; keep it
    /// cheaper and stricter than the liveness probe. Leader-elected services: only the leader
    /// should report Ready (the PgDog control plane documentation, "High availability"). Source: the Laminar High Availability documentation, "Health Probes" and the HA checklist
    /// ("Health probes configured").
    pub struct ReadinessProbe("HA201", "readiness-probe", "check only: Tier-1 containers without a readiness probe (warning behind a Service, else a note); never injects a placeholder probe");
}

impl Rule for ReadinessProbe {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if !matches!(d.tier, Tier::Stateless | Tier::LeaderElected) {
            return Vec::new();
        }
        let obj = cx.obj(w);
        let missing: Vec<&str> = containers(obj, w)
            .filter(|c| c.get("readinessProbe").is_none_or(Json::is_null))
            .map(|c| c.get("name").and_then(Json::as_str).unwrap_or("?"))
            .collect();
        if missing.is_empty() {
            return Vec::new();
        }
        let names = missing
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let (severity, why) = match exposing_service(cx, w) {
            Some(svc) => (Severity::Warning, format!("Service `{svc}` sends traffic to pods that are not ready yet, or hung")),
            None => (Severity::Info, "pods count as Ready when the process starts, so rollouts and drains do not wait for them".to_string()),
        };
        vec![Finding::on(
            &Self::META,
            severity,
            w,
            format!(
                "container(s) {names} of `{}` have no readinessProbe: {why}",
                w.service
            ),
        )]
    }
}

/// The regular containers of a workload's pod template.
pub(super) fn containers<'v, 'a>(
    obj: &'v Json<'a>,
    w: &Workload,
) -> impl Iterator<Item = &'v Json<'a>> {
    w.template_at(obj, "spec.containers")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
}

/// The name of a Service in the stream whose selector picks the workload's pods (same
/// namespace, a non-empty selector that is a subset of the pod template labels).
pub(super) fn exposing_service(cx: &Cx, w: &Workload) -> Option<String> {
    let labels = &w.pod_labels;
    let w_ns = cx.namespace_of(w);
    cx.services_selecting(labels).into_iter().find_map(|o| {
        let ns = cx.object_namespace(o);
        let sel = o
            .at("spec.selector")
            .and_then(Json::as_object)
            .filter(|s| !s.is_empty())?;
        let as_selector = crate::json!({ "matchLabels": sel });
        (ns == w_ns.as_deref() && selector::matches(&as_selector, labels)).then(|| {
            o.at("metadata.name")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run, service};
    use super::*;
    use crate::json;

    #[test]
    fn warns_for_served_pods_and_notes_unserved_ones() {
        let objects = vec![
            deployment(
                "api",
                2,
                json!({"containers": [{"name": "api", "image": "app:1"}, {"name": "sidecar", "image": "proxy:1", "readinessProbe": {"tcpSocket": {"port": 1}}}]}),
            ),
            service("api", "ClusterIP", json!({})),
            deployment(
                "worker",
                2,
                json!({"containers": [{"name": "worker", "image": "app:1"}]}),
            ),
        ];
        let found = run(&[&ReadinessProbe], &policy(), objects);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].object.as_str(), found[0].severity),
            ("Deployment/api", Severity::Warning)
        );
        assert!(
            found[0].message.contains("`api`") && !found[0].message.contains("sidecar"),
            "{}",
            found[0].message
        );
        assert!(found[0].message.contains("Service `api`"));
        assert_eq!(
            (found[1].object.as_str(), found[1].severity),
            ("Deployment/worker", Severity::Info)
        );
        assert!(
            found.iter().all(|f| f.fix.is_none()),
            "never injects a probe"
        );
    }

    #[test]
    fn services_are_found_through_their_rarest_selector_label() {
        // The Service index files each Service under its rarest selector pair; a pair every pod
        // shares, a pair in second place, a non-string value and a selector the pod only half
        // matches must give the same answers as asking every Service.
        let mut objects = Vec::new();
        for name in ["a", "b", "c"] {
            let mut d = deployment(
                name,
                2,
                json!({"containers": [{"name": name, "image": "app:1"}]}),
            );
            d["spec"]["template"]["metadata"]["labels"]["instance"] = json!("rel");
            objects.push(d);
        }
        let mut svc = |name: &str, selector: Json<'static>| {
            let mut s = service(name, "ClusterIP", json!({}));
            s["spec"]["selector"] = selector;
            objects.push(s);
        };
        svc("to-a", json!({"instance": "rel", "app": "a"}));
        svc(
            "to-b-half",
            json!({"instance": "rel", "app": "b", "tier": "x"}),
        );
        svc("numeric", json!({"app": 1}));
        svc("to-c", json!({"app": "c", "instance": "rel"}));
        svc("to-all", json!({"instance": "rel"}));
        let found = run(&[&ReadinessProbe], &policy(), objects);
        let says = |i: usize| found[i].message.clone();
        assert!(says(0).contains("Service `to-a`"), "{}", says(0));
        assert!(says(1).contains("Service `to-all`"), "{}", says(1));
        assert!(says(2).contains("Service `to-c`"), "{}", says(2));
    }

    #[test]
    fn probed_hooks_singletons_and_stateful_are_quiet() {
        let probed = json!({"containers": [{"name": "a", "image": "app:1", "readinessProbe": {"httpGet": {"path": "/ready", "port": 80}}}]});
        let mut hook = deployment(
            "hooked",
            1,
            json!({"containers": [{"name": "a", "image": "app:1"}]}),
        );
        hook["metadata"]["annotations"] = json!({"helm.sh/hook": "pre-install"});
        let objects = vec![
            deployment("web", 2, probed),
            hook,
            deployment(
                "beat",
                1,
                json!({"containers": [{"name": "beat", "image": "app:1"}]}),
            ),
            deployment(
                "db",
                1,
                json!({"containers": [{"name": "db", "image": "postgres:16"}]}),
            ),
        ];
        assert_eq!(run(&[&ReadinessProbe], &policy(), objects), vec![]);
    }

    #[test]
    fn a_service_in_another_namespace_does_not_count() {
        let mut svc = service("api", "ClusterIP", json!({}));
        svc["metadata"]["namespace"] = json!("other");
        let mut dep = deployment(
            "api",
            2,
            json!({"containers": [{"name": "api", "image": "app:1"}]}),
        );
        dep["metadata"]["namespace"] = json!("prod");
        let found = run(&[&ReadinessProbe], &policy(), vec![dep, svc]);
        assert_eq!(found[0].severity, Severity::Info);
    }
}
