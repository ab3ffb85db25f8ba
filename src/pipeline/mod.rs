//! The pipeline: a list of stages, kyaml-style, each taking the stream (its documents, held
//! whole in memory) and giving it back with its findings. [`analyze`] is all of it:
//!
//! 1. **read** (`read`): cut the input into documents, parse and check every one, infer the
//!    release, find and name the workloads;
//! 2. **classify**: give each workload its tier ([`crate::classify`]);
//! 3. **workload rules**: rule by rule, in the order of [`rules::all`], each rule's workload
//!    part over every workload; its fixes are applied before the next rule runs;
//! 4. **stream rules**: rule by rule, each rule's stream part over the stream as the workload
//!    rules left it;
//! 5. **write** ([`Analysis::output`]): untouched documents are the input's own bytes, edited
//!    ones have their edits spliced in (`write`), added ones are emitted after them.
//!
//! Every rule may read every document. `render` and `check` share everything up to the writing.

mod read;
mod write;

use std::borrow::Cow;

use crate::classify::Decision;
use crate::error::Failure;
use crate::policy::Policy;
use crate::rules::{self, Cx, Finding, Fix, NewDoc, Rule, Severity};
use crate::stream::Doc;
use crate::templates::Templates;
use crate::workload::{Release, Workload};
use crate::yaml::{self, Edit};

/// What Helm does not tell a post-renderer about the release, when the user does
/// (`--namespace`, `--release`); inferred from the stream otherwise.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub namespace: Option<String>,
    pub release: Option<String>,
}

/// Everything known about a stream after the rules ran. A document's `parsed.value` is what it
/// means after its edits.
pub struct Analysis<'a> {
    pub docs: Vec<Doc<'a>>,
    pub release: Release,
    pub workloads: Vec<(Workload, Decision)>,
    pub findings: Vec<Finding>,
    pub added: Vec<NewDoc>,
    /// Things the user should know that are not findings (duplicate keys, …).
    pub warnings: Vec<String>,
    /// The input, which every document's text is a part of.
    text: &'a str,
}

/// Read, classify and run every rule over `input`; generated objects are rendered from
/// `templates`.
pub fn analyze<'a>(
    input: &'a [u8],
    policy: &Policy,
    templates: &Templates,
    names: &Names,
) -> Result<Analysis<'a>, Failure> {
    analyze_rules(input, policy, templates, names, &rules::all())
}

/// [`analyze`] with only `rules` (the rules' tests run a few of them).
fn analyze_rules<'a>(
    input: &'a [u8],
    policy: &Policy,
    templates: &Templates,
    names: &Names,
    rules: &[&'static dyn Rule],
) -> Result<Analysis<'a>, Failure> {
    let read::Read {
        text,
        mut docs,
        release,
        workloads,
        warnings,
    } = read::read(input, policy, names)?;
    let values: Vec<_> = docs.iter_mut().map(|d| d.parsed.value.take()).collect();
    let workloads = classify(workloads, &values, policy, release.namespace.as_deref());
    let mut cx = Cx::new(policy, &release, templates, values, workloads);
    let by_workload = workload_rules(&mut cx, &docs, rules);
    // A stream rule before the rule whose workload part failed may fail first.
    let stop = by_workload.as_ref().err().map_or(rules.len(), |(r, _)| *r);
    let by_stream = stream_rules(&mut cx, &docs, &rules[..stop])?;
    let findings = merge(&cx.workloads, by_workload.map_err(|(_, f)| f)?, by_stream);
    let (values, workloads) = cx.into_parts();
    for (doc, value) in docs.iter_mut().zip(values) {
        doc.parsed.value = value;
    }
    let added = findings
        .iter()
        .filter_map(|f| match &f.fix {
            Some(Fix::Add(new)) => Some(new.clone()),
            _ => None,
        })
        .collect();
    Ok(Analysis {
        docs,
        release,
        workloads,
        findings,
        added,
        warnings,
        text,
    })
}

/// The classify stage: each workload with its decision.
fn classify(
    workloads: Vec<Workload>,
    values: &[yaml::Json<'_>],
    policy: &Policy,
    release_ns: Option<&str>,
) -> Vec<(Workload, Decision)> {
    let facts = crate::classify::Facts::of(&values.iter().collect::<Vec<_>>(), release_ns);
    let inputs = crate::classify::Inputs {
        policy,
        facts: &facts,
    };
    workloads
        .into_iter()
        .map(|w| {
            let d = crate::classify::classify(&w, w.object(&values[w.doc]), &inputs);
            (w, d)
        })
        .collect()
}

/// The workload rules stage: each rule's workload part over every workload in scope (no Helm
/// hook, none the policy excludes), its fixes applied before the next rule. The findings by rule, each `(workload, finding)` in workload order;
/// or the first failure, with its rule.
fn workload_rules(
    cx: &mut Cx<'_, '_>,
    docs: &[Doc<'_>],
    rules: &[&'static dyn Rule],
) -> Result<PerRule, (usize, Failure)> {
    let mut per_rule = Vec::with_capacity(rules.len());
    for (r, rule) in rules.iter().enumerate() {
        let found: Vec<(usize, Finding)> = cx
            .workloads
            .iter()
            .enumerate()
            .filter(|(_, (w, _))| cx.in_scope_workload(w))
            .flat_map(|(i, (w, d))| rule.workload(cx, w, d).into_iter().map(move |f| (i, f)))
            .collect();
        if let Some(failure) = cx.failure.get_mut().take() {
            return Err((r, failure));
        }
        for (_, finding) in &found {
            apply(cx, docs, finding).map_err(|f| (r, f))?;
        }
        per_rule.push(found);
    }
    Ok(per_rule)
}

/// The stream rules stage: each rule's stream part, its fixes applied before the next rule.
/// The findings with their rule's position.
fn stream_rules(
    cx: &mut Cx<'_, '_>,
    docs: &[Doc<'_>],
    rules: &[&'static dyn Rule],
) -> Result<Vec<(usize, Finding)>, Failure> {
    let mut streamed = Vec::new();
    for (r, rule) in rules.iter().enumerate() {
        let found = rule.stream(cx);
        if let Some(failure) = cx.failure.get_mut().take() {
            return Err(failure);
        }
        for finding in found {
            apply(cx, docs, &finding)?;
            streamed.push((r, finding));
        }
    }
    Ok(streamed)
}

/// Apply a finding's fix, if it has one; a fix that cannot be applied stops the run.
fn apply(cx: &mut Cx<'_, '_>, docs: &[Doc<'_>], finding: &Finding) -> Result<(), Failure> {
    let Some(fix) = &finding.fix else {
        return Ok(());
    };
    cx.apply(fix).map_err(|e| {
        let doc = match fix {
            Fix::Edit { doc, .. } => *doc,
            Fix::Add(_) => finding.doc.unwrap_or(0),
        };
        Failure::input(
            docs[doc].at_object(e.line, cx.value(doc)),
            format!("cannot apply {}: {}", finding.rule.code, e.message),
            "fix the object in the chart or exclude the service in the policy",
        )
    })
}

/// Every rule's workload findings (`(workload, finding)`, by workload), by rule.
type PerRule = Vec<Vec<(usize, Finding)>>;

/// Every rule's findings, in rule order: its workload findings (by workload) and its stream
/// findings (in its own order) interleaved by document, a stream finding about no document
/// first. Only a rule with both parts interleaves (HA110: claims of Deployments' volumes and of
/// PersistentVolumeClaims).
fn merge(
    workloads: &[(Workload, Decision)],
    per_rule: PerRule,
    streamed: Vec<(usize, Finding)>,
) -> Vec<Finding> {
    let mut out = Vec::with_capacity(per_rule.iter().map(Vec::len).sum::<usize>() + streamed.len());
    let mut stream: Vec<Vec<Finding>> = (0..per_rule.len()).map(|_| Vec::new()).collect();
    for (r, f) in streamed {
        stream[r].push(f);
    }
    for (found, stream) in per_rule.into_iter().zip(stream) {
        let mut found = found.into_iter().peekable();
        for f in stream {
            let at = f.doc;
            while found
                .peek()
                .is_some_and(|(w, _)| at.is_some_and(|a| workloads[*w].0.doc < a))
            {
                out.push(found.next().expect("peeked").1);
            }
            out.push(f);
        }
        out.extend(found.map(|(_, f)| f));
    }
    out
}

impl<'a> Analysis<'a> {
    /// The edits per input document, in the order the rules made them: copies of what the
    /// findings hold.
    pub fn edits(&self) -> Vec<Vec<Edit>> {
        let mut edits = vec![Vec::new(); self.docs.len()];
        for f in &self.findings {
            if let Some(Fix::Edit { doc, edits: e }) = &f.fix {
                edits[*doc].extend(e.iter().cloned());
            }
        }
        edits
    }

    /// Findings that stop `render`: errors no fix resolves.
    pub fn refusals(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error && f.fix.is_none())
    }

    /// The output stream as one string, and a note for each document that had to be
    /// re-serialised.
    pub fn write(&self) -> Result<(String, Vec<String>), Failure> {
        self.output()
            .map(|(pieces, notes)| (pieces.concat(), notes))
    }

    /// The write stage: the output stream in pieces, in order. Untouched documents are the
    /// input's own bytes (borrowed from it, not copied), edited and generated ones new text.
    /// Notes as [`Analysis::write`].
    pub fn output(&self) -> Result<(Vec<Cow<'a, str>>, Vec<String>), Failure> {
        if self.docs.is_empty() || self.docs.iter().all(|d| d.raw.trim().is_empty()) {
            // Helm 4 rejects empty output, and a chart that renders nothing sends 0 bytes.
            return Ok((vec!["# helm-ha: no resources\n".into()], Vec::new()));
        }
        let edits = self.edits();
        let mut out = Vec::new();
        let mut notes = Vec::new();
        // Untouched documents in a row go out as one stretch of the input.
        let mut untouched: Option<(usize, usize)> = None;
        let text: &'a str = self.text;
        let offset = |doc: &Doc<'_>| doc.raw.as_ptr() as usize - text.as_ptr() as usize;
        for doc in &self.docs {
            let own = match &edits[doc.index] {
                e if e.is_empty() => None,
                e => Some(write::write_doc(doc, e, doc.value())?),
            };
            match own {
                None => {
                    let start = offset(doc);
                    untouched = Some((untouched.map_or(start, |(s, _)| s), start + doc.raw.len()));
                }
                Some((pieces, note)) => {
                    out.extend(untouched.take().map(|(s, e)| Cow::Borrowed(&text[s..e])));
                    out.extend(pieces);
                    notes.extend(note);
                }
            }
        }
        out.extend(untouched.map(|(s, e)| Cow::Borrowed(&text[s..e])));
        if !self.added.is_empty()
            && out
                .iter()
                .rev()
                .find(|p| !p.is_empty())
                .is_some_and(|last| !last.ends_with('\n'))
        {
            out.push("\n".into());
        }
        for new in &self.added {
            out.push(write::new_document(&self.release, &self.docs, new)?.into());
        }
        Ok((out, notes))
    }
}

#[cfg(test)]
pub(crate) fn analyze_with_rules<'a>(
    input: &'a [u8],
    policy: &Policy,
    rules: &[&'static dyn Rule],
) -> Result<Analysis<'a>, Failure> {
    analyze_rules(
        input,
        policy,
        &Templates::default(),
        &Names::default(),
        rules,
    )
}
