//! What the stream tells about its workloads beyond their own objects: the claims they mount,
//! the autoscalers over them, the RBAC their ServiceAccounts hold, the ConfigMaps and Secrets
//! their settings come from, the Services in front of them. Read once per stream, before any
//! workload is classified; an object that does not read as its kind is left out.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Service};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};

use crate::rules::landing_namespace;
use crate::workload::{objects, HOOK_ANNOTATION};
use crate::yaml::{from_json, Json, Map};

/// A namespaced name; the namespace is where the object lands (its own, else the release's).
type Key = (Option<String>, String);

#[derive(Debug, Default)]
pub struct Facts {
    release_ns: Option<String>,
    /// Access modes of each PersistentVolumeClaim.
    claims: HashMap<Key, Vec<String>>,
    /// `(kind, name, namespace)` of each autoscaler's target → (`Kind/name` of the autoscaler,
    /// its minimum).
    autoscalers: HashMap<(String, Key), (String, u32)>,
    /// Rules granted to each ServiceAccount, with the binding that grants them.
    grants: HashMap<Key, Vec<(String, PolicyRule)>>,
    config_maps: HashMap<Key, BTreeMap<String, String>>,
    /// Secret data, decoded. Read to learn an app's storage settings; never printed.
    secrets: HashMap<Key, BTreeMap<String, String>>,
    /// Each Service's namespace, name and selector.
    services: Vec<(Option<String>, String, BTreeMap<String, String>)>,
}

impl Facts {
    /// The facts of every object of `values` (the stream's documents); objects without a
    /// namespace land in `release_ns`. Helm hooks are left out: they are not part of the running
    /// release.
    pub fn of(values: &[&Json<'_>], release_ns: Option<&str>) -> Facts {
        let mut facts = Facts {
            release_ns: release_ns.map(str::to_string),
            ..Facts::default()
        };
        let mut roles: HashMap<(Option<String>, String), Vec<PolicyRule>> = HashMap::new();
        let mut bindings = Vec::new();
        for o in values.iter().flat_map(|v| objects(v).map(|(_, o)| o)) {
            if o.at("metadata.annotations")
                .and_then(|a| a.get(HOOK_ANNOTATION))
                .is_some()
            {
                continue;
            }
            let kind = o.get("kind").and_then(Json::as_str).unwrap_or_default();
            let Some(name) = o.at("metadata.name").and_then(Json::as_str) else {
                continue;
            };
            let key = facts.key(o, name);
            match kind {
                "PersistentVolumeClaim" => {
                    if let Ok(c) = from_json::<PersistentVolumeClaim>(o) {
                        let modes = c.spec.and_then(|s| s.access_modes).unwrap_or_default();
                        facts.claims.insert(key, modes);
                    }
                }
                "HorizontalPodAutoscaler" => {
                    if let Ok(h) = from_json::<HorizontalPodAutoscaler>(o) {
                        let spec = h.spec.unwrap_or_default();
                        let target = spec.scale_target_ref;
                        let min = spec.min_replicas.unwrap_or(1).max(0) as u32;
                        let at = (key.0.clone(), target.name);
                        facts
                            .autoscalers
                            .insert((target.kind, at), (format!("{kind}/{name}"), min));
                    }
                }
                "ScaledObject" => {
                    let target = o.at("spec.scaleTargetRef");
                    let t_name = target.and_then(|t| t.get("name")).and_then(Json::as_str);
                    let t_kind = target
                        .and_then(|t| t.get("kind"))
                        .and_then(Json::as_str)
                        .unwrap_or("Deployment");
                    let min = o
                        .at("spec.minReplicaCount")
                        .and_then(Json::as_u64)
                        .unwrap_or(0);
                    if let Some(t_name) = t_name {
                        facts.autoscalers.insert(
                            (t_kind.to_string(), (key.0.clone(), t_name.to_string())),
                            (format!("{kind}/{name}"), min as u32),
                        );
                    }
                }
                "Role" => {
                    if let Ok(r) = from_json::<Role>(o) {
                        roles.insert(key, r.rules.unwrap_or_default());
                    }
                }
                "ClusterRole" => {
                    if let Ok(r) = from_json::<ClusterRole>(o) {
                        roles.insert((None, name.to_string()), r.rules.unwrap_or_default());
                    }
                }
                "RoleBinding" => {
                    if let Ok(b) = from_json::<RoleBinding>(o) {
                        let role_ns = (b.role_ref.kind == "Role").then(|| key.0.clone());
                        let role = (role_ns.flatten(), b.role_ref.name.clone());
                        bindings.push((
                            format!("RoleBinding/{name}"),
                            format!("{}/{}", b.role_ref.kind, b.role_ref.name),
                            role,
                            key.0.clone(),
                            b.subjects.unwrap_or_default(),
                        ));
                    }
                }
                "ClusterRoleBinding" => {
                    if let Ok(b) = from_json::<ClusterRoleBinding>(o) {
                        bindings.push((
                            format!("ClusterRoleBinding/{name}"),
                            format!("ClusterRole/{}", b.role_ref.name),
                            (None, b.role_ref.name.clone()),
                            None,
                            b.subjects.unwrap_or_default(),
                        ));
                    }
                }
                "ConfigMap" => {
                    if let Ok(c) = from_json::<ConfigMap>(o) {
                        facts
                            .config_maps
                            .insert(key, c.data.unwrap_or_default().into_iter().collect());
                    }
                }
                "Secret" => {
                    if let Ok(s) = from_json::<SecretData>(o) {
                        facts.secrets.insert(key, s.decoded());
                    }
                }
                "Service" => {
                    if let Ok(s) = from_json::<Service>(o) {
                        let selector = s.spec.and_then(|s| s.selector).unwrap_or_default();
                        if !selector.is_empty() {
                            facts.services.push((
                                key.0,
                                name.to_string(),
                                selector.into_iter().collect(),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        for (binding, role_name, role, binding_ns, subjects) in bindings {
            let Some(rules) = roles.get(&role) else {
                continue;
            };
            for s in subjects.iter().filter(|s| s.kind == "ServiceAccount") {
                let ns = s
                    .namespace
                    .clone()
                    .filter(|n| !n.is_empty())
                    .or_else(|| binding_ns.clone());
                let via = format!("{role_name} (bound by {binding})");
                facts
                    .grants
                    .entry((ns, s.name.clone()))
                    .or_default()
                    .extend(rules.iter().map(|r| (via.clone(), r.clone())));
            }
        }
        facts
    }

    fn key(&self, o: &Json<'_>, name: &str) -> Key {
        (
            self.landing(o.at("metadata.namespace").and_then(Json::as_str)),
            name.to_string(),
        )
    }

    /// The namespace an object with this own namespace lands in.
    pub fn landing(&self, own: Option<&str>) -> Option<String> {
        landing_namespace(own, self.release_ns.as_deref()).map(str::to_string)
    }

    /// Access modes of claim `name` in `ns`, when the stream holds it.
    pub fn claim_modes(&self, ns: &Option<String>, name: &str) -> Option<&[String]> {
        self.claims
            .get(&(ns.clone(), name.to_string()))
            .map(Vec::as_slice)
    }

    /// The autoscaler over workload `kind/name` in `ns`: its `Kind/name` and minimum.
    pub fn autoscaler(
        &self,
        kind: &str,
        ns: &Option<String>,
        name: &str,
    ) -> Option<&(String, u32)> {
        self.autoscalers
            .get(&(kind.to_string(), (ns.clone(), name.to_string())))
    }

    /// The first grant to ServiceAccount `account` in `ns` that `wanted` accepts: the rule, and
    /// where it comes from as "`Role/x` (bound by `RoleBinding/y`)".
    pub fn granted(
        &self,
        ns: &Option<String>,
        account: &str,
        wanted: impl Fn(&PolicyRule) -> bool,
    ) -> Option<(&str, &PolicyRule)> {
        self.grants
            .get(&(ns.clone(), account.to_string()))?
            .iter()
            .find(|(_, r)| wanted(r))
            .map(|(via, r)| (via.as_str(), r))
    }

    /// Value of `key` in ConfigMap `name` of `ns`.
    pub fn config_value(&self, ns: &Option<String>, name: &str, key: &str) -> Option<&str> {
        self.config_maps
            .get(&(ns.clone(), name.to_string()))?
            .get(key)
            .map(String::as_str)
    }

    /// Every entry of ConfigMap `name` (`secret: false`) or Secret `name` (`true`) in `ns`.
    pub fn files(
        &self,
        ns: &Option<String>,
        name: &str,
        secret: bool,
    ) -> Option<&BTreeMap<String, String>> {
        let key = (ns.clone(), name.to_string());
        if secret {
            self.secrets.get(&key)
        } else {
            self.config_maps.get(&key)
        }
    }

    /// The first Service of `ns` whose selector selects pods labelled `labels`.
    pub fn service_selecting(&self, ns: &Option<String>, labels: &Map<'_>) -> Option<&str> {
        self.services
            .iter()
            .find(|(s_ns, _, sel)| {
                s_ns == ns
                    && sel
                        .iter()
                        .all(|(k, v)| labels.get(k).and_then(Json::as_str) == Some(v.as_str()))
            })
            .map(|(_, name, _)| name.as_str())
    }
}

/// A Secret's data and stringData, read leniently: a value that is not base64 or not UTF-8 is
/// left out (the reader already refused Secrets the API server would).
#[derive(serde::Deserialize)]
struct SecretData {
    #[serde(default)]
    data: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, rename = "stringData")]
    string_data: Option<BTreeMap<String, Option<String>>>,
}

impl SecretData {
    fn decoded(self) -> BTreeMap<String, String> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let data = self
            .data
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| {
                let bytes: Vec<u8> = v?.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                Some((k, String::from_utf8(b64.decode(bytes).ok()?).ok()?))
            });
        let plain = self
            .string_data
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)));
        data.chain(plain).collect()
    }
}

/// Is `rule` a grant of `verbs`-like access to `resource` in `group` (wildcards count)?
pub fn grants(rule: &PolicyRule, group: &str, resource: &str, verbs: &[&str]) -> bool {
    let groups = rule.api_groups.as_deref().unwrap_or_default();
    let resources = rule.resources.as_deref().unwrap_or_default();
    groups.iter().any(|g| g == group || g == "*")
        && resources.iter().any(|r| r == resource || r == "*")
        && rule
            .verbs
            .iter()
            .any(|v| v == "*" || verbs.contains(&v.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    #[test]
    fn a_role_granting_leases_reaches_the_bound_account() {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "le"},
            "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"]}]});
        let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "le"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "le"},
            "subjects": [{"kind": "ServiceAccount", "name": "ctl", "namespace": "ns"}]});
        let facts = Facts::of(&[&role, &binding], Some("ns"));
        let leases = |r: &PolicyRule| grants(r, "coordination.k8s.io", "leases", &["update"]);
        assert_eq!(
            facts
                .granted(&Some("ns".into()), "ctl", leases)
                .map(|(via, _)| via),
            Some("Role/le (bound by RoleBinding/le)")
        );
        assert_eq!(facts.granted(&Some("ns".into()), "other", leases), None);
    }

    #[test]
    fn secret_data_is_decoded_and_null_data_is_no_data() {
        let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"config.yaml": "c3RvcmFnZTogbWVtb3J5"}, "stringData": {"b": "plain"}});
        let empty =
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "e"}, "data": null});
        let facts = Facts::of(&[&s, &empty], None);
        let files = facts.files(&None, "s", true).unwrap();
        assert_eq!(files["config.yaml"], "storage: memory");
        assert_eq!(files["b"], "plain");
        assert!(facts.files(&None, "e", true).unwrap().is_empty());
    }
}
