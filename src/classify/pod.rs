//! Reading a pod template as its containers will see it: command lines, and environment
//! variables with the values Kubernetes will give them (literal, or from a ConfigMap or Secret
//! of the stream).

use super::facts::Facts;
use crate::yaml::Json;

/// One environment variable of a container.
pub struct Env {
    pub name: String,
    /// Its value, when the stream decides it.
    pub value: Option<String>,
    /// Where the value comes from, for messages: `env NAME=value` or
    /// `env NAME (ConfigMap x, key k = value)`.
    pub shown: String,
}

/// A workload's pod spec and where its settings resolve.
pub struct Pod<'v, 'a> {
    pub spec: &'v Json<'a>,
    pub namespace: Option<String>,
}

impl<'v, 'a> Pod<'v, 'a> {
    /// Long-running containers only: what the pod does while it runs.
    pub fn main_containers(&self) -> impl Iterator<Item = &'v Json<'a>> {
        self.spec
            .get("containers")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
    }

    /// Every word of every container's command and arguments.
    pub fn words(&self) -> impl Iterator<Item = &'v str> {
        self.main_containers().flat_map(words)
    }

    pub fn images(&self) -> impl Iterator<Item = &'v str> {
        self.main_containers()
            .filter_map(|c| c.get("image").and_then(Json::as_str))
    }

    /// The ServiceAccount its pods run as.
    pub fn service_account(&self) -> &'v str {
        ["serviceAccountName", "serviceAccount"]
            .iter()
            .find_map(|k| self.spec.get(*k).and_then(Json::as_str))
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
    }

    /// Every environment variable of the long-running containers, resolved against `facts`.
    pub fn env(&self, facts: &Facts) -> Vec<Env> {
        let mut out = Vec::new();
        for c in self.main_containers() {
            for from in c
                .get("envFrom")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let Some(cm) = from.at("configMapRef.name").and_then(Json::as_str) else {
                    continue;
                };
                let prefix = from.get("prefix").and_then(Json::as_str).unwrap_or("");
                for (k, v) in facts
                    .files(&self.namespace, cm, false)
                    .into_iter()
                    .flatten()
                {
                    out.push(Env {
                        name: format!("{prefix}{k}"),
                        value: Some(v.clone()),
                        shown: format!("env {prefix}{k} (ConfigMap {cm}) = {v}"),
                    });
                }
            }
            for e in c.get("env").and_then(Json::as_array).into_iter().flatten() {
                let Some(name) = e.get("name").and_then(Json::as_str) else {
                    continue;
                };
                let (value, shown) = if let Some(v) = e.get("value").and_then(scalar) {
                    (Some(v.clone()), format!("env {name}={v}"))
                } else if let Some(r) = e.at("valueFrom.configMapKeyRef") {
                    let cm = r.get("name").and_then(Json::as_str).unwrap_or("");
                    let key = r.get("key").and_then(Json::as_str).unwrap_or("");
                    match facts.files(&self.namespace, cm, false) {
                        Some(data) => {
                            let v = data.get(key).cloned();
                            let is = v.as_deref().unwrap_or("absent (unset)");
                            (
                                v.clone(),
                                format!("env {name} from ConfigMap {cm} key `{key}`: {is}"),
                            )
                        }
                        None => (
                            None,
                            format!("env {name} from ConfigMap {cm}, not in the stream"),
                        ),
                    }
                } else {
                    (None, format!("env {name}"))
                };
                out.push(Env {
                    name: name.to_string(),
                    value,
                    shown,
                });
            }
        }
        out
    }
}

/// A container's command and arguments, word by word.
pub fn words<'v>(container: &'v Json<'_>) -> impl Iterator<Item = &'v str> {
    ["command", "args"]
        .into_iter()
        .filter_map(|k| container.get(k).and_then(Json::as_array))
        .flatten()
        .filter_map(Json::as_str)
}

/// A YAML scalar as the string a container sees.
fn scalar(v: &Json<'_>) -> Option<String> {
    match v {
        Json::String(s) => Some(s.as_str().to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `--flag=value` or `--flag` (true) for one of `flags` (`-flag` spellings too). `Some(false)`
/// for an explicit `=false`.
pub fn flag<'w>(word: &'w str, flags: &[String]) -> Option<(&'w str, bool)> {
    let (name, value) = word.split_once('=').unwrap_or((word, "true"));
    let bare = name.trim_start_matches('-');
    flags
        .iter()
        .any(|f| f.trim_start_matches('-') == bare)
        .then(|| (word, !value.eq_ignore_ascii_case("false")))
}

/// `true`, `yes`, `1`, `on` (any case).
pub fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "1" | "on"
    )
}

/// `docker.io/bitnami/postgresql:16` → `postgresql`.
pub fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

/// `registry.k8s.io/ingress-nginx/controller:v1` → `ingress-nginx/controller`: the last two
/// path parts, for images whose last part alone says little.
pub fn image_path(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap_or(image);
    let no_tag = match no_digest.rsplit_once(':') {
        Some((head, tag)) if !tag.contains('/') => head,
        _ => no_digest,
    };
    let parts: Vec<&str> = no_tag.rsplitn(3, '/').collect();
    match parts.as_slice() {
        [last, owner, ..] => format!("{owner}/{last}"),
        [last] => (*last).to_string(),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_ignore_registry_tag_and_digest() {
        assert_eq!(
            image_name("docker.io/bitnami/postgresql:16.2"),
            "postgresql"
        );
        assert_eq!(image_name("redis@sha256:abc"), "redis");
        assert_eq!(image_name("localhost:5000/minio/minio:latest"), "minio");
        assert_eq!(
            image_path("registry.k8s.io/ingress-nginx/controller:v1.11@sha256:ab"),
            "ingress-nginx/controller"
        );
        assert_eq!(image_path("localhost:5000/nginx"), "localhost:5000/nginx");
        assert_eq!(image_path("nginx:1.27"), "nginx");
    }

    #[test]
    fn flags_and_their_values() {
        let known = vec!["--leader-elect".to_string()];
        assert_eq!(
            flag("--leader-elect", &known),
            Some(("--leader-elect", true))
        );
        assert_eq!(
            flag("--leader-elect=true", &known),
            Some(("--leader-elect=true", true))
        );
        assert_eq!(
            flag("-leader-elect=false", &known),
            Some(("-leader-elect=false", false))
        );
        assert_eq!(flag("--leader-elect-lease-duration=15s", &known), None);
    }
}
