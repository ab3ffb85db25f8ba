//! Workloads found in the stream, and the release context Helm does not tell a post-renderer.

use crate::stream::Doc;
use crate::yaml::{Json, Map, Path, Str};
use std::collections::{BTreeMap, HashMap};

pub const HOOK_ANNOTATION: &str = "helm.sh/hook";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
}

impl Kind {
    pub fn parse(api_version: &str, kind: &str) -> Option<Kind> {
        let group_ok = |g: &str| api_version == format!("{g}/v1");
        Some(match kind {
            "Deployment" if group_ok("apps") => Kind::Deployment,
            "StatefulSet" if group_ok("apps") => Kind::StatefulSet,
            "DaemonSet" if group_ok("apps") => Kind::DaemonSet,
            "ReplicaSet" if group_ok("apps") => Kind::ReplicaSet,
            "Job" if group_ok("batch") => Kind::Job,
            "CronJob" if group_ok("batch") => Kind::CronJob,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Job => "Job",
            Kind::CronJob => "CronJob",
        }
    }

    /// Kinds whose replica count is a number of interchangeable copies.
    pub fn scalable(self) -> bool {
        matches!(
            self,
            Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet
        )
    }

    pub fn runs_to_completion(self) -> bool {
        matches!(self, Kind::Job | Kind::CronJob)
    }
}

/// A workload: where it is in the stream and what it is called.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Index of its document.
    pub doc: usize,
    /// Path of the object inside the document: empty, or `items.N` inside a `kind: List`.
    pub base: Path,
    pub kind: Kind,
    pub name: String,
    pub namespace: Option<String>,
    /// Service name, e.g. `api` for `app.name: plane-plane-api`.
    pub service: String,
    /// How the service name was found, for `--explain`.
    pub named_by: String,
    /// `helm.sh/hook` value when the object is a Helm hook.
    pub hook: Option<String>,
    /// Its pods' labels (its pod template's), as a selector sees them. No rule edits them, so
    /// they stay right while the workload's document is not at hand.
    pub pod_labels: Map<'static>,
}

impl Workload {
    /// The value of one of its pods' labels, when it is a string.
    pub fn pod_label(&self, label: &str) -> Option<&str> {
        self.pod_labels.get(label).and_then(Json::as_str)
    }

    /// `base` + a dotted path relative to the object.
    pub fn path(&self, dotted: &str) -> Path {
        self.base.clone().join(dotted)
    }

    /// The path of `rel` (dotted) inside its pod template, from the document's root.
    pub fn in_template(&self, rel: &str) -> Path {
        self.path(self.template_path()).join(rel)
    }

    /// `rel` (dotted) inside its pod template, read from its object `obj`.
    pub fn template_at<'v, 'a>(&self, obj: &'v Json<'a>, rel: &str) -> Option<&'v Json<'a>> {
        obj.at(self.template_path())?.at(rel)
    }

    /// Dotted path of the pod template, relative to the object.
    pub fn template_path(&self) -> &'static str {
        match self.kind {
            Kind::CronJob => "spec.jobTemplate.spec.template",
            _ => "spec.template",
        }
    }

    pub fn object<'v, 'a>(&self, doc_value: &'v Json<'a>) -> &'v Json<'a> {
        static NULL: Json<'static> = Json::Null;
        doc_value.at(&self.base).unwrap_or(&NULL)
    }

    /// `Kind/name` for messages.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.kind.as_str(), self.name)
    }
}

/// The containers that run for a pod's lifetime: its `containers` and its restartable init
/// containers (native sidecars, `restartPolicy: Always`), which run alongside them. Ordinary init
/// containers have exited by then.
pub fn running_containers<'v, 'a>(pod_spec: &'v Json<'a>) -> impl Iterator<Item = &'v Json<'a>> {
    let list = |k: &str| {
        pod_spec
            .get(k)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
    };
    list("containers").chain(list("initContainers").filter(|c| is_sidecar(c)))
}

/// A restartable init container: a native sidecar.
pub fn is_sidecar(container: &Json<'_>) -> bool {
    container.get("restartPolicy").and_then(Json::as_str) == Some("Always")
}

/// What the post-renderer can infer about the release.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Release {
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The chart's name, from `# Source:` paths or the Helm 4 filename annotation.
    pub chart: Option<String>,
    /// Input came from Helm 4 (filename annotations present).
    pub helm4: bool,
}

impl Release {
    /// `--namespace`/`--release` win; otherwise the most common value in the stream.
    pub fn infer(docs: &[Doc<'_>], namespace: Option<String>, name: Option<String>) -> Release {
        Release::from_clues(docs.iter().map(Clues::of), namespace, name)
    }

    /// [`Release::infer`] from what each document tells.
    pub fn from_clues<'c>(
        clues: impl IntoIterator<Item = Clues<'c>>,
        namespace: Option<String>,
        name: Option<String>,
    ) -> Release {
        let (mut namespaces, mut names): (BTreeMap<Str<'c>, usize>, BTreeMap<Str<'c>, usize>) =
            Default::default();
        let (mut helm4, mut chart) = (false, None);
        for c in clues {
            for ns in c.namespaces {
                *namespaces.entry(ns).or_default() += 1;
            }
            for n in c.names {
                *names.entry(n).or_default() += 1;
            }
            helm4 |= c.helm4;
            if chart.is_none() {
                chart = c.source.and_then(|s| {
                    s.split('/')
                        .next()
                        .filter(|c| !c.is_empty())
                        .map(str::to_string)
                });
            }
        }
        // Ties go to the alphabetically first value, so the answer never depends on order.
        let most_common = |counts: BTreeMap<Str<'c>, usize>| {
            counts
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(v, _)| v.to_string())
        };
        Release {
            namespace: namespace.or_else(|| most_common(namespaces)),
            name: name.or_else(|| most_common(names)),
            chart,
            helm4,
        }
    }
}

/// What one document tells about the release it belongs to: each object's namespace and
/// release label, whether Helm 4 sent it, and the template path.
#[derive(Clone, Debug, Default)]
pub struct Clues<'a> {
    namespaces: Vec<Str<'a>>,
    names: Vec<Str<'a>>,
    helm4: bool,
    source: Option<String>,
}

impl<'a> Clues<'a> {
    pub fn of(doc: &Doc<'a>) -> Clues<'a> {
        let mut clues = Clues {
            source: doc.source(),
            ..Clues::default()
        };
        let string = |v: Option<&Json<'a>>| {
            v.and_then(Json::as_string)
                .filter(|s| !s.is_empty())
                .cloned()
        };
        for (_, o) in objects(doc.value()) {
            clues.namespaces.extend(string(o.at("metadata.namespace")));
            let labels = o.at("metadata.labels");
            clues.names.extend(string(labels.and_then(|l| {
                l.get("app.kubernetes.io/instance")
                    .or_else(|| l.get("release"))
            })));
            clues.helm4 |= o
                .at("metadata.annotations")
                .and_then(|a| a.get(crate::HELM4_FILENAME_ANNOTATION))
                .is_some();
        }
        clues
    }
}

/// The objects of a document: the document itself, or the items of a `kind: List`.
pub fn objects<'v, 'a>(value: &'v Json<'a>) -> impl Iterator<Item = (Path, &'v Json<'a>)> {
    let items = match (value.get("kind").and_then(Json::as_str), value.get("items")) {
        (Some("List"), Some(Json::Array(items))) => Some(items),
        _ => None,
    };
    let single = if items.is_none() && value.is_object() {
        Some((Path::root(), value))
    } else {
        None
    };
    single.into_iter().chain(
        items
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, o)| (Path::dotted("items").index(i), o)),
    )
}

/// The workloads of one document (`value`, document `doc`), not yet named.
pub fn found_in(doc: usize, value: &Json<'_>) -> Vec<Workload> {
    let mut found = Vec::new();
    for (base, obj) in objects(value) {
        let api = obj.get("apiVersion").and_then(Json::as_str).unwrap_or("");
        let Some(kind) = obj
            .get("kind")
            .and_then(Json::as_str)
            .and_then(|k| Kind::parse(api, k))
        else {
            continue;
        };
        let str_at = |p: &str| obj.at(p).and_then(Json::as_str).map(str::to_string);
        let template = if kind == Kind::CronJob {
            "spec.jobTemplate.spec.template"
        } else {
            "spec.template"
        };
        let pod_labels = obj
            .at(format!("{template}.metadata.labels"))
            .and_then(Json::as_object)
            .map_or_else(Map::new, |m| m.clone().into_owned());
        found.push(Workload {
            doc,
            base,
            kind,
            name: str_at("metadata.name").unwrap_or_default(),
            namespace: str_at("metadata.namespace"),
            service: String::new(),
            named_by: String::new(),
            hook: obj
                .at("metadata.annotations")
                .and_then(|a| a.get(HOOK_ANNOTATION))
                .and_then(Json::as_str)
                .map(str::to_string),
            pod_labels,
        });
    }
    found
}

/// Every workload of the stream (`values`: each document's meaning, in order), named by `labels`
/// (in order) with `metadata.name` last.
pub fn find(values: &[Json<'_>], labels: &[String], release: &Release) -> Vec<Workload> {
    let mut found: Vec<Workload> = values
        .iter()
        .enumerate()
        .flat_map(|(doc, value)| found_in(doc, value))
        .collect();
    name(&mut found, labels, release);
    found
}

/// Give every workload its service name: the first of `labels` (in order) whose value names it
/// alone, else `metadata.name`.
pub fn name<'w>(
    found: impl IntoIterator<Item = &'w mut Workload>,
    labels: &[String],
    release: &Release,
) {
    let mut found: Vec<&mut Workload> = found.into_iter().collect();
    let names: Vec<(String, String)> = {
        // Per label: how many workloads carry each value, and the prefix all values share;
        // computed once (asking every workload about every other one was quadratic in the stream).
        let per_label: Vec<(HashMap<&str, usize>, String)> = labels
            .iter()
            .map(|label| {
                let values: Vec<&str> = found.iter().filter_map(|w| w.pod_label(label)).collect();
                let mut counts = HashMap::new();
                for v in &values {
                    *counts.entry(*v).or_insert(0) += 1;
                }
                (counts, common_prefix(&values))
            })
            .collect();
        found
            .iter()
            .map(|w| service_name(w, labels, release, &per_label))
            .collect()
    };
    for (w, (service, by)) in found.iter_mut().zip(names) {
        w.service = service;
        w.named_by = by;
    }
}

/// The first label (in policy order) whose value names this workload alone; the chart's
/// `<namespace>-<release>-` prefix is stripped.
fn service_name(
    w: &Workload,
    labels: &[String],
    release: &Release,
    per_label: &[(HashMap<&str, usize>, String)],
) -> (String, String) {
    for (label, (counts, common)) in labels.iter().zip(per_label) {
        let Some(value) = w.pod_label(label) else {
            continue;
        };
        // A value that two workloads share (e.g. `app.kubernetes.io/name: <chart>`) names no service.
        if counts.get(value).is_some_and(|&n| n > 1) {
            continue;
        }
        let (service, how) = strip_known(value, release, common);
        return (service, format!("pod label `{label}: {value}`{how}"));
    }
    let (service, how) = strip_known(&w.name, release, "");
    // Charts name Jobs after the render time (`…-migrate-20261122-035219`); that is no service.
    let stable = service
        .split('-')
        .rev()
        .skip_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>();
    let service = if stable.is_empty() {
        service.clone()
    } else {
        stable.into_iter().rev().collect::<Vec<_>>().join("-")
    };
    (
        service,
        format!(
            "metadata.name (no distinguishing pod label among {}){how}",
            labels.join(", ")
        ),
    )
}

/// Strip `<namespace>-<release>-` (or `<release>-`); without a known release, strip the prefix
/// that every value of the label shares, up to a `-`.
#[cfg(test)]
fn strip_prefix(value: &str, release: &Release, values: &[&str]) -> (String, String) {
    strip_known(value, release, &common_prefix(values))
}

/// The prefix, up to and including a `-`, that all of two or more values share ("" otherwise).
fn common_prefix(values: &[&str]) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let common = values.iter().skip(1).fold(values[0], |acc, v| {
        let n = acc
            .bytes()
            .zip(v.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        &acc[..n]
    });
    common
        .rfind('-')
        .map_or(String::new(), |cut| common[..=cut].to_string())
}

/// [`strip_prefix`] with the values' common prefix already computed.
fn strip_known(value: &str, release: &Release, common: &str) -> (String, String) {
    let mut prefixes = Vec::new();
    if let (Some(ns), Some(rel)) = (&release.namespace, &release.name) {
        prefixes.push(format!("{ns}-{rel}-"));
    }
    if let Some(rel) = &release.name {
        prefixes.push(format!("{rel}-"));
    }
    if !common.is_empty() {
        prefixes.push(common.to_string());
    }
    for p in prefixes {
        if let Some(rest) = value.strip_prefix(p.as_str()).filter(|r| !r.is_empty()) {
            return (rest.to_string(), format!(", prefix `{p}` stripped"));
        }
    }
    (value.to_string(), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_of_namespace_and_release_is_stripped() {
        let rel = Release {
            namespace: Some("plane".into()),
            name: Some("plane".into()),
            ..Default::default()
        };
        assert_eq!(strip_prefix("plane-plane-api", &rel, &[]).0, "api");
        assert_eq!(strip_prefix("plane-api-wl", &rel, &[]).0, "api-wl");
    }

    #[test]
    fn timestamps_in_job_names_are_not_part_of_the_service() {
        let labels = vec!["app".to_string()];
        let rel = Release {
            name: Some("plane".into()),
            ..Default::default()
        };
        let w = Workload {
            doc: 0,
            base: Path::root(),
            kind: Kind::Job,
            name: "plane-minio-bucket-20261122-035219".into(),
            namespace: None,
            service: String::new(),
            named_by: String::new(),
            hook: None,
            pod_labels: Map::new(),
        };
        assert_eq!(service_name(&w, &labels, &rel, &[]).0, "minio-bucket");
        let w = Workload {
            name: "plane-2048".into(),
            ..w
        };
        assert_eq!(service_name(&w, &labels, &rel, &[]).0, "2048");
    }

    #[test]
    fn without_release_the_shared_prefix_is_stripped() {
        let rel = Release::default();
        let values = ["ns-rel-api", "ns-rel-api-migrate", "ns-rel-web"];
        assert_eq!(
            strip_prefix("ns-rel-api-migrate", &rel, &values).0,
            "api-migrate"
        );
        assert_eq!(strip_prefix("solo", &rel, &["solo"]).0, "solo");
    }
}
