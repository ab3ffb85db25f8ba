use super::{rule, Cx, Finding, Rule, Severity};
use crate::policy::Cloud;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// In-tree AWS cloud provider (Classic ELB) and the AWS Load Balancer Controller's legacy form.
pub const AWS_CROSS_ZONE: &str =
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled";
/// AWS Load Balancer Controller (NLB): `load_balancing.cross_zone.enabled=true` among the attributes.
pub const AWS_LB_ATTRIBUTES: &str = "service.beta.kubernetes.io/aws-load-balancer-attributes";

rule! {
    /// HA205 load-balancer-cross-zone: a LoadBalancer Service may not balance across zones.
    ///
    /// ## What it does
    /// Reports every `type: LoadBalancer` Service in the stream (hooks excepted), without
    /// changing it:
    /// - a **warning** when an annotation turns cross-zone load balancing off
    ///   (`service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled: "false"`,
    ///   or `load_balancing.cross_zone.enabled=false` in
    ///   `service.beta.kubernetes.io/aws-load-balancer-attributes`);
    /// - a **note** when the policy names no cloud (`cloud: none`) and neither annotation turns
    ///   it on: whether the load balancer spreads traffic over zones depends on the cloud, which
    ///   the manifest does not say.
    ///
    /// With `cloud: aws` this rule stays silent: HA111 (the AWS load-balancer rule) adds the
    /// annotation itself, so `check` reports it there, as a fix. With `cloud: gcp` or
    /// `cloud: azure` it is silent too: their regional and Standard load balancers serve all
    /// zones by default.
    ///
    /// ## Why it matters
    /// An AWS Network Load Balancer has cross-zone load balancing off by default: each zone's
    /// LB node sends traffic only to targets in its own zone. When a zone's pods are gone (or
    /// fewer), the clients that DNS sends to that zone's LB address fail or overload the few
    /// pods left, although healthy pods run in the other zones.
    ///
    /// ## Example
    /// The ingress controller's `Service` of `type: LoadBalancer` with no annotations, under
    /// the generic profile (note).
    ///
    /// ## Fix
    /// Set `cloud: aws` in the policy (helm-ha then adds the annotation), or add
    /// `service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled: "true"`
    /// (in-tree) or `service.beta.kubernetes.io/aws-load-balancer-attributes:
    /// load_balancing.cross_zone.enabled=true` (AWS Load Balancer Controller) in the chart.
    /// Source: the Plane Commercial Edition: High Availability guide, "Cluster prerequisites" (3) and "Ingress and load balancer"; go-live
    /// checklist ("LB has cross-zone load balancing enabled").
    pub struct LoadBalancerCrossZone("HA205", "load-balancer-cross-zone", "check only: a LoadBalancer Service with cross-zone turned off (warning), or with `cloud: none` nothing turning it on (note); silent under `cloud: aws`, where HA111 fixes it");
}

impl Rule for LoadBalancerCrossZone {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn stream(&self, cx: &Cx) -> Vec<Finding> {
        if cx.policy.cloud == Cloud::Aws {
            return Vec::new();
        }
        let mut out = Vec::new();
        for svc in cx.services() {
            if svc.spec.type_.as_deref() != Some("LoadBalancer") {
                continue;
            }
            let name = svc.metadata.name.as_deref().unwrap_or("");
            let (severity, message) = match cross_zone(&svc.metadata) {
                    Some(true) => continue,
                    Some(false) => (Severity::Warning, "turns cross-zone load balancing off: each zone's load balancer node only reaches the pods in its zone".to_string()),
                    None if cx.policy.cloud == Cloud::None => (
                        Severity::Info,
                        "is a cloud load balancer and nothing turns cross-zone load balancing on (off by default on an AWS NLB); set `cloud:` in the policy, or annotate it".to_string(),
                    ),
                    None => continue,
                };
            out.push(Finding {
                rule: &Self::META,
                severity,
                doc: svc.doc,
                object: format!("Service/{name}"),
                service: None,
                message: format!("Service `{name}` {message}"),
                fix: None,
            });
        }
        out
    }
}

/// What the Service's annotations say about cross-zone load balancing, if anything.
fn cross_zone(service: &ObjectMeta) -> Option<bool> {
    let a = service.annotations.as_ref()?;
    let flag = |v: &str| match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let attrs = a.get(AWS_LB_ATTRIBUTES).and_then(|s| {
        s.split(',')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| k.trim() == "load_balancing.cross_zone.enabled")
            .and_then(|(_, v)| flag(v))
    });
    attrs.or_else(|| a.get(AWS_CROSS_ZONE).and_then(|v| flag(v)))
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{policy, run, service};
    use super::*;
    use crate::json;

    #[test]
    fn unknown_cloud_notes_and_explicit_off_warns() {
        let objects = vec![
            service("plain", "LoadBalancer", json!({})),
            service("off", "LoadBalancer", json!({AWS_CROSS_ZONE: "false"})),
            service(
                "on",
                "LoadBalancer",
                json!({AWS_LB_ATTRIBUTES: "deletion_protection.enabled=true, load_balancing.cross_zone.enabled=true"}),
            ),
            service("internal", "ClusterIP", json!({})),
        ];
        let found = run(&[&LoadBalancerCrossZone], &policy(), objects);
        let got: Vec<(&str, Severity)> = found
            .iter()
            .map(|f| (f.object.as_str(), f.severity))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Service/plain", Severity::Info),
                ("Service/off", Severity::Warning)
            ]
        );
        assert_eq!(found[1].doc, Some(1));
    }

    #[test]
    fn silent_under_aws_where_ha111_fixes_it_and_on_clouds_that_balance_across_zones() {
        for cloud in [Cloud::Aws, Cloud::Gcp, Cloud::Azure] {
            let mut p = policy();
            p.cloud = cloud;
            let found = run(
                &[&LoadBalancerCrossZone],
                &p,
                vec![service("plain", "LoadBalancer", json!({}))],
            );
            assert_eq!(found, vec![], "{cloud:?}");
        }
        let mut p = policy();
        p.cloud = Cloud::Gcp;
        let found = run(
            &[&LoadBalancerCrossZone],
            &p,
            vec![service(
                "off",
                "LoadBalancer",
                json!({AWS_CROSS_ZONE: "false"}),
            )],
        );
        assert_eq!(
            found.len(),
            1,
            "an explicit off is reported on every cloud but aws"
        );
    }
}
