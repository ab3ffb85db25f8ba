//! The templates every generated object is rendered from.
//!
//! Each emitted kind has a minijinja template in `templates/` (embedded in the binary); `--templates
//! DIR` replaces a built-in with the file of the same name in DIR. Template names end in `.yaml`,
//! so minijinja JSON-escapes every interpolated value: a string always comes out quoted (`"on"`,
//! `"0755"` stay strings under YAML 1.1) and a map or list comes out as JSON, which is valid flow
//! YAML. Only whole values may be interpolated (`{{ name }}-x` renders `"web"-x`, which is not
//! YAML); structured values go through `tojson`.
//!
//! A rendered template is parsed the way Kubernetes reads it and checked against the object's
//! type before it joins the stream: the k8s-openapi type for built-in kinds (deserialised, then
//! serialised again and compared with the parsed value, so a misspelt or unknown field is caught
//! too), or our own structs with `deny_unknown_fields` for the Karpenter kinds. A broken user
//! template fails the run with the template's name and what is wrong; it never reaches a cluster.

use crate::error::{Cause, Failure, TemplateError};
use crate::yaml::{self, Json};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The built-in templates: every file of `templates/`, named by its file name. A rule that
/// emits a new kind adds its template there and nothing here.
static BUILTIN: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/templates");

/// A built-in template's source, by name.
fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.get_file(name)?.contents_utf8()
}

/// The built-in templates' names, sorted.
fn builtin_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = BUILTIN.files().filter_map(|f| f.path().to_str()).collect();
    names.sort_unstable();
    names
}

/// The origin of a template no `--templates DIR` replaced.
const BUILT_IN: &str = "built-in";

/// The template set of a run: the built-ins, some replaced by files from `--templates DIR`.
pub struct Templates {
    env: minijinja::Environment<'static>,
    /// The path of each template a file replaced, for messages (the others are built-in).
    origins: Vec<(String, String)>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::load(None).expect("without a directory there is nothing to read")
    }
}

impl Templates {
    /// The built-ins, with every `*.yaml` file of `dir` replacing the built-in of the same name.
    /// A `*.yaml` file that replaces no built-in is refused (a misspelt name would silently do
    /// nothing); other files are ignored.
    pub fn load(dir: Option<&Path>) -> Result<Templates, Failure> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        // A built-in is compiled when first rendered (a chart needs two or three of the five, and
        // compiling them all was a tenth of a small run's start); a user's template is compiled
        // here, so that a broken one fails the run before any input is read.
        env.set_loader(|name| Ok(builtin(name).map(str::to_string)));
        // Templates added to the environment come before the loader's.
        let mut origins = Vec::new();
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                Failure::io(
                    format!("--templates {}: cannot read the directory", dir.display()),
                    e,
                )
            })?;
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for path in files {
                let Some(name) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .map(str::to_string)
                    .filter(|n| n.ends_with(".yaml"))
                else {
                    continue;
                };
                if builtin(&name).is_none() {
                    return Err(Failure::Usage(format!(
                        "--templates {}: `{name}` replaces no built-in template (known: {})",
                        dir.display(),
                        builtin_names().join(", ")
                    )));
                }
                let source = std::fs::read_to_string(&path).map_err(|e| {
                    Failure::io(format!("template {}: cannot read it", path.display()), e)
                })?;
                let origin = path.display().to_string();
                env.add_template_owned(name.clone(), source)
                    .map_err(|e| template_failure(&origin, &name, describe(&e), Some(e.into())))?;
                origins.push((name, origin));
            }
        }
        Ok(Templates { env, origins })
    }

    fn origin(&self, name: &str) -> &str {
        self.origins
            .iter()
            .find(|(n, _)| n == name)
            .map_or(BUILT_IN, |(_, o)| o.as_str())
    }

    /// Render template `name` with `ctx`, parse the result and check it as a `T`. Returns what
    /// the document means; the writer emits that value, not the template's text, which
    /// minijinja's auto-escaping JSON-quotes: the YAML-1.1-safe emitter gives the plain block
    /// style people review in diffs, and the same bytes whatever spacing a user's template uses.
    pub fn render<T: DeserializeOwned + Serialize>(
        &self,
        name: &str,
        ctx: &Json<'_>,
    ) -> Result<Json<'static>, Failure> {
        let fail = |what: String, source: Option<Cause>| {
            template_failure(self.origin(name), name, what, source)
        };
        let template = self
            .env
            .get_template(name)
            .map_err(|e| fail(describe(&e), Some(e.into())))?;
        let mut text = template
            .render(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .map_err(|e| fail(describe(&e), Some(e.into())))?;
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        text.push('\n');
        let text = text.trim_start_matches('\n').to_string();
        let parsed = yaml::parse_value(&text).map_err(|e| {
            let what = format!(
                "the result is not valid YAML (line {}, column {}): {}",
                e.line, e.col, e.message
            );
            fail(what, Some(e.into()))
        })?;
        if let Some(d) = parsed.duplicates.first() {
            return Err(fail(
                format!(
                    "the result has the key `{}` twice (lines {} and {})",
                    d.path, d.first_line, d.line
                ),
                None,
            ));
        }
        check::<T>(&parsed.value).map_err(|e| fail(e.to_string(), Some(e.into())))?;
        Ok(parsed.value.into_owned())
    }
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    if let Some(line) = e.line() {
        if !s.contains("line") {
            s.push_str(&format!(" (line {line})"));
        }
    }
    s
}

fn template_failure(origin: &str, name: &str, what: String, source: Option<Cause>) -> Failure {
    Failure::Template(TemplateError {
        name: name.to_string(),
        file: (origin != BUILT_IN).then(|| origin.to_string()),
        what,
        source,
    })
}

/// Why a rendered object is not its kind's type, as `check` found it.
#[derive(Debug)]
pub enum Mismatch {
    NotOneObject,
    /// The type does not read it (unknown field, wrong type, wrong `apiVersion`/`kind`).
    Unreadable(serde_json::Error),
    /// The type read it and cannot write it back.
    Unwritable(serde_json::Error),
    /// What the type kept differs at `path` (`(the object)` for the object itself): a field
    /// the type drops, or a value it stores differently.
    Changed {
        path: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::NotOneObject => write!(f, "the result is not one object"),
            Mismatch::Unreadable(e) => write!(f, "not a valid object: {e}"),
            Mismatch::Unwritable(e) => write!(f, "cannot serialise it: {e}"),
            Mismatch::Changed { path } => write!(
                f,
                "`{path}` is not a field of this kind, or its value is not what the API would store"
            ),
        }
    }
}

impl std::error::Error for Mismatch {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Mismatch::Unreadable(e) | Mismatch::Unwritable(e) => Some(e),
            Mismatch::NotOneObject | Mismatch::Changed { .. } => None,
        }
    }
}

/// Does `value` read as a `T`, with nothing lost or changed on the way (unknown fields,
/// nulls, wrong types)?
pub fn check<T: DeserializeOwned + Serialize>(value: &Json<'_>) -> Result<(), Mismatch> {
    if !value.is_object() {
        return Err(Mismatch::NotOneObject);
    }
    let typed: T = yaml::from_json(value).map_err(Mismatch::Unreadable)?;
    let back = serde_json::to_value(&typed).map_err(Mismatch::Unwritable)?;
    match difference(value, &back) {
        None => Ok(()),
        Some(path) if path.is_empty() => Err(Mismatch::Changed {
            path: "(the object)".into(),
        }),
        Some(path) => Err(Mismatch::Changed { path }),
    }
}

/// The first path where `a` (what the template says) differs from `b` (what the type kept),
/// `""` for the values themselves. The path is spelled out only once a difference is found:
/// every generated object is checked.
fn difference(a: &Json<'_>, b: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Json::Object(x), Value::Object(y)) => x
            .iter()
            .find_map(|(k, v)| match y.get(k.as_str()) {
                Some(w) => difference(v, w).map(|below| under(k.to_string(), below)),
                None => Some(k.to_string()),
            })
            .or_else(|| y.keys().find(|k| x.get(k.as_str()).is_none()).cloned()),
        (Json::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (v, w))| {
                difference(v, w).map(|below| under(format!("[{i}]"), below))
            })
        }
        _ if a == b => None,
        _ => Some(String::new()),
    }
}

/// `step` followed by the path below it: `spec` + `y[1].z` → `spec.y[1].z`.
fn under(step: String, below: String) -> String {
    if below.is_empty() || below.starts_with('[') {
        step + &below
    } else {
        step + "." + &below
    }
}

/// Karpenter's kinds: our own structs, strict, after the v1 CRDs (aws/karpenter-provider-aws
/// v1.14). Fields helm-ha's templates never write are kept loosely typed (`Json`) but must still
/// be fields the CRD knows. `skip_serializing_none` leaves a missing optional field out when
/// `check` writes the object back, as serde reads it as `None`; a field the template sets to
/// `null` is left out as well, so `check` names it instead of passing it on.
pub mod karpenter {
    use serde::{Deserialize, Serialize};
    use serde_json::Value as Json;
    use serde_with::skip_serializing_none;
    use std::collections::BTreeMap;

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Metadata {
        pub name: String,
        pub labels: Option<BTreeMap<String, String>>,
        pub annotations: Option<BTreeMap<String, String>>,
    }

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct NodePool {
        pub api_version: ApiNodePool,
        pub kind: KindNodePool,
        pub metadata: Metadata,
        pub spec: NodePoolSpec,
    }

    #[derive(Debug, Deserialize, Serialize)]
    pub enum ApiNodePool {
        #[serde(rename = "karpenter.sh/v1")]
        V1,
    }

    #[derive(Debug, Deserialize, Serialize)]
    pub enum KindNodePool {
        NodePool,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct NodePoolSpec {
        pub template: NodeClaimTemplate,
        pub disruption: Option<Disruption>,
        pub limits: Option<BTreeMap<String, Json>>,
        pub weight: Option<i32>,
        pub replicas: Option<i64>,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct NodeClaimTemplate {
        pub metadata: Option<TemplateMetadata>,
        pub spec: NodeClaimSpec,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct TemplateMetadata {
        pub labels: Option<BTreeMap<String, String>>,
        pub annotations: Option<BTreeMap<String, String>>,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct NodeClaimSpec {
        pub node_class_ref: NodeClassRef,
        pub requirements: Vec<Requirement>,
        pub taints: Option<Vec<Taint>>,
        pub startup_taints: Option<Vec<Taint>>,
        pub expire_after: Option<String>,
        pub termination_grace_period: Option<String>,
    }

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct NodeClassRef {
        pub group: String,
        pub kind: String,
        pub name: String,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Requirement {
        pub key: String,
        pub operator: String,
        pub values: Option<Vec<String>>,
        pub min_values: Option<i64>,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Taint {
        pub key: String,
        pub value: Option<String>,
        pub effect: String,
        pub time_added: Option<String>,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Disruption {
        pub consolidation_policy: Option<String>,
        pub consolidate_after: Option<String>,
        pub budgets: Option<Vec<Json>>,
    }

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct EC2NodeClass {
        pub api_version: ApiEC2NodeClass,
        pub kind: KindEC2NodeClass,
        pub metadata: Metadata,
        pub spec: EC2NodeClassSpec,
    }

    #[derive(Debug, Deserialize, Serialize)]
    pub enum ApiEC2NodeClass {
        #[serde(rename = "karpenter.k8s.aws/v1")]
        V1,
    }

    #[derive(Debug, Deserialize, Serialize)]
    pub enum KindEC2NodeClass {
        EC2NodeClass,
    }

    /// Every field of the v1 CRD; the ones helm-ha writes are typed.
    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct EC2NodeClassSpec {
        pub ami_family: Option<String>,
        pub ami_selector_terms: Vec<Json>,
        pub role: Option<String>,
        pub instance_profile: Option<String>,
        pub subnet_selector_terms: Vec<Json>,
        pub security_group_selector_terms: Vec<Json>,
        pub block_device_mappings: Option<Vec<BlockDeviceMapping>>,
        pub metadata_options: Option<MetadataOptions>,
        pub tags: Option<BTreeMap<String, String>>,
        pub user_data: Option<String>,
        pub kubelet: Option<Json>,
        pub associate_public_ip_address: Option<bool>,
        pub detailed_monitoring: Option<bool>,
        pub instance_store_policy: Option<String>,
        pub capacity_reservation_selector_terms: Option<Vec<Json>>,
        pub connection_tracking: Option<Json>,
        pub context: Option<String>,
        pub cpu_options: Option<Json>,
        pub ip_prefix_count: Option<Json>,
        pub network_interfaces: Option<Vec<Json>>,
        pub placement_group_selector: Option<Json>,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct BlockDeviceMapping {
        pub device_name: Option<String>,
        pub root_volume: Option<bool>,
        pub ebs: Option<Ebs>,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Ebs {
        pub volume_type: Option<String>,
        pub volume_size: Option<String>,
        pub encrypted: Option<bool>,
        pub delete_on_termination: Option<bool>,
        pub iops: Option<i64>,
        pub throughput: Option<i64>,
        #[serde(rename = "kmsKeyID")]
        pub kms_key_id: Option<String>,
        #[serde(rename = "snapshotID")]
        pub snapshot_id: Option<String>,
        pub volume_initialization_rate: Option<i64>,
    }

    #[skip_serializing_none]
    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct MetadataOptions {
        pub http_endpoint: Option<String>,
        #[serde(rename = "httpProtocolIPv6")]
        pub http_protocol_ipv6: Option<String>,
        pub http_put_response_hop_limit: Option<i64>,
        pub http_tokens: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn difference_names_the_first_unknown_field() {
        let a = json!({"spec": {"x": 1, "y": [1, {"z": 2}]}});
        let said = Json::from(a.clone());
        assert_eq!(difference(&said, &a), None);
        let b = json!({"spec": {"x": 1, "y": [1, {}]}});
        assert_eq!(difference(&said, &b).as_deref(), Some("spec.y[1].z"));
        let c = json!({"spec": {"x": "1", "y": [1, {"z": 2}]}});
        assert_eq!(difference(&said, &c).as_deref(), Some("spec.x"));
        let d = json!({"spec": {"x": 1, "y": [1, {"z": 2}], "w": true}});
        assert_eq!(difference(&said, &d).as_deref(), Some("spec.w"));
    }

    #[test]
    fn typed_check_catches_unknown_fields_and_wrong_types() {
        use k8s_openapi::api::policy::v1::PodDisruptionBudget;
        let good = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "a"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"a": "b"}}}});
        assert!(check::<PodDisruptionBudget>(&Json::from(good.clone())).is_ok());
        let mut typo = good.clone();
        typo["spec"]["maxUnavailabel"] = json!(1);
        assert!(check::<PodDisruptionBudget>(&Json::from(typo.clone()))
            .unwrap_err()
            .to_string()
            .contains("spec.maxUnavailabel"));
        let mut kind = good.clone();
        kind["apiVersion"] = json!("policy/v1beta1");
        let wrong = check::<PodDisruptionBudget>(&Json::from(kind.clone())).unwrap_err();
        assert!(wrong.to_string().starts_with("not a valid object: "));
        let source = std::error::Error::source(&wrong).expect("serde's error");
        assert!(source.is::<serde_json::Error>());
        assert!(wrong.to_string().ends_with(&source.to_string()));
        let nodepool = json!({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "a"}, "spec": {"template": {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "d"}, "requirements": [], "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}}}});
        assert!(check::<karpenter::NodePool>(&Json::from(nodepool.clone())).is_ok());
        let mut bad = nodepool.clone();
        bad["spec"]["template"]["spec"]["taint"] = json!([]);
        assert!(check::<karpenter::NodePool>(&Json::from(bad.clone()))
            .unwrap_err()
            .to_string()
            .contains("taint"));
        let mut nulled = nodepool.clone();
        nulled["spec"]["weight"] = json!(null);
        assert!(check::<karpenter::NodePool>(&Json::from(nulled.clone()))
            .unwrap_err()
            .to_string()
            .contains("`spec.weight`"));
    }

    #[test]
    fn an_override_that_replaces_nothing_is_refused() {
        let dir = std::env::temp_dir().join(format!("helm-ha-templates-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("pbd.yaml"), "x").unwrap();
        let err = Templates::load(Some(&dir)).err().unwrap().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("`pbd.yaml` replaces no built-in"), "{err}");
    }

    #[test]
    fn every_built_in_compiles_and_a_replaced_one_is_not_the_built_in() {
        let builtins = Templates::load(None).unwrap();
        let names = builtin_names();
        assert_eq!(
            names,
            [
                "ec2nodeclass.yaml",
                "hpa.yaml",
                "nodepool.yaml",
                "pdb.yaml",
                "storageclass.yaml"
            ]
        );
        for name in names {
            builtins
                .env
                .get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(builtins.origin(name), BUILT_IN);
        }
        let dir =
            std::env::temp_dir().join(format!("helm-ha-templates-replaced-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hpa.yaml"), "replaced: {{ 1 }}").unwrap();
        let replaced = Templates::load(Some(&dir)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            replaced
                .env
                .get_template("hpa.yaml")
                .unwrap()
                .render(())
                .unwrap(),
            "replaced: 1"
        );
        assert!(
            replaced.origin("hpa.yaml").ends_with("hpa.yaml")
                && replaced.origin("hpa.yaml") != BUILT_IN
        );
        assert_eq!(replaced.origin("pdb.yaml"), BUILT_IN);
    }

    #[test]
    fn a_syntax_error_names_the_template() {
        let dir =
            std::env::temp_dir().join(format!("helm-ha-templates-syntax-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hpa.yaml"), "a: {{ x ").unwrap();
        let err = Templates::load(Some(&dir)).err().unwrap().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("template `hpa.yaml`") && err.contains("hpa.yaml or remove it"),
            "{err}"
        );
    }

    #[test]
    fn a_result_its_type_cannot_read_keeps_the_readers_error_as_the_source() {
        use k8s_openapi::api::policy::v1::PodDisruptionBudget;
        use std::error::Error as _;
        let dir =
            std::env::temp_dir().join(format!("helm-ha-templates-type-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: a}\n";
        std::fs::write(dir.join("pdb.yaml"), old).unwrap();
        let templates = Templates::load(Some(&dir)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let failure = templates
            .render::<PodDisruptionBudget>("pdb.yaml", &Json::Null)
            .unwrap_err();
        let template = failure.source().expect("the template's error");
        let mismatch = template.source().expect("the check's error");
        assert!(mismatch.is::<Mismatch>());
        let reader = mismatch.source().expect("serde's error");
        assert!(reader.is::<serde_json::Error>());
        assert!(
            failure
                .to_string()
                .contains(&format!("not a valid object: {reader}; fix ")),
            "{failure}"
        );
    }
}
