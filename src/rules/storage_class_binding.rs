use super::{rule, Cx, Finding, Rule, Severity};
use crate::yaml::Json;

pub const DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";

rule! {
    /// HA206 storage-class-binding: volumes may bind in a zone before their pod is scheduled.
    ///
    /// ## What it does
    /// Reports every StorageClass in the stream (including one helm-ha generates) whose
    /// `volumeBindingMode` is not `WaitForFirstConsumer` (absent means `Immediate`), as a
    /// warning. When the stream has no StorageClass marked as the default
    /// (`storageclass.kubernetes.io/is-default-class: "true"`) with `WaitForFirstConsumer`, it
    /// lists the cluster's default class as a manual check (a note with no object), since the
    /// cluster's own classes are not in the manifest. It changes nothing.
    ///
    /// ## Why it matters
    /// With `Immediate` binding a zonal disk (EBS, PD, Azure Disk) is created in some zone as
    /// soon as the claim exists. If the pod then needs a node in another zone (spread
    /// constraints, a zone outage, Karpenter provisioning just in time), it cannot attach its
    /// volume and stays Pending.
    ///
    /// ## Example
    /// `kind: StorageClass`, `provisioner: ebs.csi.aws.com`, no `volumeBindingMode`.
    ///
    /// ## Fix
    /// `volumeBindingMode: WaitForFirstConsumer` (the field is immutable: create a new class and
    /// move claims to it), and make it the default class, or set the chart's storage class
    /// value (`env.storageClass` in the Plane chart) to it. Source: the Plane Commercial Edition: High Availability guide, "Cluster
    /// prerequisites" (2); go-live checklist ("Default StorageClass is WaitForFirstConsumer").
    pub struct StorageClassBinding("HA206", "storage-class-binding", "check only: a StorageClass that is not `WaitForFirstConsumer`; the cluster's default class as a manual item");
}

impl Rule for StorageClassBinding {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn stream(&self, cx: &Cx) -> Vec<Finding> {
        let mut out = Vec::new();
        let classes = cx
            .in_scope(&["StorageClass"])
            .into_iter()
            .map(|(doc, _, o)| (doc, o));
        let mut default_ok = false;
        for (doc, o) in classes {
            if o.get("kind").and_then(Json::as_str) != Some("StorageClass") {
                continue;
            }
            let name = o.at("metadata.name").and_then(Json::as_str).unwrap_or("");
            let mode = o
                .get("volumeBindingMode")
                .and_then(Json::as_str)
                .unwrap_or("Immediate");
            let is_default = o
                .at("metadata.annotations")
                .and_then(|a| a.get(DEFAULT_CLASS))
                .and_then(Json::as_str)
                == Some("true");
            if mode == "WaitForFirstConsumer" {
                default_ok |= is_default;
                continue;
            }
            let message = format!("StorageClass `{name}` binds volumes `{mode}`: a zonal disk is created before its pod is scheduled and can pin the pod to the wrong zone; use WaitForFirstConsumer");
            out.push(Finding {
                rule: &Self::META,
                severity: Severity::Warning,
                doc,
                object: format!("StorageClass/{name}"),
                service: None,
                message,
                fix: None,
            });
        }
        if !default_ok {
            let message = "manual: the cluster's default StorageClass must use `volumeBindingMode: WaitForFirstConsumer` (check with `kubectl get storageclass`), and the chart's storage class value must point at it".to_string();
            out.push(Finding {
                rule: &Self::META,
                severity: Severity::Info,
                doc: None,
                object: String::new(),
                service: None,
                message,
                fix: None,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{policy, run};
    use super::*;
    use crate::json;

    fn class(name: &str, mode: Option<&str>, default: bool) -> Json<'static> {
        let mut c = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name}, "provisioner": "ebs.csi.aws.com"});
        if let Some(m) = mode {
            c["volumeBindingMode"] = json!(m);
        }
        if default {
            c["metadata"]["annotations"] = json!({DEFAULT_CLASS: "true"});
        }
        c
    }

    #[test]
    fn immediate_binding_warns_and_the_default_class_is_a_manual_item() {
        let found = run(
            &[&StorageClassBinding],
            &policy(),
            vec![
                class("gp2", None, true),
                class("gp3", Some("WaitForFirstConsumer"), false),
            ],
        );
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].object.as_str(), found[0].severity, found[0].doc),
            ("StorageClass/gp2", Severity::Warning, Some(0))
        );
        assert_eq!(
            (found[1].object.as_str(), found[1].severity, found[1].doc),
            ("", Severity::Info, None)
        );
    }

    #[test]
    fn a_default_wait_for_first_consumer_class_settles_it() {
        assert_eq!(
            run(
                &[&StorageClassBinding],
                &policy(),
                vec![class("gp3", Some("WaitForFirstConsumer"), true)]
            ),
            vec![]
        );
    }
}
