use super::pod_spread::{Pod, HOSTNAME, ZONE};
use super::readiness_probe::containers;
use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::workload::{Kind, Workload};
use crate::yaml::Json;

rule! {
    /// HA204 ingress-controller: the ingress controller can be taken out by one node or zone.
    ///
    /// ## What it does
    /// Finds ingress controllers in the stream (a container image of Traefik, ingress-nginx or
    /// NGINX Inc.'s nginx-ingress) and, after the hardening rules ran, reports a Deployment or
    /// StatefulSet that still runs fewer than 2 copies (its `spec.replicas`, or the
    /// `minReplicas` of the HPA that owns it) or whose pods are not spread over nodes and zones
    /// (no anti-affinity or spread constraint that counts its own pods on
    /// `kubernetes.io/hostname` and `topology.kubernetes.io/zone`). A DaemonSet runs on every
    /// node already and is fine.
    ///
    /// A stateless ingress controller gets the replica floor (HA101) and the spread (HA103) like
    /// any Tier-1 service, so this rule only reports what helm-ha was told, or chose, not to fix
    /// (an excluded service, a floor or spread turned off by the policy, an HPA with
    /// `minReplicas: 1`). It carries no fix of its own.
    ///
    /// ## Why it matters
    /// Every request enters through the ingress controller. If its only replica, or all of them,
    /// sit on one node or in one zone, losing that node or zone takes the whole application
    /// offline however well the services behind it are spread.
    ///
    /// ## Example
    /// A `traefik` Deployment with `replicas: 1` listed in the policy's `exclude`.
    ///
    /// ## Fix
    /// Run it with `replicas >= 2` (or an HPA with `minReplicas >= 2`) spread across zones with
    /// the same anti-affinity pattern as Tier 1: let helm-ha harden it (remove it from
    /// `exclude`), or set the controller chart's `replicaCount`/`deployment.replicas` and
    /// `affinity`/`topologySpreadConstraints`. Source: the Plane Commercial Edition: High Availability guide, "Cluster prerequisites" (4) and
    /// "Ingress and load balancer"; go-live checklist ("Ingress controller runs with
    /// replicas >= 2 spread across AZs").
    pub struct IngressController("HA204", "ingress-controller", "check only: a Traefik / ingress-nginx controller left with < 2 copies or not spread over nodes and zones");
}

impl Rule for IngressController {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, _: &Decision) -> Vec<Finding> {
        if !w.kind.scalable() || w.kind == Kind::ReplicaSet {
            return Vec::new();
        }
        let obj = cx.obj(w);
        let Some(image) = containers(obj, w)
            .filter_map(|c| c.get("image").and_then(Json::as_str))
            .find(|i| ingress_controller_image(i))
        else {
            return Vec::new();
        };
        let (copies, owner) = match cx.autoscaler_of(w).map(|(_, _, o)| o) {
            Some(hpa) => (
                hpa.at("spec.minReplicas")
                    .and_then(Json::as_u64)
                    .unwrap_or(1),
                "HPA minReplicas",
            ),
            None => (
                obj.at("spec.replicas").and_then(Json::as_u64).unwrap_or(1),
                "replicas",
            ),
        };
        let pod = Pod::of(obj, w);
        let unspread: Vec<&str> = [(HOSTNAME, "nodes"), (ZONE, "zones")]
            .into_iter()
            .filter(|(k, _)| !pod.covers(k))
            .map(|(_, what)| what)
            .collect();
        let mut problems = Vec::new();
        if copies < 2 {
            problems.push(format!("runs {copies} copy ({owner})"));
        }
        if !unspread.is_empty() {
            problems.push(format!("is not spread over {}", unspread.join(" and ")));
        }
        if problems.is_empty() {
            return Vec::new();
        }
        vec![Finding::on(&Self::META, Severity::Warning, w, format!("ingress controller ({image}) {}: every request enters through it, so one node or zone loss takes the application offline", problems.join(" and ")))]
    }
}

/// Traefik, ingress-nginx (`registry.k8s.io/ingress-nginx/controller`, the older
/// `nginx-ingress-controller`) and NGINX Inc.'s `nginx/nginx-ingress`.
pub(super) fn ingress_controller_image(image: &str) -> bool {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    }
    .to_ascii_lowercase();
    let last = repo.rsplit('/').next().unwrap_or(&repo);
    last == "traefik"
        || last == "nginx-ingress-controller"
        || last == "nginx-ingress"
        || repo.ends_with("ingress-nginx/controller")
        || repo.ends_with("ingress-nginx/controller-chroot")
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;

    fn traefik(replicas: u32, spec_extra: Json<'static>) -> Json<'static> {
        let mut pod =
            json!({"containers": [{"name": "traefik", "image": "docker.io/traefik:v3.1"}]});
        if let Some(o) = spec_extra.as_object() {
            for (k, v) in o {
                pod[k.as_str()] = v.clone();
            }
        }
        deployment("traefik", replicas, pod)
    }

    #[test]
    fn images() {
        assert!(ingress_controller_image("traefik:v3.1"));
        assert!(ingress_controller_image(
            "docker.io/library/traefik:v3.1@sha256:abc"
        ));
        assert!(ingress_controller_image(
            "registry.k8s.io/ingress-nginx/controller:v1.12.0@sha256:abc"
        ));
        assert!(ingress_controller_image("nginx/nginx-ingress:4.0.0"));
        assert!(ingress_controller_image("localhost:5000/traefik"));
        assert!(!ingress_controller_image("nginx:1.27"));
        assert!(!ingress_controller_image("traefik/whoami:v1"));
    }

    #[test]
    fn a_single_unspread_controller_is_reported() {
        let found = run(
            &[&IngressController],
            &policy(),
            vec![traefik(1, json!({}))],
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].message.contains("runs 1 copy")
                && found[0].message.contains("nodes and zones"),
            "{}",
            found[0].message
        );
        assert!(found[0].fix.is_none());
    }

    #[test]
    fn two_spread_copies_and_daemonsets_are_fine() {
        let sel = json!({"matchLabels": {"app": "traefik"}});
        let spread = json!({"topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": sel},
            {"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": sel},
        ]});
        let mut ds = traefik(1, json!({}));
        ds["kind"] = json!("DaemonSet");
        assert_eq!(
            run(
                &[&IngressController],
                &policy(),
                vec![traefik(2, spread), ds]
            ),
            vec![]
        );
    }

    #[test]
    fn an_hpa_with_min_one_counts() {
        let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "traefik"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "traefik"}, "minReplicas": 1, "maxReplicas": 5}});
        let found = run(
            &[&IngressController],
            &policy(),
            vec![traefik(3, json!({})), hpa],
        );
        assert!(
            found[0].message.contains("HPA minReplicas"),
            "{}",
            found[0].message
        );
    }
}
