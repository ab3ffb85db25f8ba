use super::{
    generated, generated_labels, rule, shorten, Cx, Finding, Fix, Rule, Severity,
};
use crate::classify::Decision;
use crate::json;
use crate::policy::{Problem, Tier};
use crate::workload::Workload;
use crate::yaml::{Edit, Json};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler as K8sHpa;
use serde::{Deserialize, Serialize};

rule! {
    /// HA108 horizontal-pod-autoscaler: a service the policy autoscales has no HPA.
    ///
    /// ## What it does
    /// For every service with `services.<name>.hpa` in the policy, adds an `autoscaling/v2`
    /// HorizontalPodAutoscaler whose `scaleTargetRef` is the real workload from the stream
    /// (`apps/v1`, its kind and name, its namespace), with `Utilization` targets for cpu and/or
    /// memory. `minReplicas` is the larger of the policy's and the replica floor, and the finding
    /// says when the floor raised it (plane-enterprise: web 2 → 3). It removes `spec.replicas`
    /// from the target, so Helm stops resetting the scale on every upgrade.
    ///
    /// Never for singletons, in-chart stateful services, Jobs, CronJobs or DaemonSets: the policy
    /// is refused when it asks for one (a scheduler scaled to two fires its jobs twice), and a
    /// workload the stream shows to be one of those is an error.
    ///
    /// Never a second autoscaler: when a chart HPA or a KEDA ScaledObject already targets the
    /// workload (same namespace, kind and name), nothing is added; a chart HPA whose
    /// `minReplicas` (absent = 1) is below the floor is raised to it instead (and `maxReplicas`
    /// with it when needed), since HA101 leaves autoscaled workloads' `spec.replicas` alone.
    ///
    /// A `Utilization` metric needs a request for that resource on every container of the pod
    /// (limits count: the API server copies a missing request from the limit). Without one the
    /// HPA cannot compute and never scales ("missing request for cpu"), so it is an error and
    /// nothing is added. A LimitRange may supply defaults at admission; helm-ha cannot see it, so
    /// set the requests in the chart.
    ///
    /// ## Upgrading an existing release
    /// Removing `spec.replicas` from a Deployment that Helm already manages makes the next
    /// `helm upgrade` send `replicas: null` in its three-way merge, which resets the Deployment to
    /// 1 replica for a moment until the HPA scales it back (helm/helm#12650). It happens once, on
    /// the first upgrade that adds the HPA. Do that upgrade in a quiet period, or first scale the
    /// chart's replica value to the HPA's minimum and `kubectl apply` the HPA before upgrading.
    ///
    /// ## Why it matters
    /// Three replicas survive a zone loss, not a traffic spike; a static `spec.replicas` next to
    /// an HPA is re-applied by every upgrade and fights it.
    ///
    /// ## Example
    /// `web` under plane-enterprise gets `plane-web-wl-hpa`, minReplicas 3 (the policy says 2; the
    /// floor is 3), maxReplicas 8, cpu 70 %.
    ///
    /// ## Fix
    /// The HPA above; `spec.replicas` removed. Source: the Plane Commercial Edition: High Availability guide, "HorizontalPodAutoscalers";
    /// helm/helm#7090 and #12650 (`spec.replicas` next to an HPA); kubernetes/kubernetes#79365
    /// (`Utilization` needs requests).
    pub struct HorizontalPodAutoscaler("HA108", "horizontal-pod-autoscaler", "an `autoscaling/v2` HPA for services the policy names (`minReplicas` ≥ floor, `spec.replicas` removed), never a second autoscaler; raises a chart HPA's minimum to the floor; refuses `Utilization` without requests");
}

/// A service's `hpa`: the HorizontalPodAutoscaler this rule adds for it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Settings {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Target average CPU utilisation, percent of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// Target average memory utilisation, percent of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
}

impl Settings {
    /// `key`: where the settings are in the policy.
    pub(crate) fn check(&self, key: &str) -> Result<(), Problem> {
        if self.max_replicas < self.min_replicas.max(1) {
            return Err(Problem::new(
                format!("{key}.maxReplicas"),
                format!(
                    "maxReplicas {} is below minReplicas {}",
                    self.max_replicas, self.min_replicas
                ),
                "raise maxReplicas",
            ));
        }
        if self.cpu == Some(0) || self.memory == Some(0) {
            return Err(Problem::new(
                key,
                "a target utilisation of 0%",
                "use a percentage of the request above 0, e.g. cpu: 70",
            ));
        }
        if self.cpu.is_none() && self.memory.is_none() {
            return Err(Problem::new(
                key,
                "an HPA with no metric",
                "set cpu and/or memory (target utilisation, %)",
            ));
        }
        Ok(())
    }
}

impl Rule for HorizontalPodAutoscaler {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        let mut out = Vec::new();
        let hpa = d
            .policy_key
            .as_deref()
            .and_then(|k| cx.policy.services.get(k))
            .and_then(|s| s.hpa.as_ref());
        let scaled = matches!(d.tier, Tier::Stateless | Tier::LeaderElected) && w.kind.scalable();
        if scaled {
            raise_chart_hpas(cx, w, d, &mut out);
        }
        let Some(hpa) = hpa else { return out };
        if d.tier == Tier::Skip {
            return out;
        }
        if !scaled {
            out.push(Finding::on(
                &Self::META,
                Severity::Error,
                w,
                format!(
                    "the policy asks for an HPA on `{}`, a {} {}: several copies would run ({})",
                    w.service,
                    d.tier.as_str(),
                    w.kind.as_str(),
                    d.why
                ),
            ));
            return out;
        }
        out.extend(self.one(cx, w, d, hpa));
        out
    }
}

/// A chart HPA targeting `w` with a minimum below the floor is raised to it.
fn raise_chart_hpas(cx: &Cx, w: &Workload, d: &Decision, out: &mut Vec<Finding>) {
    let Some(floor) = cx.floor(w, d) else { return };
    // The chart's own: objects added so far are helm-ha's.
    for hpa in cx.hpas_of(w) {
        let Some(doc) = hpa.doc else { continue };
        if generated(hpa.json) {
            continue;
        }
        let min = hpa.spec.min_replicas.unwrap_or(1);
        if i64::from(min) >= i64::from(floor) {
            continue;
        }
        let path = |k: &str| hpa.path.clone().join("spec").join(k);
        let mut edits = vec![Edit::Set(path("minReplicas"), Json::from(floor))];
        let max = hpa.spec.max_replicas;
        let mut msg = format!("minReplicas {min} of the chart's HPA is below the floor {floor} of `{}`: raised to {floor}", w.service);
        if i64::from(max) < i64::from(floor) {
            edits.push(Edit::Set(path("maxReplicas"), Json::from(floor)));
            msg.push_str(&format!(", and maxReplicas {max} with it"));
        }
        let name = hpa.name();
        let mut f = Finding::about(
            &HorizontalPodAutoscaler::META,
            Severity::Warning,
            Some(doc),
            format!("HorizontalPodAutoscaler/{name}"),
            msg,
        );
        f.service = Some(w.service.clone());
        f.fix = Some(Fix::Edit { doc, edits });
        out.push(f);
    }
}

impl HorizontalPodAutoscaler {
    fn one(&self, cx: &Cx, w: &Workload, d: &Decision, hpa: &Settings) -> Vec<Finding> {
        if let Some((_, _, other)) = cx.autoscaler_of(w) {
            if generated(other) {
                return Vec::new();
            }
            let kind = other.get("kind").and_then(Json::as_str).unwrap_or("?");
            let name = other
                .at("metadata.name")
                .and_then(Json::as_str)
                .unwrap_or("?");
            return vec![Finding::on(&Self::META, Severity::Info, w, format!("{kind}/{name} from the chart already scales `{}`; not adding a second autoscaler", w.service))];
        }
        let obj = cx.obj(w);
        let resources: Vec<(&str, u32)> = [("cpu", hpa.cpu), ("memory", hpa.memory)]
            .into_iter()
            .filter_map(|(r, t)| Some((r, t?)))
            .collect();
        let missing: Vec<String> = resources
            .iter()
            .flat_map(|(r, _)| {
                containers_without(obj, w, r)
                    .into_iter()
                    .map(move |c| format!("{r} in container `{c}`"))
            })
            .collect();
        if !missing.is_empty() {
            return vec![Finding::on(
                &Self::META,
                Severity::Error,
                w,
                format!("the policy's HPA for `{}` targets Utilization, but there is no request for {}: the HPA could never compute it; set the requests in the chart values or drop that metric", w.service, missing.join(", ")),
            )];
        }
        let floor = cx.floor(w, d).unwrap_or(1);
        let min = hpa.min_replicas.max(floor).max(1);
        if hpa.max_replicas < min {
            return vec![Finding::on(
                &Self::META,
                Severity::Error,
                w,
                format!(
                    "maxReplicas {} is below minReplicas {min} (the floor)",
                    hpa.max_replicas
                ),
            )];
        }
        let name = shorten(&w.name, "-hpa", 253);
        let namespace = cx.namespace_of(w);
        if cx.exists("HorizontalPodAutoscaler", namespace.as_deref(), &name) {
            return vec![Finding::on(&Self::META, Severity::Warning, w, format!("HorizontalPodAutoscaler/{name} exists in the stream but targets something else; not adding one"))];
        }
        let ctx = json!({
            "name": name,
            "namespace": namespace,
            "labels": generated_labels(Some(&w.name)),
            "target": {"apiVersion": "apps/v1", "kind": w.kind.as_str(), "name": w.name},
            "min_replicas": min,
            "max_replicas": hpa.max_replicas,
            "metrics": resources.iter().map(|(r, t)| json!({"resource": r, "utilization": t})).collect::<Vec<_>>(),
        });
        let Some(new) = cx.render::<K8sHpa>("hpa.yaml", &ctx, w.doc) else {
            return Vec::new();
        };
        let raised = if floor > hpa.min_replicas {
            format!(
                " (the policy's minReplicas {} raised to the floor {floor})",
                hpa.min_replicas
            )
        } else {
            String::new()
        };
        let targets = resources
            .iter()
            .map(|(r, t)| format!("{r} {t}%"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut out = vec![Finding::on(
            &Self::META,
            Severity::Warning,
            w,
            format!(
                "`{}` is not autoscaled: adds {name}, {min}-{} replicas on {targets}{raised}",
                w.service, hpa.max_replicas
            ),
        )
        .adding(new)];
        if obj.at("spec.replicas").is_some() {
            out.push(
                Finding::on(&Self::META, Severity::Warning, w, "spec.replicas next to an HPA is re-applied by every helm upgrade and fights it: removed (the first upgrade resets the scale once, helm/helm#12650)")
                    .edit(w, vec![Edit::Remove(w.path("spec.replicas"))]),
            );
        }
        out
    }
}

/// Names of the pod's containers (and sidecar init containers) with neither a request nor a
/// limit for `resource`.
fn containers_without(obj: &Json<'_>, w: &Workload, resource: &str) -> Vec<String> {
    let null = Json::Null;
    let spec = w.template_at(obj, "spec")
        .unwrap_or(&null);
    crate::workload::running_containers(spec)
        .filter(|c| {
            ["requests", "limits"].iter().all(|k| {
                c.at(format!("resources.{k}"))
                    .and_then(|r| r.get(resource))
                    .is_none_or(Json::is_null)
            })
        })
        .map(|c| {
            c.get("name")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Kind;
    use crate::yaml::Path;

    fn deployment(containers: Json<'static>) -> (Workload, Json<'static>) {
        let w = Workload {
            doc: 0,
            base: Path::root(),
            kind: Kind::Deployment,
            name: "web".into(),
            namespace: None,
            service: "web".into(),
            named_by: String::new(),
            hook: None,
            pod_labels: Default::default(),
        };
        (
            w,
            json!({"spec": {"template": {"spec": {"containers": containers}}}}),
        )
    }

    #[test]
    fn an_hpa_on_a_workload_that_turns_out_to_be_a_singleton_is_an_error() {
        let stream = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: scheduler}
spec:
  selector: {matchLabels: {app: scheduler}}
  template: {metadata: {labels: {app: scheduler}}, spec: {containers: [{name: s, image: s, resources: {requests: {cpu: 1}}}]}}
";
        let policy = crate::policy::load(
            Some("generic"),
            Some((
                "p.yaml",
                "services: {scheduler: {hpa: {minReplicas: 2, maxReplicas: 4, cpu: 70}}}\n",
            )),
        )
        .unwrap();
        let a = super::super::testkit::analyze(stream, &policy, None);
        let refusals: Vec<&str> = a.refusals().map(|f| f.message.as_str()).collect();
        assert_eq!(refusals.len(), 1);
        assert!(
            refusals[0].contains("a singleton Deployment"),
            "{refusals:?}"
        );
        assert!(a.added.is_empty());
    }

    #[test]
    fn a_chart_hpa_no_rule_may_touch_still_owns_the_replicas() {
        let stream = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template: {metadata: {labels: {app: api}}, spec: {containers: [{name: a, image: a, resources: {requests: {cpu: 1, memory: 1Gi}}}]}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api-autoscaler}
spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 2, maxReplicas: 5}
";
        let user = "services: {api: {tier: stateless, hpa: {minReplicas: 2, maxReplicas: 4, cpu: 70}}}\n";
        let hpas = |exclude: &str| {
            let policy = crate::policy::load(
                Some("generic"),
                Some(("p.yaml", &format!("{user}exclude: [{exclude}]\n"))),
            )
            .unwrap();
            let a = super::super::testkit::analyze(stream, &policy, None);
            let added = a.added.iter().filter(|d| d.kind == "HorizontalPodAutoscaler");
            let said = a.findings.iter().any(|f| {
                f.message
                    .starts_with("HorizontalPodAutoscaler/api-autoscaler from the chart already scales")
            });
            (added.count(), said)
        };
        // Excluded, the chart's HPA is left alone, and it still scales api: no second one.
        assert_eq!(hpas("api-autoscaler"), (0, true));
        assert_eq!(hpas("none"), (0, true));
    }

    #[test]
    fn requests_or_limits_count_for_every_container() {
        let (w, obj) = deployment(json!([
            {"name": "a", "resources": {"requests": {"cpu": "100m"}}},
            {"name": "b", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
            {"name": "c"}
        ]));
        assert_eq!(containers_without(&obj, &w, "cpu"), vec!["c"]);
        assert_eq!(containers_without(&obj, &w, "memory"), vec!["a", "c"]);
    }

    #[test]
    fn sidecar_init_containers_count_but_plain_init_containers_do_not() {
        let (w, mut obj) =
            deployment(json!([{"name": "a", "resources": {"requests": {"cpu": "1"}}}]));
        obj["spec"]["template"]["spec"]["initContainers"] =
            json!([{"name": "init"}, {"name": "proxy", "restartPolicy": "Always"}]);
        assert_eq!(containers_without(&obj, &w, "cpu"), vec!["proxy"]);
    }
}
