//! Workloads go through the rules in groups. A group is one workload, or the workloads that can
//! see what the rules did for each other: those that share a document (a `kind: List`) and
//! those that are the same object to an autoscaler (kind, name and namespace: an HPA made for
//! one also scales the other). Nothing the rules do for one group changes what they find for
//! another, so groups run in any order and on any thread, each holding its documents whole only
//! while it runs.

use super::Written;
use crate::classify::{self, Decision, Facts};
use crate::error::Failure;
use crate::policy::Policy;
use crate::rules::{Base, Cx, Finding, Fix, Rule};
use crate::stream::Doc;
use crate::templates::Templates;
use crate::workload::{Release, Workload};
use crate::yaml::{self, Edit, Json};

/// The workloads of one group (indexes into the stream's workloads, in order) and the documents
/// they live in: whole, or `None` when reading dropped them (they are read again).
pub(super) struct Group<'a> {
    pub members: Vec<usize>,
    pub docs: Vec<(usize, Option<Json<'a>>)>,
}

/// Everything a group runs against; shared by all groups.
pub(super) struct Setting<'s, 'a> {
    pub policy: &'s Policy,
    pub release: &'s Release,
    pub templates: &'s Templates,
    pub rules: &'s [&'static dyn Rule],
    pub base: &'s Base<'a>,
    pub docs: &'s [Doc<'a>],
    pub workloads: &'s [(Workload, Option<Decision>)],
    pub facts: &'s Facts,
    /// How each document was read; one holding nothing but workloads is written by its group
    /// when the group is done.
    pub shapes: &'s [super::read::Shape],
    pub keep: super::Keep,
}

/// A finding, with the rule that made it and the workload it was made for (their positions):
/// findings are reported by rule, then workload.
pub(super) type Tagged = (usize, usize, Finding);

/// What a group's run produced.
pub(super) struct Outcome<'a> {
    pub decided: Vec<(usize, Decision)>,
    pub findings: Vec<Tagged>,
    /// The first failure: its rule and workload, and what went wrong (boxed: every group's
    /// outcome is held until the last group is done, and hardly any has one).
    pub failure: Option<Box<(usize, usize, Failure)>>,
    /// The group's documents that hold nothing but workloads, written.
    pub written: Vec<(usize, Result<Written<'a>, Failure>)>,
    /// Its other documents (a List that also holds a Service, say), whole, as its rules left
    /// them: the stream's rules may still change them.
    pub kept: Vec<(usize, Json<'a>)>,
}

/// The groups of `workloads`, in stream order (by their first workload).
pub(super) fn group(
    workloads: &[(Workload, Option<Decision>)],
    release_ns: Option<&str>,
) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..workloads.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_by_doc = std::collections::HashMap::new();
    let mut first_by_identity = std::collections::HashMap::new();
    for (i, (w, _)) in workloads.iter().enumerate() {
        let identity = (
            w.kind,
            w.name.as_str(),
            crate::rules::landing_namespace(w.namespace.as_deref(), release_ns),
        );
        for first in [
            *first_by_doc.entry(w.doc).or_insert(i),
            *first_by_identity.entry(identity).or_insert(i),
        ] {
            let (a, b) = (root(&mut parent, first), root(&mut parent, i));
            // The earlier workload stays the root, so groups come out in stream order.
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot = vec![usize::MAX; workloads.len()];
    for i in 0..workloads.len() {
        let r = root(&mut parent, i);
        if slot[r] == usize::MAX {
            slot[r] = groups.len();
            groups.push(Vec::new());
        }
        groups[slot[r]].push(i);
    }
    groups
}

/// Run every rule's workload part over one group, then write its documents.
pub(super) fn run<'a>(s: &Setting<'_, 'a>, group: Group<'a>) -> Outcome<'a> {
    let mut outcome = Outcome {
        decided: Vec::new(),
        findings: Vec::new(),
        failure: None,
        written: Vec::new(),
        kept: Vec::new(),
    };
    let mut local = Vec::with_capacity(group.docs.len());
    for (doc, value) in group.docs {
        let value = match value {
            Some(v) => v,
            None => match reread(&s.docs[doc]) {
                Ok(v) => v,
                Err(e) => {
                    outcome.failure = Some(Box::new((0, group.members[0], e)));
                    return outcome;
                }
            },
        };
        local.push((doc, value));
    }
    let members: Vec<(Workload, Decision)> = group
        .members
        .iter()
        .map(|&i| {
            let w = s.workloads[i].0.clone();
            let value = &local
                .iter()
                .find(|(d, _)| *d == w.doc)
                .expect("the group holds its documents")
                .1;
            let inputs = classify::Inputs {
                policy: s.policy,
                facts: s.facts,
            };
            let d = classify::classify(&w, w.object(value), &inputs);
            (w, d)
        })
        .collect();
    outcome.decided = group
        .members
        .iter()
        .copied()
        .zip(members.iter().map(|(_, d)| d.clone()))
        .collect();
    let mut cx = Cx::new(
        s.policy,
        s.release,
        s.templates,
        s.base,
        local,
        members,
        &[],
    );
    for (r, rule) in s.rules.iter().enumerate() {
        let found: Vec<(usize, Finding)> = cx
            .workloads
            .iter()
            .zip(&group.members)
            .flat_map(|((w, d), &i)| rule.workload(&cx, w, d).into_iter().map(move |f| (i, f)))
            .collect();
        if let Some(failure) = cx.failure.borrow_mut().take() {
            outcome.failure = Some(Box::new((r, group.members[0], failure)));
            return outcome;
        }
        for (i, finding) in found {
            if let Some(fix) = &finding.fix {
                if let Err(e) = cx.apply(fix) {
                    outcome.failure = Some(Box::new((
                        r,
                        i,
                        apply_failure(s.docs, &cx, fix, &finding, e),
                    )));
                    return outcome;
                }
            }
            outcome.findings.push((r, i, finding));
        }
    }
    let (local, _) = cx.into_parts();
    let own: Vec<usize> = group
        .members
        .iter()
        .map(|&i| s.workloads[i].0.doc)
        .collect();
    for (doc, value) in local {
        if !own.contains(&doc) {
            // A copy of another document a rule edited (a chart's HPA): the stream's context
            // applies the same edits to it again.
            continue;
        }
        if s.shapes[doc].only_workloads {
            let edits = edits_of(outcome.findings.iter().map(|(_, _, f)| f), doc);
            if !edits.is_empty() {
                outcome
                    .written
                    .push((doc, super::write::write_doc(&s.docs[doc], &edits, &value)));
            }
        } else {
            outcome.kept.push((doc, value));
        }
    }
    if s.keep == super::Keep::Output {
        let written: Vec<usize> = outcome.written.iter().map(|(doc, _)| *doc).collect();
        outcome.findings.retain(
            |(_, _, f)| !matches!(&f.fix, Some(Fix::Edit { doc, .. }) if written.contains(doc)),
        );
        // What the group added is written now; the stream's rules ask no more of it than its
        // kind, name and namespace.
        for (_, _, f) in &mut outcome.findings {
            if let Some(Fix::Add(new)) = &mut f.fix {
                if let Ok(text) = super::write::new_document(s.release, s.docs, new) {
                    new.written = Some(text.into());
                    new.value = super::read::stub(&new.value).into();
                }
            }
        }
    }
    // Every group's outcome is held until the last group is done: no spare room in them.
    outcome.findings.shrink_to_fit();
    outcome.written.shrink_to_fit();
    outcome.decided.shrink_to_fit();
    outcome
}

/// The edits findings make to document `doc`, in order.
pub(super) fn edits_of<'f>(
    findings: impl IntoIterator<Item = &'f Finding>,
    doc: usize,
) -> Vec<Edit> {
    findings
        .into_iter()
        .filter_map(|f| match &f.fix {
            Some(Fix::Edit { doc: d, edits }) if *d == doc => Some(edits.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// A document dropped after reading, read again (it read the first time, so it reads now).
fn reread<'a>(doc: &Doc<'a>) -> Result<Json<'a>, Failure> {
    let body = doc.raw.strip_prefix('\u{feff}').unwrap_or(doc.raw);
    yaml::parse_value(body).map(|p| p.value).map_err(|e| {
        Failure::input(
            doc.at(e.line),
            format!("invalid YAML at column {}: {}", e.col, e.message),
            "fix the chart template that renders this document",
        )
    })
}

/// Why a fix could not be applied, where.
pub(super) fn apply_failure(
    docs: &[Doc<'_>],
    cx: &Cx,
    fix: &Fix,
    finding: &Finding,
    e: yaml::YamlError,
) -> Failure {
    let doc = match fix {
        Fix::Edit { doc, .. } => *doc,
        Fix::Add(_) => finding.doc.unwrap_or(0),
    };
    let at = docs[doc].at_object(e.line, cx.value(doc));
    Failure::input(
        at,
        format!("cannot apply {}: {}", finding.rule.code, e.message),
        "fix the object in the chart or exclude the service in the policy",
    )
}
