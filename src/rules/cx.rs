//! What a rule sees: the policy, the release, the stream's documents as the rules before it left
//! them (every one of them, whole), the workloads with their decisions and the objects added.

use std::cell::RefCell;
use std::collections::HashMap;

use super::{landing_namespace, targets, Fix, NewDoc};
use crate::classify::Decision;
use crate::error::Failure;
use crate::policy::Policy;
use crate::templates::Templates;
use crate::workload::{objects, Release, Workload};
use crate::yaml::{from_json, Json, Map, Path};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec;
use k8s_openapi::api::core::v1::ServiceSpec;
use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;

/// An object of the input stream: `(document, item within it)`.
type ObjRef = (usize, usize);

/// An object of the stream as a view gives it: its document (none for an object added by a
/// rule), its path in the document (empty, or a List item's) and its meaning.
pub type Located<'v, 'a> = (Option<usize>, Path, &'v Json<'a>);

/// An object of a scoped view with its metadata and spec read as their Kubernetes types (the
/// spec alone, so a chart's older API version of the kind reads too). An object whose metadata
/// or spec is not of the type (the API server would refuse it) is not in the view.
pub struct Typed<'v, 'a, S> {
    /// Its document; none for an object a rule added.
    pub doc: Option<usize>,
    /// Its path in the document: empty, or a List item's.
    pub path: Path,
    /// Its meaning, for what is matched on JSON (label selectors, see [`crate::selector`]).
    pub json: &'v Json<'a>,
    pub metadata: ObjectMeta,
    pub spec: S,
}

impl<S> Typed<'_, '_, S> {
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("?")
    }
}

/// Which budgets [`Cx::budgets_of`] gives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Budgets {
    /// Every budget, also those no rule may touch and helm-ha's own: each of them stops
    /// evictions, so a rule deciding whether to add one must see them all.
    Every,
    /// The chart's budgets a rule may touch (not helm-ha's).
    Chart,
}

/// The objects of `candidates` that `wanted` keeps, in order, typed (see [`Typed`]; only those
/// kept are read as types, which costs more than the test).
fn typed<'s, 'a: 's, S: DeserializeOwned + Default>(
    candidates: Vec<Located<'s, 'a>>,
    wanted: impl Fn(&Json<'a>) -> bool + 's,
) -> impl Iterator<Item = Typed<'s, 'a, S>> {
    candidates
        .into_iter()
        .filter(move |(_, _, json)| wanted(json))
        .filter_map(|(doc, path, json)| {
            Some(Typed {
                doc,
                path,
                json,
                metadata: part(json, "metadata")?,
                spec: part(json, "spec")?,
            })
        })
}

/// `o[key]` as a `T`; absent or null is `T`'s default.
fn part<T: DeserializeOwned + Default>(o: &Json<'_>, key: &str) -> Option<T> {
    match o.get(key) {
        None | Some(Json::Null) => Some(T::default()),
        Some(v) => from_json(v).ok(),
    }
}

/// Is `o` one no rule may touch: a Helm hook (helm test pods included: `helm.sh/hook: test`),
/// or an object the policy's `exclude` list names? The views leave them out; rules see them only
/// where a question is about what will be in the cluster ([`Cx::value`], [`Cx::exists`],
/// [`Cx::autoscaler_of`], [`Cx::budgets_of`] with [`Budgets::Every`]), never to edit them.
pub fn out_of_scope(policy: &Policy, o: &Json<'_>) -> bool {
    let hook = o
        .at("metadata.annotations")
        .and_then(|a| a.get(crate::workload::HOOK_ANNOTATION))
        .is_some();
    let name = o.at("metadata.name").and_then(Json::as_str).unwrap_or("");
    hook || (!name.is_empty() && policy.excluded(name, name))
}

/// What the rules see, and what they changed.
pub struct Cx<'c, 'a> {
    pub policy: &'c Policy,
    pub release: &'c Release,
    /// The templates generated objects are rendered from.
    pub templates: &'c Templates,
    /// Every input document's meaning, as the rules so far left it.
    docs: Vec<Json<'a>>,
    /// Kind → its objects, in stream order: rules ask "is there a PDB/HPA/… for this workload"
    /// once per workload, and scanning the whole stream each time was quadratic. No rule
    /// changes an object's kind or a Service's selector, so the indexes stay right.
    kinds: HashMap<String, Vec<ObjRef>>,
    /// v1 Services by the rarest `key: value` of their selector (see [`Cx::services_selecting`]).
    services: HashMap<(String, String), Vec<ObjRef>>,
    /// The stream's workloads, classified.
    pub workloads: Vec<(Workload, Decision)>,
    /// Objects added so far, in order.
    pub added: Vec<NewDoc>,
    /// Kind → the positions of its objects in `added`.
    added_kinds: HashMap<String, Vec<usize>>,
    /// A template that failed to render stops the run; the pipeline checks after every rule.
    pub failure: RefCell<Option<Failure>>,
}

impl<'c, 'a> Cx<'c, 'a> {
    /// A context over the documents `docs` (their meanings, in stream order) and their
    /// classified `workloads`.
    pub fn new(
        policy: &'c Policy,
        release: &'c Release,
        templates: &'c Templates,
        docs: Vec<Json<'a>>,
        workloads: Vec<(Workload, Decision)>,
    ) -> Self {
        let mut kinds: HashMap<String, Vec<ObjRef>> = HashMap::new();
        // Each Service is filed under the rarest `key: value` of its selector, so a label every
        // pod carries (`app.kubernetes.io/instance`) does not make every Service a candidate for
        // every workload. A selector value that is not a string matches no label, so such a
        // Service is left out.
        let mut selectors = Vec::new();
        let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
        for (doc, value) in docs.iter().enumerate() {
            for (item, (_, o)) in objects(value).enumerate() {
                let kind = o.get("kind").and_then(Json::as_str).unwrap_or_default();
                kinds.entry(kind.to_string()).or_default().push((doc, item));
                if kind != "Service" || o.get("apiVersion").and_then(Json::as_str) != Some("v1") {
                    continue;
                }
                let Some(sel) = o
                    .at("spec.selector")
                    .and_then(Json::as_object)
                    .filter(|m| !m.is_empty())
                else {
                    continue;
                };
                let Some(pairs) = sel
                    .iter()
                    .map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                    .collect::<Option<Vec<_>>>()
                else {
                    continue;
                };
                for p in &pairs {
                    *seen.entry(*p).or_default() += 1;
                }
                selectors.push(((doc, item), pairs));
            }
        }
        let mut services: HashMap<(String, String), Vec<ObjRef>> = HashMap::new();
        for (r, pairs) in selectors {
            let (k, v) = pairs
                .into_iter()
                .min_by_key(|p| seen[p])
                .expect("non-empty selector");
            services
                .entry((k.to_string(), v.to_string()))
                .or_default()
                .push(r);
        }
        Cx {
            policy,
            release,
            templates,
            docs,
            kinds,
            services,
            workloads,
            added: Vec::new(),
            added_kinds: HashMap::new(),
            failure: RefCell::default(),
        }
    }

    /// The documents' meanings and the workloads (the objects added are in the findings that
    /// added them).
    pub fn into_parts(self) -> (Vec<Json<'a>>, Vec<(Workload, Decision)>) {
        (self.docs, self.workloads)
    }
}

impl<'a> Cx<'_, 'a> {
    /// Document `doc` as it is now.
    pub fn value(&self, doc: usize) -> &Json<'a> {
        &self.docs[doc]
    }

    /// Every input document as it is now, in stream order.
    pub fn documents(&self) -> impl Iterator<Item = (usize, &Json<'a>)> {
        self.docs.iter().enumerate()
    }

    /// The workload's object as it is now.
    pub fn obj(&self, w: &Workload) -> &Json<'a> {
        w.object(self.value(w.doc))
    }

    /// The replica floor for this workload: its `helm-ha.io/replicas` annotation, else the
    /// policy's (per service, else per tier); None for tiers without one.
    pub fn floor(&self, w: &Workload, d: &Decision) -> Option<u32> {
        let scaled = self.policy.scaled(d.tier)?;
        let svc = d
            .policy_key
            .as_deref()
            .and_then(|k| self.policy.services.get(k));
        Some(
            d.floor
                .or(svc.and_then(|s| s.replicas))
                .unwrap_or(scaled.replicas)
                .max(u32::from(w.kind.scalable())),
        )
    }

    /// Every object currently in the stream (input documents, List items, added documents).
    pub fn objects(&self) -> impl Iterator<Item = &Json<'a>> {
        self.documents()
            .flat_map(|(_, v)| objects(v).map(|(_, o)| o))
            .chain(self.added.iter().map(|d| &*d.value))
    }

    /// Is the workload's replica count owned by an autoscaler: an HPA or KEDA ScaledObject in the
    /// stream targets it, or the policy asks for an HPA?
    pub fn autoscaled(&self, w: &Workload, d: &Decision) -> bool {
        let wanted = d
            .policy_key
            .as_deref()
            .and_then(|k| self.policy.services.get(k))
            .is_some_and(|s| s.hpa.is_some());
        wanted || self.autoscaler_of(w).is_some()
    }

    /// The first autoscaler in the stream (HorizontalPodAutoscaler or KEDA ScaledObject) that
    /// scales `w`, also one no rule may touch: it owns the replica count all the same.
    pub fn autoscaler_of(&self, w: &Workload) -> Option<Located<'_, 'a>> {
        let ns = self.release.namespace.as_deref();
        self.located(&["HorizontalPodAutoscaler", "ScaledObject"])
            .into_iter()
            .find(|(_, _, o)| targets(o, w, ns))
    }

    /// The namespace the workload's objects live in: its own, else the release's.
    pub fn namespace_of(&self, w: &Workload) -> Option<String> {
        landing_namespace(w.namespace.as_deref(), self.release.namespace.as_deref())
            .map(str::to_string)
    }

    /// The namespace an object of the stream lands in: its own, else the release's.
    pub fn object_namespace<'o>(&'o self, o: &'o Json<'_>) -> Option<&'o str> {
        landing_namespace(
            o.at("metadata.namespace").and_then(Json::as_str),
            self.release.namespace.as_deref(),
        )
    }

    /// Does the stream (input and added so far) hold an object of this kind and name? `namespace`
    /// None means cluster-scoped; an absent namespace is the release's.
    pub fn exists(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.located(&[kind]).into_iter().any(|(_, _, o)| {
            let ns = self.object_namespace(o);
            o.at("metadata.name").and_then(Json::as_str) == Some(name)
                && (namespace.is_none() || ns == namespace)
        })
    }

    /// Render a template into a new document for `for_doc`. A broken template is recorded in
    /// [`Cx::failure`] (the pipeline stops) and `None` returned.
    pub fn render<T: serde::de::DeserializeOwned + serde::Serialize>(
        &self,
        template: &str,
        ctx: &Json<'_>,
        for_doc: usize,
    ) -> Option<NewDoc> {
        match self.templates.render::<T>(template, ctx) {
            Ok(value) => {
                let kind = value
                    .get("kind")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string();
                let name = value
                    .at("metadata.name")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string();
                Some(NewDoc {
                    for_doc,
                    kind,
                    name,
                    value: value.into(),
                })
            }
            Err(f) => {
                self.failure.borrow_mut().get_or_insert(f);
                None
            }
        }
    }

    /// May rules look at this workload? Not when it is a Helm hook or the policy excludes it:
    /// the pipeline runs no rule's workload part for it.
    pub fn in_scope_workload(&self, w: &Workload) -> bool {
        w.hook.is_none() && !self.policy.excluded(&w.service, &w.name)
    }

    /// The stream's Services a rule may touch (see [`out_of_scope`]), in stream order.
    pub fn services(&self) -> impl Iterator<Item = Typed<'_, 'a, ServiceSpec>> {
        typed(self.in_scope(&["Service"]), |_| true)
    }

    /// The stream's PodDisruptionBudgets that select `w`'s pods in its namespace, in stream
    /// order: [`Budgets`] says which.
    pub fn budgets_of<'s>(
        &'s self,
        w: &'s Workload,
        which: Budgets,
    ) -> impl Iterator<Item = Typed<'s, 'a, PodDisruptionBudgetSpec>> {
        let ns = self.namespace_of(w);
        let candidates = match which {
            Budgets::Every => self.located(&["PodDisruptionBudget"]),
            Budgets::Chart => self.in_scope(&["PodDisruptionBudget"]),
        };
        typed(candidates, move |o| {
            !(which == Budgets::Chart && super::generated(o))
                && self.object_namespace(o) == ns.as_deref()
                && o.at("spec.selector")
                    .is_some_and(|s| crate::selector::matches(s, &w.pod_labels))
        })
    }

    /// The stream's HorizontalPodAutoscalers a rule may touch that scale `w`, in stream order.
    pub fn hpas_of<'s>(
        &'s self,
        w: &'s Workload,
    ) -> impl Iterator<Item = Typed<'s, 'a, HorizontalPodAutoscalerSpec>> {
        let ns = self.release.namespace.as_deref();
        typed(self.in_scope(&["HorizontalPodAutoscaler"]), move |o| {
            targets(o, w, ns)
        })
    }

    /// The objects of `kinds` a rule may touch, in stream order.
    pub fn in_scope(&self, kinds: &[&str]) -> Vec<Located<'_, 'a>> {
        let mut found = self.located(kinds);
        found.retain(|(_, _, o)| !out_of_scope(self.policy, o));
        found
    }

    /// Every object of `kinds` in the stream, in stream order (input documents, List items,
    /// added documents), with its document and its path in it (added ones: none); also those
    /// out of scope.
    fn located(&self, kinds: &[&str]) -> Vec<Located<'_, 'a>> {
        let mut refs: Vec<ObjRef> = kinds
            .iter()
            .filter_map(|k| self.kinds.get(*k))
            .flatten()
            .copied()
            .collect();
        refs.sort_unstable();
        let input = refs.into_iter().filter_map(|(doc, item)| {
            objects(self.value(doc))
                .nth(item)
                .map(|(path, o)| (Some(doc), path, o))
        });
        let mut added: Vec<usize> = kinds
            .iter()
            .filter_map(|k| self.added_kinds.get(*k))
            .flatten()
            .copied()
            .collect();
        added.sort_unstable();
        let added = added
            .into_iter()
            .map(|i| (None, Path::root(), &*self.added[i].value));
        input.chain(added).collect()
    }

    /// v1 Services with a non-empty selector whose rarest `key: value` is among `labels`, in
    /// stream order: a superset of those that select pods labelled `labels` (the caller checks
    /// the whole selector). Asking every Service about every workload was quadratic.
    pub fn services_selecting(&self, labels: &Map<'_>) -> Vec<&Json<'a>> {
        let mut refs: Vec<ObjRef> = labels
            .iter()
            .filter_map(|(k, v)| self.services.get(&(k.to_string(), v.as_str()?.to_string())))
            .flatten()
            .copied()
            .collect();
        refs.sort_unstable();
        refs.dedup();
        refs.into_iter()
            .filter_map(|(doc, item)| objects(self.value(doc)).nth(item).map(|(_, o)| o))
            .filter(|o| !out_of_scope(self.policy, o))
            .collect()
    }

    pub fn apply(&mut self, fix: &Fix) -> Result<(), crate::yaml::YamlError> {
        match fix {
            Fix::Edit { doc, edits } => crate::yaml::apply_in_place(&mut self.docs[*doc], edits),
            Fix::Add(new) => {
                self.added_kinds
                    .entry(new.kind.clone())
                    .or_default()
                    .push(self.added.len());
                self.added.push(new.clone());
                Ok(())
            }
        }
    }
}
