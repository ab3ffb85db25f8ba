use super::{rule, Cx, Finding, Rule, Severity};
use crate::policy::{Cloud, Problem};
use crate::yaml::{Edit, Json};
use k8s_openapi::api::core::v1::ServiceSpec;
use serde::{Deserialize, Serialize};

const PREFIX: &str = "service.beta.kubernetes.io/";
pub const CROSS_ZONE: &str =
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled";
pub const LB_ATTRIBUTES: &str = "service.beta.kubernetes.io/aws-load-balancer-attributes";
pub const CLB_IDLE_TIMEOUT: &str =
    "service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout";
const CROSS_ZONE_ATTRIBUTE: &str = "load_balancing.cross_zone.enabled";
const TCP_IDLE_ATTRIBUTE: &str = "tcp.idle_timeout.seconds";

rule! {
    /// HA111 load-balancer: an AWS load balancer that sends each zone's traffic to that zone only.
    ///
    /// ## What it does
    /// With `cloud: aws`, every Service of `type: LoadBalancer` gets cross-zone load balancing,
    /// in the form its controller reads:
    /// - the AWS Load Balancer Controller (annotation `aws-load-balancer-type: external` or
    ///   `nlb-ip`, or `loadBalancerClass: service.k8s.aws/nlb`):
    ///   `service.beta.kubernetes.io/aws-load-balancer-attributes` gains
    ///   `load_balancing.cross_zone.enabled=true` (merged into the attributes already there; the
    ///   older annotation is deprecated there);
    /// - the in-tree cloud provider (Classic LB, or `aws-load-balancer-type: nlb`): the guide's
    ///   `service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled: "true"`.
    ///
    /// A Service belongs to a policy service when its selector matches that service's pod
    /// labels (same namespace). When the policy sets `loadBalancer.idleTimeoutSeconds` (e.g. the
    /// guide's WebSocket service `live`), the idle timeout is set too:
    /// - AWS Load Balancer Controller NLB: one listener attribute per TCP port,
    ///   `service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-<port>:
    ///   tcp.idle_timeout.seconds=<n>` (NLB range 60-6000 s, default 350 s);
    /// - in-tree Classic LB: `service.beta.kubernetes.io/aws-load-balancer-connection-idle-timeout:
    ///   "<n>"` (default 60 s);
    /// - the in-tree NLB cannot set it: reported.
    ///
    /// A value the chart already sets is never overwritten; a chart that turns cross-zone off is
    /// reported. Services with another `loadBalancerClass` are left alone.
    ///
    /// ## Why it matters
    /// Without cross-zone balancing each load balancer node only sends to targets in its own zone:
    /// when a zone has fewer (or no) ready pods, its share of the traffic overloads them or fails.
    /// WebSocket connections through a 60 s idle timeout drop whenever a client is quiet.
    ///
    /// ## Example
    /// A `type: LoadBalancer` Service for `live` under plane-enterprise with `cloud: aws`.
    ///
    /// ## Fix
    /// The annotations above. Source: the Plane Commercial Edition: High Availability guide, "Ingress and load balancer"; AWS Load Balancer
    /// Controller service annotations (v2.10+); Kubernetes cloud-provider-aws service controller.
    pub struct LoadBalancer("HA111", "load-balancer", "AWS cross-zone load balancing and the policy's idle timeout, in the annotations the Service's controller reads");
}

#[derive(PartialEq)]
enum Controller {
    /// AWS Load Balancer Controller (NLB).
    Lbc,
    /// In-tree Classic Load Balancer.
    Clb,
    /// In-tree NLB.
    InTreeNlb,
}

/// A service's `loadBalancer` settings: for the Services of type LoadBalancer that select its
/// pods.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Settings {
    /// Idle timeout long enough for WebSockets (AWS: NLB/ALB attribute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_seconds: Option<u32>,
}

impl Settings {
    pub(crate) fn check(&self, key: &str) -> Result<(), Problem> {
        match self.idle_timeout_seconds {
            Some(t) if !(60..=4000).contains(&t) => Err(Problem::new(
                format!("{key}.idleTimeoutSeconds"),
                format!("{t} s is outside 60-4000 (the range both AWS NLB listeners and Classic Load Balancers accept)"),
                "pick a value from 60 to 4000",
            )),
            _ => Ok(()),
        }
    }
}

impl Rule for LoadBalancer {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn stream(&self, cx: &Cx) -> Vec<Finding> {
        if cx.policy.cloud != Cloud::Aws {
            return Vec::new();
        }
        let mut out = Vec::new();
        for svc in cx.services() {
            let Some(doc) = svc.doc else { continue };
            if svc.spec.type_.as_deref() != Some("LoadBalancer") {
                continue;
            }
            let annotations = svc.metadata.annotations.as_ref();
            let ann = |k: &str| annotations.and_then(|a| a.get(k)).map(String::as_str);
            let controller = match (
                svc.spec.load_balancer_class.as_deref(),
                ann(&format!("{PREFIX}aws-load-balancer-type")),
            ) {
                (Some("service.k8s.aws/nlb"), _) | (None, Some("external" | "nlb-ip")) => {
                    Controller::Lbc
                }
                (Some(_), _) => continue,
                (None, Some("nlb")) => Controller::InTreeNlb,
                (None, _) => Controller::Clb,
            };
            let object = format!("Service/{}", svc.name());
            let set = |k: &str, v: String| {
                Edit::Set(
                    svc.path.clone().join("metadata.annotations").key(k),
                    Json::from(v),
                )
            };
            let mut edits = Vec::new();
            let mut what = Vec::new();
            if controller == Controller::Lbc {
                let current = ann(LB_ATTRIBUTES).unwrap_or("");
                match attribute(current, CROSS_ZONE_ATTRIBUTE) {
                        None => {
                            edits.push(set(LB_ATTRIBUTES, with_attribute(current, CROSS_ZONE_ATTRIBUTE, "true")));
                            what.push(format!("{CROSS_ZONE_ATTRIBUTE}=true"));
                        }
                        Some("true") => {}
                        Some(v) => out.push(Finding::about(&Self::META, Severity::Warning, Some(doc), object.clone(), format!("the chart sets {CROSS_ZONE_ATTRIBUTE}={v}: each zone's traffic stays in that zone; left alone"))),
                    }
            } else {
                match ann(CROSS_ZONE) {
                        None => {
                            edits.push(set(CROSS_ZONE, "true".into()));
                            what.push("cross-zone load balancing".to_string());
                        }
                        Some("true") => {}
                        Some(v) => out.push(Finding::about(&Self::META, Severity::Warning, Some(doc), object.clone(), format!("the chart sets cross-zone load balancing to `{v}`: each zone's traffic stays in that zone; left alone"))),
                    }
            }
            let ns = cx.object_namespace(svc.json);
            let timeout = cx.workloads.iter().find_map(|(w, d)| {
                let t = d
                    .policy_key
                    .as_deref()
                    .and_then(|k| cx.policy.services.get(k))?
                    .load_balancer
                    .as_ref()?
                    .idle_timeout_seconds?;
                let same_ns = cx.namespace_of(w).as_deref() == ns;
                (same_ns && selects(&svc.spec, &w.pod_labels)).then_some((t, w.service.clone()))
            });
            if let Some((seconds, service)) = timeout {
                match controller {
                        Controller::Lbc => {
                            let ports = svc.spec.ports.iter().flatten();
                            for port in ports.filter(|p| p.protocol.as_deref().unwrap_or("TCP") == "TCP") {
                                let n = port.port;
                                let key = format!("{PREFIX}aws-load-balancer-listener-attributes.TCP-{n}");
                                let current = ann(&key).unwrap_or("");
                                if attribute(current, TCP_IDLE_ATTRIBUTE).is_none() {
                                    edits.push(set(&key, with_attribute(current, TCP_IDLE_ATTRIBUTE, &seconds.to_string())));
                                    what.push(format!("a {seconds} s idle timeout on TCP-{n} for `{service}`"));
                                }
                            }
                        }
                        Controller::Clb => {
                            if ann(CLB_IDLE_TIMEOUT).is_none() {
                                edits.push(set(CLB_IDLE_TIMEOUT, seconds.to_string()));
                                what.push(format!("a {seconds} s idle timeout for `{service}`"));
                            }
                        }
                        Controller::InTreeNlb => out.push(Finding::about(
                            &Self::META,
                            Severity::Warning,
                            Some(doc),
                            object.clone(),
                            format!("the policy asks for a {seconds} s idle timeout for `{service}`, but the in-tree NLB cannot set one (350 s); use the AWS Load Balancer Controller (aws-load-balancer-type: external)"),
                        )),
                    }
            }
            if !edits.is_empty() {
                let mut f = Finding::about(
                    &Self::META,
                    Severity::Warning,
                    Some(doc),
                    object,
                    format!("AWS load balancer: adds {}", what.join(", ")),
                );
                f.fix = Some(super::Fix::Edit { doc, edits });
                out.push(f);
            }
        }
        out
    }
}

/// Does the Service's selector pick the workload's pods? An empty selector manages no endpoints.
fn selects(svc: &ServiceSpec, pod_labels: &crate::yaml::Map<'_>) -> bool {
    let Some(selector) = svc.selector.as_ref().filter(|s| !s.is_empty()) else {
        return false;
    };
    selector
        .iter()
        .all(|(k, v)| pod_labels.get(k).and_then(Json::as_str) == Some(v))
}

/// The value of `key` in a `k1=v1,k2=v2` annotation.
fn attribute<'a>(list: &'a str, key: &str) -> Option<&'a str> {
    list.split(',')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
}

fn with_attribute(list: &str, key: &str, value: &str) -> String {
    let list = list.trim().trim_end_matches(',');
    if list.is_empty() {
        format!("{key}={value}")
    } else {
        format!("{list},{key}={value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn attribute_lists_merge() {
        assert_eq!(
            attribute(
                "a=1, load_balancing.cross_zone.enabled=false",
                CROSS_ZONE_ATTRIBUTE
            ),
            Some("false")
        );
        assert_eq!(attribute("", CROSS_ZONE_ATTRIBUTE), None);
        assert_eq!(with_attribute("", "k", "v"), "k=v");
        assert_eq!(with_attribute("a=1,", "k", "v"), "a=1,k=v");
    }

    #[test]
    fn service_selectors_are_subsets_of_pod_labels() {
        let labels = json!({"app": "live", "tier": "web"});
        let w = labels.as_object().unwrap();
        let spec = |v| crate::yaml::from_json::<ServiceSpec>(&crate::yaml::Json::from(v)).unwrap();
        assert!(selects(
            &spec(serde_json::json!({"selector": {"app": "live"}})),
            w
        ));
        assert!(!selects(
            &spec(serde_json::json!({"selector": {"app": "live", "x": "y"}})),
            w
        ));
        assert!(!selects(&spec(serde_json::json!({"selector": {}})), w));
        assert!(!selects(&spec(serde_json::json!({})), w));
    }
}
