use super::readiness_probe::{containers, exposing_service};
use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::Workload;
use crate::yaml::Json;

rule! {
    /// HA202 graceful-shutdown: a Tier-1 pod shows no sign of shutting down gracefully.
    ///
    /// ## What it does
    /// For stateless and leader-elected workloads, looks at the pod's termination settings:
    /// - a **warning** when they are provably wrong: `terminationGracePeriodSeconds: 0` (the
    ///   containers are killed at once), or a `preStop` sleep (the `sleep` action, or an exec of
    ///   `sleep N`) at least as long as the grace period, so the kubelet sends SIGKILL as soon as
    ///   the hook ends and the application never gets its SIGTERM time;
    /// - a **note** when the pods are behind a Service in the stream and set neither a `preStop`
    ///   hook on any container nor `terminationGracePeriodSeconds`: nothing in the manifest
    ///   covers the window in which a terminating pod still receives traffic.
    ///
    /// It never adds a hook or a grace period. Whether an application drains in-flight work on
    /// SIGTERM is not visible in a manifest, and a default 30-second grace period with a
    /// well-behaved application is fine; so absence alone is a note, not a warning.
    ///
    /// ## Why it matters
    /// Every node drain, zone evacuation and rolling update terminates pods. Endpoints and load
    /// balancers learn about it a moment later than the pod does; a pod that exits at once drops
    /// the requests still routed to it, and one killed before it drains loses work.
    ///
    /// ## Example
    /// `api` with `lifecycle.preStop.exec.command: [sh, -c, "sleep 30"]` and
    /// `terminationGracePeriodSeconds: 30` (warning); `web` behind a Service with neither (note).
    ///
    /// ## Fix
    /// A `preStop` hook that sleeps a few seconds (`lifecycle: {preStop: {sleep: {seconds: 10}}}`
    /// on Kubernetes 1.30+, or `exec: {command: [/bin/sh, -c, "sleep 10"]}`), and
    /// `terminationGracePeriodSeconds` longer than that sleep plus the application's drain time
    /// (e.g. 60). Source: the Laminar High Availability documentation, "Graceful Shutdown" and the HA checklist ("Graceful shutdown
    /// configured").
    pub struct GracefulShutdown("HA202", "graceful-shutdown", "check only: `terminationGracePeriodSeconds: 0` or a preStop sleep that uses up the grace period (warning); no preStop and no grace period behind a Service (note)");
}

/// The pod's default when `terminationGracePeriodSeconds` is absent.
const DEFAULT_GRACE: i64 = 30;

impl Rule for GracefulShutdown {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if !matches!(d.tier, Tier::Stateless | Tier::LeaderElected) {
            return Vec::new();
        }
        let obj = cx.obj(w);
        let grace_set = w
            .template_at(obj, "spec.terminationGracePeriodSeconds")
            .filter(|g| !g.is_null());
        let grace = grace_set.and_then(Json::as_i64);
        let hooks: Vec<(&str, Option<i64>)> = containers(obj, w)
            .filter_map(|c| {
                let hook = c.at("lifecycle.preStop").filter(|h| !h.is_null())?;
                Some((
                    c.get("name").and_then(Json::as_str).unwrap_or("?"),
                    pre_stop_sleep(hook),
                ))
            })
            .collect();
        if grace == Some(0) {
            return vec![Finding::on(&Self::META, Severity::Warning, w, format!("`{}` sets terminationGracePeriodSeconds: 0: its containers are killed without any time to finish requests", w.service))];
        }
        let effective = grace.unwrap_or(DEFAULT_GRACE);
        if let Some((name, Some(sleep))) = hooks
            .iter()
            .find(|(_, s)| s.is_some_and(|s| s >= effective))
        {
            let source = if grace.is_some() {
                "terminationGracePeriodSeconds"
            } else {
                "the default grace period"
            };
            return vec![Finding::on(&Self::META, Severity::Warning, w, format!("container `{name}` of `{}` sleeps {sleep}s in preStop, which uses up {source} ({effective}s): the application is killed without its SIGTERM drain time", w.service))];
        }
        if !hooks.is_empty() || grace_set.is_some() {
            return Vec::new();
        }
        exposing_service(cx, w)
            .map(|svc| Finding::on(&Self::META, Severity::Info, w, format!("`{}` (behind Service `{svc}`) has no preStop hook and no terminationGracePeriodSeconds: requests routed to a terminating pod may be dropped", w.service)))
            .into_iter()
            .collect()
    }
}

fn pre_stop_sleep(hook: &Json) -> Option<i64> {
    if let Some(s) = hook.at("sleep.seconds") {
        return s.as_i64();
    }
    let words: Vec<&str> = hook
        .at("exec.command")
        .and_then(Json::as_array)?
        .iter()
        .filter_map(Json::as_str)
        .flat_map(str::split_whitespace)
        .collect();
    let at = words
        .iter()
        .position(|w| *w == "sleep" || w.ends_with("/sleep"))?;
    words
        .get(at + 1)?
        .trim_end_matches([';', '&'])
        .trim_end_matches('s')
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run, service};
    use super::*;
    use crate::json;

    fn pod(grace: Option<i64>, pre_stop: Option<Json>) -> Json {
        let mut c = json!({"name": "app", "image": "app:1"});
        if let Some(h) = pre_stop {
            c["lifecycle"] = json!({"preStop": h});
        }
        let mut p = json!({"containers": [c]});
        if let Some(g) = grace {
            p["terminationGracePeriodSeconds"] = json!(g);
        }
        p
    }

    fn findings(
        grace: Option<i64>,
        pre_stop: Option<Json<'static>>,
        with_service: bool,
    ) -> Vec<Finding> {
        let mut objects = vec![deployment("api", 2, pod(grace, pre_stop))];
        if with_service {
            objects.push(service("api", "ClusterIP", json!({})));
        }
        run(&[&GracefulShutdown], &policy(), objects)
    }

    #[test]
    fn sleep_durations_are_read_from_both_hook_forms() {
        assert_eq!(pre_stop_sleep(&json!({"sleep": {"seconds": 10}})), Some(10));
        assert_eq!(
            pre_stop_sleep(&json!({"exec": {"command": ["/bin/sh", "-c", "sleep 10"]}})),
            Some(10)
        );
        assert_eq!(
            pre_stop_sleep(&json!({"exec": {"command": ["/bin/sleep", "15s"]}})),
            Some(15)
        );
        assert_eq!(
            pre_stop_sleep(&json!({"exec": {"command": ["/app", "drain"]}})),
            None
        );
        assert_eq!(
            pre_stop_sleep(&json!({"httpGet": {"path": "/drain", "port": 80}})),
            None
        );
    }

    #[test]
    fn provably_wrong_settings_warn() {
        let f = findings(Some(0), None, false);
        assert_eq!(f[0].severity, Severity::Warning);
        let f = findings(
            Some(30),
            Some(json!({"exec": {"command": ["sh", "-c", "sleep 30"]}})),
            false,
        );
        assert_eq!(f[0].severity, Severity::Warning, "{:?}", f);
        let f = findings(None, Some(json!({"sleep": {"seconds": 45}})), false);
        assert!(f[0].message.contains("default grace period"));
    }

    #[test]
    fn sound_settings_and_unserved_pods_are_quiet() {
        assert_eq!(
            findings(Some(60), Some(json!({"sleep": {"seconds": 10}})), true),
            vec![]
        );
        assert_eq!(findings(Some(60), None, true), vec![]);
        assert_eq!(
            findings(
                None,
                Some(json!({"exec": {"command": ["/app", "drain"]}})),
                true
            ),
            vec![]
        );
        assert_eq!(findings(None, None, false), vec![]);
        let f = findings(None, None, true);
        assert_eq!((f.len(), f[0].severity), (1, Severity::Info));
        assert!(f.iter().all(|f| f.fix.is_none()));
    }
}
