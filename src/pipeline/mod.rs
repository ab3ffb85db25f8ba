//! The pipeline: read the stream, find and classify workloads, run every rule, then write the
//! stream back. `render` and `check` share everything up to the writing.
//!
//! Rules run in the order of [`rules::all`], each seeing the documents as the rules before it
//! left them, like a chain of kyaml filters. A rule's workload part ([`Rule::workload`]) runs for
//! each workload with its document whole; its stream part ([`Rule::stream`]) once, after every
//! workload went through every rule. Workloads go through the rules in groups (`groups`): one
//! workload, or the few that can see each other's changes. A group holds its documents whole
//! only while it runs and writes them when it is done, and groups run on every core, so a large
//! stream peaks at 2.5 to 3 times its size in memory, the input included (docs/benchmarks.md).
//! The result is the same as running each rule over the whole stream before the next:
//! `tests::groups_change_nothing` holds the two to each other.

mod groups;
mod read;
mod write;

use std::borrow::Cow;

use crate::classify::Decision;
use crate::error::Failure;
use crate::policy::Policy;
use crate::rules::{self, Base, Cx, Finding, Fix, NewDoc, Rule, Severity};
use crate::stream::Doc;
use crate::templates::Templates;
use crate::workload::{self, Release, Workload};
use crate::yaml::{self, Edit, Json};
use groups::{Group, Setting};

/// A document as written (in pieces: what it kept of its text borrowed), and the note when it
/// had to be re-serialised.
type Written<'a> = (Vec<Cow<'a, str>>, Option<String>);

/// Everything known about a stream after the rules ran. A document's `parsed.value` is what it
/// means after its edits, except that a workload's document is down to its metadata: it was
/// written when its group was done (`written`).
pub struct Analysis<'a> {
    pub docs: Vec<Doc<'a>>,
    pub release: Release,
    pub workloads: Vec<(Workload, Decision)>,
    pub findings: Vec<Finding>,
    pub added: Vec<NewDoc>,
    /// Things the user should know that are not findings (duplicate keys, …).
    pub warnings: Vec<String>,
    /// Documents written while the rules ran, by index.
    written: Vec<Option<Written<'a>>>,
    /// The first document that could not be written while the rules ran, and why (reported
    /// when the stream is written: a refusal comes first).
    unwritable: Option<(usize, Failure)>,
    /// The input, which every document's text is a part of.
    text: &'a str,
}

/// What the caller needs of an analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every finding with its fix (`check`, `--explain`, tests).
    Everything,
    /// What rendering prints: the output stream and the findings it reports. A finding that
    /// edited a workload's document goes once its group wrote the document (in a large stream
    /// those edits were most of the memory), so [`Analysis::edits`] lists the other documents'
    /// edits only, and the workloads go once the rules ran ([`Analysis::workloads`] is empty).
    Output,
}

/// [`analyze_with`] and the built-in templates.
pub fn analyze<'a>(
    input: &'a [u8],
    policy: &Policy,
    namespace: Option<String>,
    release: Option<String>,
) -> Result<Analysis<'a>, Failure> {
    analyze_with(input, policy, namespace, release, &Templates::default())
}

/// Read, classify and run every rule; generated objects are rendered from `templates`.
pub fn analyze_with<'a>(
    input: &'a [u8],
    policy: &Policy,
    namespace: Option<String>,
    release: Option<String>,
    templates: &Templates,
) -> Result<Analysis<'a>, Failure> {
    analyze_keeping(
        input,
        policy,
        namespace,
        release,
        templates,
        Keep::Everything,
    )
}

/// [`analyze_with`], keeping what the caller needs.
pub fn analyze_keeping<'a>(
    input: &'a [u8],
    policy: &Policy,
    namespace: Option<String>,
    release: Option<String>,
    templates: &Templates,
    keep: Keep,
) -> Result<Analysis<'a>, Failure> {
    let read = read::read(input, true, input.len() <= crate::stream::KEEP_SPANS_BELOW)?;
    let (text, read) = read;
    Reading::new(text, read, policy, namespace, release).run(policy, templates, &rules::all(), keep)
}

/// The stream once read: documents, what reading found, the release and its named workloads.
struct Reading<'a> {
    text: &'a str,
    docs: Vec<Doc<'a>>,
    shapes: Vec<read::Shape>,
    release: Release,
    /// Each with its decision once its group ran (the pairs the stream's rules see, made in
    /// place).
    workloads: Vec<(Workload, Option<Decision>)>,
    warnings: Vec<String>,
}

impl<'a> Reading<'a> {
    fn new(
        text: &'a str,
        mut read: Vec<(Doc<'a>, read::Found<'a>)>,
        policy: &Policy,
        namespace: Option<String>,
        release: Option<String>,
    ) -> Self {
        let release = Release::from_clues(
            read.iter_mut().map(|(_, f)| std::mem::take(&mut f.clues)),
            namespace,
            release,
        );
        // One pass, each vector at its size: reading's results are a large stream's largest
        // vector, and it goes as the documents leave it.
        let mut docs = Vec::with_capacity(read.len());
        let mut shapes = Vec::with_capacity(read.len());
        let mut workloads = Vec::with_capacity(read.iter().map(|(_, f)| f.workloads.len()).sum());
        let mut warnings = Vec::new();
        for (doc, found) in read {
            docs.push(doc);
            shapes.push(found.shape);
            warnings.extend(found.warnings);
            workloads.extend(found.workloads.into_iter().map(|w| (w, None)));
        }
        workload::name(
            workloads.iter_mut().map(|(w, _)| w),
            &policy.service_labels,
            &release,
        );
        Reading {
            text,
            docs,
            shapes,
            release,
            workloads,
            warnings,
        }
    }

    /// Every rule over the stream, workloads in groups (see the module).
    fn run(
        mut self,
        policy: &Policy,
        templates: &Templates,
        rules: &[&'static dyn Rule],
        keep: Keep,
    ) -> Result<Analysis<'a>, Failure> {
        let facts = crate::classify::Facts::of(
            &self.docs.iter().map(|d| d.value()).collect::<Vec<_>>(),
            self.release.namespace.as_deref(),
        );
        // The rules see no more of documents no rule reads, nor of workloads' documents outside
        // their group (the stream's rules see workloads through `cx.workloads`); the documents
        // keep what messages and the output directory ask of them.
        let mut values: Vec<Json<'a>> = self
            .docs
            .iter_mut()
            .zip(&self.shapes)
            .map(|(d, f)| {
                let value = d.let_go();
                if f.trimmed || (f.dropped && f.only_workloads) {
                    Json::Null
                } else {
                    value
                }
            })
            .collect();
        // Each group takes its documents: a document holding nothing but workloads entirely,
        // any other a copy of itself (its other objects stay in the stream).
        let groups: Vec<Group<'a>> =
            groups::group(&self.workloads, self.release.namespace.as_deref())
                .into_iter()
                .map(|members| {
                    let mut docs: Vec<usize> =
                        members.iter().map(|&i| self.workloads[i].0.doc).collect();
                    docs.dedup();
                    let docs = docs
                        .into_iter()
                        .map(|doc| {
                            let whole = if self.shapes[doc].dropped {
                                None
                            } else if self.shapes[doc].only_workloads {
                                Some(values[doc].take())
                            } else {
                                Some(values[doc].clone())
                            };
                            (doc, whole)
                        })
                        .collect();
                    Group { members, docs }
                })
                .collect();
        let base = Base::new(values);
        let setting = Setting {
            policy,
            release: &self.release,
            templates,
            rules,
            base: &base,
            docs: &self.docs,
            workloads: &self.workloads,
            facts: &facts,
            shapes: &self.shapes,
            keep,
        };
        let bytes = |g: &Group<'a>| {
            g.docs
                .iter()
                .map(|(doc, _)| self.docs[*doc].raw.len())
                .sum()
        };
        let outcomes = crate::parallel::map(groups, bytes, |g| groups::run(&setting, g));

        // Gather the groups' results in stream order.
        let mut per_rule: PerRule = {
            let mut counts = vec![0; rules.len()];
            for (r, _, _) in outcomes.iter().flat_map(|o| &o.findings) {
                counts[*r] += 1;
            }
            counts.into_iter().map(Vec::with_capacity).collect()
        };
        let mut failed: Option<(usize, usize, Failure)> = None;
        let mut written: Vec<Option<Written<'a>>> = (0..self.docs.len()).map(|_| None).collect();
        let mut unwritable: Option<(usize, Failure)> = None;
        let mut kept = Vec::new();
        for outcome in outcomes {
            for (i, d) in outcome.decided {
                self.workloads[i].1 = Some(d);
            }
            for (r, w, f) in outcome.findings {
                per_rule[r].push((w, f));
            }
            if let Some(f) = outcome.failure {
                if failed
                    .as_ref()
                    .is_none_or(|(r, w, _)| (f.0, f.1) < (*r, *w))
                {
                    failed = Some(*f);
                }
            }
            for (doc, w) in outcome.written {
                match w {
                    Ok(w) => written[doc] = Some(w),
                    Err(e) if unwritable.as_ref().is_none_or(|(d, _)| doc < *d) => {
                        unwritable = Some((doc, e))
                    }
                    Err(_) => {}
                }
            }
            kept.extend(outcome.kept);
        }
        // A rule's findings by workload; a workload's keep their order. Groups are in stream
        // order, so only a group of workloads far apart in the stream leaves some to sort.
        for found in &mut per_rule {
            if !found.is_sorted_by_key(|(w, _)| *w) {
                found.sort_by_key(|(w, _)| *w);
            }
        }
        let workloads: Vec<(Workload, Decision)> = std::mem::take(&mut self.workloads)
            .into_iter()
            .filter_map(|(w, d)| Some((w, d?)))
            .collect();

        // The stream's rules, on the stream as the groups left it: their edits to other
        // documents (a chart's HPA) made again here, their objects added.
        let earlier: Vec<NewDoc> = per_rule
            .iter()
            .flatten()
            .filter_map(|(_, f)| match &f.fix {
                Some(Fix::Add(new)) => Some(new.clone()),
                _ => None,
            })
            .collect();
        let mut local = kept;
        let kept_docs: Vec<usize> = local.iter().map(|(d, _)| *d).collect();
        let mut edited: Vec<usize> = per_rule
            .iter()
            .flatten()
            .filter_map(|(_, f)| match &f.fix {
                Some(Fix::Edit { doc, .. })
                    if !self.shapes[*doc].only_workloads && !kept_docs.contains(doc) =>
                {
                    Some(*doc)
                }
                _ => None,
            })
            .collect();
        edited.sort_unstable();
        edited.dedup();
        for doc in edited {
            let mut value = base.value(doc).clone();
            yaml::apply_in_place(
                &mut value,
                &groups::edits_of(per_rule.iter().flatten().map(|(_, f)| f), doc),
            )
            .map_err(|e| {
                Failure::input(
                    self.docs[doc].at_object(e.line, &value),
                    e.message,
                    "fix the object in the chart",
                )
            })?;
            local.push((doc, value));
        }
        let stop = failed.as_ref().map_or(rules.len(), |(r, _, _)| *r);
        let mut cx = Cx::new(
            policy,
            &self.release,
            templates,
            &base,
            local,
            workloads,
            &earlier,
        );
        let mut streamed: Vec<(usize, Finding)> = Vec::new();
        for (r, rule) in rules.iter().enumerate().take(stop) {
            let found = rule.stream(&cx);
            if let Some(failure) = cx.failure.borrow_mut().take() {
                return Err(failure);
            }
            for finding in found {
                if let Some(fix) = &finding.fix {
                    if let Err(e) = cx.apply(fix) {
                        return Err(groups::apply_failure(&self.docs, &cx, fix, &finding, e));
                    }
                }
                streamed.push((r, finding));
            }
        }
        if let Some((_, _, failure)) = failed {
            return Err(failure);
        }
        let (local, mut workloads) = cx.into_parts();
        let findings = merge(&workloads, per_rule, streamed);
        if keep == Keep::Output {
            // Only reports name the workloads and their tiers.
            workloads = Vec::new();
        }
        let mut values = base.into_values();
        for (doc, value) in local {
            values[doc] = value;
        }
        for (doc, value) in self.docs.iter_mut().zip(values) {
            doc.parsed.value = value;
        }
        Ok(Analysis::new(
            self, workloads, findings, written, unwritable,
        ))
    }
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
    /// What `reading` became once the rules ran.
    fn new(
        reading: Reading<'a>,
        workloads: Vec<(Workload, Decision)>,
        findings: Vec<Finding>,
        written: Vec<Option<Written<'a>>>,
        unwritable: Option<(usize, Failure)>,
    ) -> Self {
        let added = findings
            .iter()
            .filter_map(|f| match &f.fix {
                Some(Fix::Add(new)) => Some(new.clone()),
                _ => None,
            })
            .collect();
        let Reading {
            text,
            docs,
            release,
            warnings,
            ..
        } = reading;
        Analysis {
            docs,
            release,
            workloads,
            findings,
            added,
            warnings,
            written,
            unwritable,
            text,
        }
    }

    /// The edits per input document, in the order the rules made them: copies of what the
    /// findings hold.
    pub fn edits(&self) -> Vec<Vec<Edit>> {
        self.edits_of(|_| true)
    }

    /// [`Analysis::edits`] of the documents `wanted` says yes to (the others: none).
    fn edits_of(&self, wanted: impl Fn(usize) -> bool) -> Vec<Vec<Edit>> {
        let mut edits = vec![Vec::new(); self.docs.len()];
        for f in &self.findings {
            if let Some(Fix::Edit { doc, edits: e }) = &f.fix {
                if wanted(*doc) {
                    edits[*doc].extend(e.iter().cloned());
                }
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

    /// The output stream in pieces, in order: untouched documents are the input's own bytes
    /// (borrowed, not copied), edited and generated ones new text. Notes as [`Analysis::write`].
    pub fn output(&self) -> Result<(Vec<Cow<'_, str>>, Vec<String>), Failure> {
        if self.docs.is_empty() || self.docs.iter().all(|d| d.raw.trim().is_empty()) {
            // Helm 4 rejects empty output, and a chart that renders nothing sends 0 bytes.
            return Ok((vec!["# helm-ha: no resources\n".into()], Vec::new()));
        }
        // The edits of documents the groups did not write (the stream's own, mostly none).
        let edits = self.edits_of(|doc| self.written[doc].is_none());
        let mut out = Vec::new();
        let mut notes = Vec::new();
        // Untouched documents in a row go out as one stretch of the input.
        let mut untouched: Option<(usize, usize)> = None;
        let offset = |doc: &Doc<'_>| doc.raw.as_ptr() as usize - self.text.as_ptr() as usize;
        for doc in &self.docs {
            let own = match (&self.written[doc.index], &self.unwritable) {
                (Some((pieces, note)), _) => Some((
                    pieces.iter().map(|p| Cow::Borrowed(p.as_ref())).collect(),
                    note.clone(),
                )),
                (None, Some((at, e))) if *at == doc.index => return Err(e.clone()),
                (None, _) if edits[doc.index].is_empty() => None,
                (None, _) => Some(write::write_doc(doc, &edits[doc.index], doc.value())?),
            };
            match own {
                None => {
                    let start = offset(doc);
                    untouched = Some((untouched.map_or(start, |(s, _)| s), start + doc.raw.len()));
                }
                Some((pieces, note)) => {
                    out.extend(
                        untouched
                            .take()
                            .map(|(s, e)| Cow::Borrowed(&self.text[s..e])),
                    );
                    out.extend(pieces);
                    notes.extend(note);
                }
            }
        }
        out.extend(untouched.map(|(s, e)| Cow::Borrowed(&self.text[s..e])));
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
            match &new.written {
                Some(text) => out.push(Cow::Borrowed(text.as_ref())),
                None => out.push(write::new_document(&self.release, &self.docs, new)?.into()),
            }
        }
        Ok((out, notes))
    }
}

/// [`analyze`] with only `rules` (the rules' tests run a few of them through the pipeline).
#[cfg(test)]
pub(crate) fn analyze_rules<'a>(
    input: &'a [u8],
    policy: &Policy,
    rules: &[&'static dyn Rule],
) -> Result<Analysis<'a>, Failure> {
    let (text, read) = read::read(input, true, true)?;
    Reading::new(text, read, policy, None, None).run(
        policy,
        &Templates::default(),
        rules,
        Keep::Everything,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// Every rule over the whole stream before the next, with every document whole: the plain
    /// reading of the pipeline, which running workloads in groups must agree with.
    fn all_at_once<'a>(
        mut reading: Reading<'a>,
        policy: &Policy,
        templates: &Templates,
    ) -> Result<Analysis<'a>, Failure> {
        assert!(
            reading.shapes.iter().all(|f| !f.dropped),
            "a test stream small enough to keep whole"
        );
        let rules = rules::all();
        let facts = crate::classify::Facts::of(
            &reading.docs.iter().map(|d| d.value()).collect::<Vec<_>>(),
            reading.release.namespace.as_deref(),
        );
        let base = Base::new(
            reading
                .docs
                .iter_mut()
                .map(|d| d.parsed.value.take())
                .collect(),
        );
        let workloads: Vec<(Workload, Decision)> = std::mem::take(&mut reading.workloads)
            .into_iter()
            .map(|(w, _)| {
                let inputs = crate::classify::Inputs {
                    policy,
                    facts: &facts,
                };
                let d = crate::classify::classify(&w, w.object(base.value(w.doc)), &inputs);
                (w, d)
            })
            .collect();
        let mut cx = Cx::new(
            policy,
            &reading.release,
            templates,
            &base,
            Vec::new(),
            workloads,
            &[],
        );
        let mut findings = Vec::new();
        for rule in &rules {
            let found: Vec<(usize, Finding)> = cx
                .workloads
                .iter()
                .enumerate()
                .flat_map(|(i, (w, d))| rule.workload(&cx, w, d).into_iter().map(move |f| (i, f)))
                .collect();
            let streamed: Vec<(usize, Finding)> =
                rule.stream(&cx).into_iter().map(|f| (0, f)).collect();
            if let Some(failure) = cx.failure.borrow_mut().take() {
                return Err(failure);
            }
            for finding in merge(&cx.workloads, vec![found], streamed) {
                if let Some(fix) = &finding.fix {
                    cx.apply(fix)
                        .map_err(|e| groups::apply_failure(&reading.docs, &cx, fix, &finding, e))?;
                }
                findings.push(finding);
            }
        }
        let (local, workloads) = cx.into_parts();
        let mut values = base.into_values();
        for (doc, value) in local {
            values[doc] = value;
        }
        for (doc, value) in reading.docs.iter_mut().zip(values) {
            doc.parsed.value = value;
        }
        let written = (0..reading.docs.len()).map(|_| None).collect();
        Ok(Analysis::new(reading, workloads, findings, written, None))
    }

    /// The inputs the pipeline is held to: the shared fixtures, the golden cases, the emit data
    /// and generated streams.
    fn corpus() -> Vec<(String, Vec<u8>)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = root.join("tests/data");
        let mut paths: Vec<std::path::PathBuf> = ["default", "full", "ha"]
            .iter()
            .map(|n| {
                shared.join(format!(
                    "fixtures/plane-enterprise/plane-enterprise-{n}.yaml"
                ))
            })
            .filter(|p| p.exists())
            .collect();
        for dir in ["golden/cases", "tests/data/emit"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = entry.unwrap().path();
                paths.push(if p.is_dir() { p.join("input.yaml") } else { p });
            }
        }
        paths.sort();
        let mut inputs: Vec<(String, Vec<u8>)> = paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect();
        // Same-named workloads of different kinds, and of one kind in two namespaces and twice
        // in one: the last two kinds of grouping.
        let twice = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: nginx}]}}\n";
        let sts = twice.replace("kind: Deployment", "kind: StatefulSet");
        let other_ns = twice.replace("{name: web}", "{name: web, namespace: other}");
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 1, maxReplicas: 3}\n";
        inputs.push((
            "identities".into(),
            format!("{twice}---\n{sts}---\n{other_ns}---\n{twice}---\n{hpa}").into_bytes(),
        ));
        for seed in 1..4 {
            inputs.push((
                format!("gen-stream seed {seed}"),
                crate::gen_stream::generate(60_000, seed).into_bytes(),
            ));
        }
        inputs
    }

    /// `f` of every corpus stream under every profile: its name (with the profile), the input
    /// and the policy.
    fn each_case(mut f: impl FnMut(&str, &[u8], &Policy)) {
        for (name, input) in corpus() {
            for profile in crate::policy::profile_names() {
                let policy = crate::policy::load(Some(profile), None).unwrap();
                f(&format!("{name} ({profile})"), &input, &policy);
            }
        }
    }

    /// Two analyses of one case both succeed and pass `check`, or fail with the same message.
    /// Whether they succeeded.
    fn agree<'a>(
        case: &str,
        a: Result<Analysis<'a>, Failure>,
        b: Result<Analysis<'a>, Failure>,
        check: impl Fn(&Analysis<'a>, &Analysis<'a>),
    ) -> bool {
        match (a, b) {
            (Ok(a), Ok(b)) => {
                check(&a, &b);
                true
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string(), "{case}");
                false
            }
            (a, b) => panic!("{case}: {:?} vs {:?}", a.err(), b.err()),
        }
    }

    /// The two analyses found, changed and added the same, and named the same workloads.
    fn same_findings(case: &str, a: &Analysis<'_>, b: &Analysis<'_>) {
        assert_eq!(a.findings, b.findings, "{case}");
        assert_eq!(a.edits(), b.edits(), "{case}");
        assert_eq!(a.added, b.added, "{case}");
        assert_eq!(
            format!("{:?}", a.workloads),
            format!("{:?}", b.workloads),
            "{case}"
        );
    }

    #[test]
    fn groups_change_nothing() {
        let templates = Templates::default();
        let mut compared = 0;
        each_case(|case, input, policy| {
            // The groups read workloads' documents again, as in a large stream.
            let reading = |small| {
                read::read(input, true, small).map(|(t, r)| Reading::new(t, r, policy, None, None))
            };
            let grouped = reading(false)
                .and_then(|r| r.run(policy, &templates, &rules::all(), Keep::Everything));
            let at_once = reading(true).and_then(|r| all_at_once(r, policy, &templates));
            compared += usize::from(agree(case, grouped, at_once, |a, b| {
                same_findings(case, a, b);
                assert_eq!(a.warnings, b.warnings, "{case}");
                assert_eq!(
                    a.write().map_err(|e| e.to_string()),
                    b.write().map_err(|e| e.to_string()),
                    "{case}"
                );
            }));
        });
        assert!(compared >= 40, "only {compared} streams compared");
    }

    /// Rendering keeps less of the analysis (`Keep::Output`) and prints the same.
    #[test]
    fn keeping_only_the_output_prints_the_same() {
        let templates = Templates::default();
        each_case(|case, input, policy| {
            let analysis = |keep| {
                read::read(input, true, false).and_then(|(t, r)| {
                    Reading::new(t, r, policy, None, None).run(
                        policy,
                        &templates,
                        &rules::all(),
                        keep,
                    )
                })
            };
            agree(
                case,
                analysis(Keep::Output),
                analysis(Keep::Everything),
                |a, b| {
                    let reported = |a: &Analysis<'_>| {
                        a.findings
                            .iter()
                            .filter(|f| f.fix.is_none())
                            .cloned()
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(reported(a), reported(b), "{case}");
                    let added = |a: &Analysis<'_>| {
                        a.added
                            .iter()
                            .map(|n| (n.kind.clone(), n.name.clone()))
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(added(a), added(b), "{case}");
                    assert_eq!(
                        a.write().map_err(|e| e.to_string()),
                        b.write().map_err(|e| e.to_string()),
                        "{case}"
                    );
                },
            );
        });
    }

    /// The rules read nothing of a [`rules::METADATA_ONLY_KINDS`] document beyond what the
    /// reader keeps: every input analyses the same with whole documents.
    #[test]
    fn trimmed_documents_change_no_finding_edit_or_object() {
        let templates = Templates::default();
        let mut compared = 0;
        each_case(|case, input, policy| {
            let analysis = |trim| {
                read::read(input, trim, true).and_then(|(t, r)| {
                    Reading::new(t, r, policy, None, None).run(
                        policy,
                        &templates,
                        &rules::all(),
                        Keep::Everything,
                    )
                })
            };
            compared += usize::from(agree(case, analysis(true), analysis(false), |a, b| {
                same_findings(case, a, b)
            }));
        });
        assert!(compared >= 40, "only {compared} streams compared");
    }
}
