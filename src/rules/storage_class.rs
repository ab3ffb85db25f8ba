use super::{generated_labels, rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::json;
use crate::policy::{dns_subdomain, Problem};
use crate::workload::{Kind, Workload};
use crate::yaml::{Edit, Json, Path};
use k8s_openapi::api::storage::v1::StorageClass as K8sStorageClass;
use serde::{Deserialize, Serialize};

rule! {
    /// HA110 storage-class: zonal volumes without a class that waits for the pod.
    ///
    /// ## What it does
    /// When the policy sets `storageClass`, adds one `storage.k8s.io/v1` StorageClass per stream
    /// (never a second one when the stream already has a StorageClass of that name), from a
    /// preset, always with `volumeBindingMode: WaitForFirstConsumer`, `reclaimPolicy: Retain`
    /// and `allowVolumeExpansion: true`, and `storageclass.kubernetes.io/is-default-class:
    /// "true"` when `default: true`. Rendered from the `storageclass.yaml` template.
    /// - `aws-ebs-gp3` / `aws-ebs-gp2`: `ebs.csi.aws.com`, `type: gp3|gp2`,
    ///   `csi.storage.k8s.io/fstype: ext4` (the driver's documented name for the guide's
    ///   `fsType`), `encrypted: "true"`;
    /// - `gce-pd`: `pd.csi.storage.gke.io`, `type: pd-balanced`;
    /// - `azure-disk`: `disk.csi.azure.com`, `skuName: StandardSSD_ZRS` (zone-redundant: the
    ///   disk survives a zone loss);
    /// - an empty preset emits nothing and uses an existing class called `name`.
    ///
    /// A StorageClass is cluster-scoped: two releases that both emit the same class fight over
    /// it in Helm. Let one release (or the cluster's setup) own it and give the others an empty
    /// preset.
    ///
    /// With `assignToClaims: true`, PersistentVolumeClaims and StatefulSet volumeClaimTemplates
    /// that name no class (`storageClassName` absent or null) get `storageClassName: <name>`.
    /// `storageClassName: ""` is different: Kubernetes reads it as "no class: bind only a
    /// pre-provisioned volume", and the default class is never applied to it. helm-ha keeps it
    /// and says so, unless the policy also sets `assignToEmptyClass: true` (for charts that
    /// render `""` when a value is merely unset). Hooks and excluded services are left alone.
    ///
    /// Kubernetes does not let an existing StatefulSet's volumeClaimTemplates change, and a bound
    /// claim keeps its class: turn `assignToClaims` on for a new install, or delete the
    /// StatefulSet with `--cascade=orphan` before the upgrade.
    ///
    /// ## Why it matters
    /// With `Immediate` binding a zonal disk is created in some zone before the pod is scheduled;
    /// the pod can then only run in that zone and stays Pending when it has no node there ("volume
    /// node affinity conflict"), which is exactly what just-in-time nodes (Karpenter) run into.
    /// `Retain` keeps the data when a claim is deleted by mistake.
    ///
    /// ## Example
    /// `storageClass: {preset: aws-ebs-gp3, name: gp3, assignToClaims: true}`.
    ///
    /// ## Fix
    /// The StorageClass above; `storageClassName` on claims. Source: the Plane Commercial Edition: High Availability guide, "Cluster
    /// prerequisites"; aws-samples/eks-workshop#1135 ("volume node affinity conflict").
    pub struct StorageClass("HA110", "storage-class", r#"a `WaitForFirstConsumer`/`Retain` StorageClass from a preset; optionally points class-less claims at it (`""` is kept: it means static binding)"#);
}

/// The policy's `storageClass`: the class this rule adds and the claims it points at it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Settings {
    /// `aws-ebs-gp3`, `aws-ebs-gp2`, `gce-pd`, `azure-disk`; empty: emit nothing and only point
    /// claims at the existing class `name`.
    pub preset: String,
    pub name: String,
    /// Mark it the cluster's default class.
    pub default: bool,
    /// Point volumeClaimTemplates and PVCs with no class (field absent or null) at it.
    pub assign_to_claims: bool,
    /// Also replace `storageClassName: ""`, which Kubernetes reads as "no class: bind a
    /// pre-provisioned volume only". Off by default.
    pub assign_to_empty_class: bool,
}

/// A storage preset: name, provisioner, parameters.
pub type Preset = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

pub const PRESETS: &[Preset] = &[
    (
        "aws-ebs-gp3",
        "ebs.csi.aws.com",
        &[
            ("type", "gp3"),
            ("csi.storage.k8s.io/fstype", "ext4"),
            ("encrypted", "true"),
        ],
    ),
    (
        "aws-ebs-gp2",
        "ebs.csi.aws.com",
        &[
            ("type", "gp2"),
            ("csi.storage.k8s.io/fstype", "ext4"),
            ("encrypted", "true"),
        ],
    ),
    (
        "gce-pd",
        "pd.csi.storage.gke.io",
        &[
            ("type", "pd-balanced"),
            ("csi.storage.k8s.io/fstype", "ext4"),
        ],
    ),
    (
        "azure-disk",
        "disk.csi.azure.com",
        &[("skuName", "StandardSSD_ZRS")],
    ),
];

impl Settings {
    pub(crate) fn check(&self) -> Result<(), Problem> {
        if !dns_subdomain(&self.name) {
            return Err(Problem::new(
                "storageClass.name",
                format!("`{}` is not a valid object name", self.name),
                "use lower-case letters, digits, `-` and `.`",
            ));
        }
        let presets: Vec<&str> = PRESETS.iter().map(|(n, _, _)| *n).collect();
        if !self.preset.is_empty() && !presets.contains(&self.preset.as_str()) {
            return Err(Problem::new(
                "storageClass.preset",
                format!("unknown preset `{}`", self.preset),
                format!(
                    "use one of {} (or leave it empty to use an existing class)",
                    presets.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

impl Rule for StorageClass {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, _: &Decision) -> Vec<Finding> {
        let Some(sc) = cx
            .policy
            .storage_class
            .as_ref()
            .filter(|sc| sc.assign_to_claims)
        else {
            return Vec::new();
        };
        if w.kind != Kind::StatefulSet {
            return Vec::new();
        }
        claim_findings(sc, w.doc, &w.base, template_claims(cx.obj(w)))
    }

    fn stream(&self, cx: &Cx) -> Vec<Finding> {
        let Some(sc) = &cx.policy.storage_class else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some((_, provisioner, params)) = PRESETS.iter().find(|(n, _, _)| *n == sc.preset) {
            if !cx.exists("StorageClass", None, &sc.name) {
                let parameters: crate::yaml::Map =
                    params.iter().map(|(k, v)| (*k, Json::from(*v))).collect();
                let ctx = json!({"name": sc.name, "labels": generated_labels(None), "default": sc.default, "provisioner": provisioner, "parameters": parameters});
                let Some(new) = cx.render::<K8sStorageClass>("storageclass.yaml", &ctx, 0) else {
                    return out;
                };
                let msg = format!(
                    "adds StorageClass {} ({provisioner}, WaitForFirstConsumer, Retain{})",
                    sc.name,
                    if sc.default { ", cluster default" } else { "" }
                );
                out.push(
                    Finding::about(
                        &Self::META,
                        Severity::Info,
                        None,
                        format!("StorageClass/{}", sc.name),
                        msg,
                    )
                    .adding(new),
                );
            }
        }
        if !sc.assign_to_claims {
            return out;
        }
        for (doc, base, o) in cx.in_scope(&["PersistentVolumeClaim", "StatefulSet"]) {
            let Some(doc) = doc else { continue };
            let claims = match o.get("kind").and_then(Json::as_str) {
                Some("PersistentVolumeClaim") => {
                    let name = o.at("metadata.name").and_then(Json::as_str).unwrap_or("?");
                    vec![(
                        Path::dotted("spec"),
                        o.get("spec").unwrap_or(&NULL),
                        format!("PersistentVolumeClaim/{name}"),
                    )]
                }
                // A StatefulSet that is a workload is the workload part's.
                Some("StatefulSet")
                    if Kind::parse(
                        o.get("apiVersion").and_then(Json::as_str).unwrap_or(""),
                        "StatefulSet",
                    )
                    .is_none() =>
                {
                    template_claims(o)
                }
                _ => Vec::new(),
            };
            out.extend(claim_findings(sc, doc, &base, claims));
        }
        out
    }
}

static NULL: Json<'static> = Json::Null;

/// The claims of a StatefulSet's `volumeClaimTemplates`: path of each one's spec (relative to
/// the object), the spec, and how to name it.
fn template_claims<'o>(o: &'o Json<'_>) -> Vec<(Path, &'o Json<'o>, String)> {
    let name = o.at("metadata.name").and_then(Json::as_str).unwrap_or("?");
    let templates = o
        .at("spec.volumeClaimTemplates")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .enumerate();
    templates
        .map(|(i, t)| {
            let claim = t.at("metadata.name").and_then(Json::as_str).unwrap_or("?");
            let path = Path::dotted("spec.volumeClaimTemplates")
                .index(i)
                .join("spec");
            (
                path,
                t.get("spec").unwrap_or(&NULL),
                format!("StatefulSet/{name} volumeClaimTemplate {claim}"),
            )
        })
        .collect()
}

/// What to do about each claim (spec at `rel` under the object at `base` of document `doc`).
fn claim_findings(
    sc: &Settings,
    doc: usize,
    base: &Path,
    claims: Vec<(Path, &Json<'_>, String)>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (rel, spec, what) in claims {
        let object = what.split(' ').next().unwrap_or_default().to_string();
        let path = base.clone().then(&rel).join("storageClassName");
        match spec.get("storageClassName") {
            None | Some(Json::Null) => {
                let f = Finding::about(
                    &StorageClass::META,
                    Severity::Warning,
                    Some(doc),
                    object,
                    format!("{what} names no storage class: points it at {}", sc.name),
                );
                out.push(with_edit(f, doc, path, &sc.name));
            }
            Some(Json::String(s)) if s.is_empty() => {
                if sc.assign_to_empty_class {
                    let f = Finding::about(&StorageClass::META, Severity::Warning, Some(doc), object, format!("{what} has storageClassName \"\" (no class); assignToEmptyClass: points it at {}", sc.name));
                    out.push(with_edit(f, doc, path, &sc.name));
                } else {
                    out.push(Finding::about(&StorageClass::META, Severity::Info, Some(doc), object, format!("{what} has storageClassName \"\": Kubernetes binds it only to a pre-provisioned volume; left alone (set assignToEmptyClass: true if the chart means \"unset\")")));
                }
            }
            _ => {}
        }
    }
    out
}

fn with_edit(mut f: Finding, doc: usize, path: Path, name: &str) -> Finding {
    f.fix = Some(super::Fix::Edit {
        doc,
        edits: vec![Edit::Set(path, Json::from(name))],
    });
    f
}
