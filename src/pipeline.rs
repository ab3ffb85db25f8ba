//! The pipeline: read the stream, find and classify workloads, run every rule over the documents
//! in order, then write the stream back. `render` and `check` share everything up to the writing.

use crate::classify::Decision;
use crate::error::Failure;
use crate::policy::Policy;
use crate::rules::{self, Cx, Finding, Fix, NewDoc, Severity};
use crate::stream::{self, Doc};
use crate::templates::Templates;
use crate::workload::{self, Release, Workload};
use crate::yaml::{self, Edit, Edited, Json, Seg};

/// Everything known about a stream after the rules ran. Each document's `parsed.value` is what
/// it means after its edits.
pub struct Analysis<'a> {
    pub docs: Vec<Doc<'a>>,
    pub release: Release,
    pub workloads: Vec<(Workload, Decision)>,
    pub findings: Vec<Finding>,
    /// Edits per input document, in the order the rules made them.
    pub edits: Vec<Vec<Edit>>,
    pub added: Vec<NewDoc>,
    /// Things the user should know that are not findings (duplicate keys, …).
    pub warnings: Vec<String>,
}

/// [`analyze_with`] and the built-in templates.
pub fn analyze<'a>(input: &'a [u8], policy: &Policy, namespace: Option<String>, release: Option<String>) -> Result<Analysis<'a>, Failure> {
    analyze_with(input, policy, namespace, release, &Templates::default())
}

/// Read, classify and run every rule; generated objects are rendered from `templates`.
pub fn analyze_with<'a>(input: &'a [u8], policy: &Policy, namespace: Option<String>, release: Option<String>, templates: &Templates) -> Result<Analysis<'a>, Failure> {
    analyze_docs(stream::read_with(input, true)?, policy, namespace, release, templates)
}

fn analyze_docs<'a>(mut docs: Vec<Doc<'a>>, policy: &Policy, namespace: Option<String>, release: Option<String>, templates: &Templates) -> Result<Analysis<'a>, Failure> {
    let mut warnings = Vec::new();
    for doc in &docs {
        check_object(doc)?;
        for d in &doc.parsed.duplicates {
            warnings.push(format!(
                "{}: duplicate key `{}` (lines {} and {}); Kubernetes keeps the last one",
                doc.at(d.line),
                d.path,
                doc.line + d.first_line - 1,
                doc.line + d.line - 1
            ));
        }
    }
    let release = Release::infer(&docs, namespace, release);
    let mut cx = Cx::new(policy, &release, &mut docs, templates);
    let mut findings = Vec::new();
    let mut edits = vec![Vec::new(); docs.len()];
    for rule in rules::all() {
        let found = rule.check(&cx);
        if let Some(failure) = cx.failure.borrow_mut().take() {
            return Err(failure);
        }
        for finding in found {
            if let Some(fix) = &finding.fix {
                let doc = finding.doc.unwrap_or(0);
                cx.apply(fix).map_err(|e| {
                    let at = docs[doc].at_object(e.line, &cx.values[doc]);
                    Failure::input(at, format!("cannot apply {}: {}", finding.rule.code, e.message), "fix the object in the chart or exclude the service in the policy")
                })?;
                if let Fix::Edit { doc, edits: e } = fix {
                    edits[*doc].extend(e.iter().cloned());
                }
            }
            findings.push(finding);
        }
    }
    let Cx { workloads, added, values, .. } = cx;
    for (doc, value) in docs.iter_mut().zip(values) {
        doc.parsed.value = value;
    }
    Ok(Analysis { docs, release, workloads, findings, edits, added, warnings })
}

/// Objects Kubernetes could not decode are refused here, before anything is written.
fn check_object(doc: &Doc<'_>) -> Result<(), Failure> {
    let fail = |what: String, fix: &str| Err(Failure::input(doc.at(1), what, fix));
    let v = doc.value();
    match v {
        Json::Null => return Ok(()),
        Json::Object(_) => {}
        Json::Array(_) => return fail("a document must be one Kubernetes object; this one is a list".into(), "emit one object per document (or a `kind: List`)"),
        _ => return fail("a document must be one Kubernetes object; this one is a scalar".into(), "check the template for stray text"),
    }
    for (path, obj) in workload::objects(v) {
        let at = if path.is_empty() { String::new() } else { format!(" (List item {})", path.len()) };
        for field in ["apiVersion", "kind"] {
            if obj.get(field).and_then(Json::as_str).is_none_or(str::is_empty) {
                return fail(format!("object{at} has no `{field}`"), "every Kubernetes object needs apiVersion and kind");
            }
        }
        if obj.get("kind").and_then(Json::as_str) == Some("Secret") {
            check_secret(obj).or_else(|what| fail(what, "`data` values must be base64 strings (use `stringData` for plain text)"))?;
        }
    }
    if v.get("kind").and_then(Json::as_str) == Some("List") && !v.get("items").is_some_and(|i| i.is_array() || i.is_null()) {
        return fail("`kind: List` without an `items` list".into(), "put the objects under `items:`");
    }
    Ok(())
}

/// A Secret's `data` must decode; the message names the key, never the value.
fn check_secret(obj: &Json<'_>) -> Result<(), String> {
    let Some(data) = obj.get("data") else { return Ok(()) };
    let Some(map) = data.as_object() else { return Err("Secret `data` is not a mapping".into()) };
    for (key, value) in map {
        match value {
            Json::String(s) if is_base64(s.as_str()) => {}
            Json::Null => {}
            Json::String(_) => return Err(format!("Secret data key `{key}` is not valid base64")),
            _ => return Err(format!("Secret data key `{key}` is not a string")),
        }
    }
    Ok(())
}

fn is_base64(s: &str) -> bool {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = s.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    s.len().is_multiple_of(4) && s.len() - body <= 2 && s[..body].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

impl<'a> Analysis<'a> {
    /// Findings that stop `render`: errors no fix resolves.
    pub fn refusals(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error && f.fix.is_none())
    }

    /// The output stream as one string, and a note for each document that had to be
    /// re-serialised.
    pub fn write(&self) -> Result<(String, Vec<String>), Failure> {
        self.output().map(|(pieces, notes)| (pieces.concat(), notes))
    }

    /// The output stream in pieces, in order: untouched documents are the input's own bytes
    /// (borrowed, not copied), edited and generated ones new text. Notes as [`Analysis::write`].
    pub fn output(&self) -> Result<(Vec<std::borrow::Cow<'a, str>>, Vec<String>), Failure> {
        if self.docs.is_empty() || self.docs.iter().all(|d| d.raw.trim().is_empty()) {
            // Helm 4 rejects empty output, and a chart that renders nothing sends 0 bytes.
            return Ok((vec!["# helm-ha: no resources\n".into()], Vec::new()));
        }
        let mut out = Vec::with_capacity(self.docs.len() + self.added.len() + 1);
        let mut notes = Vec::new();
        // Edited documents are spliced (and checked) independently: on threads for large streams.
        let work = |d: &Doc<'_>| if self.edits[d.index].is_empty() { 0 } else { d.raw.len() };
        for written in crate::parallel::map(&self.docs, work, |doc| self.write_doc(doc)) {
            let (text, note) = written?;
            out.push(text);
            notes.extend(note);
        }
        if !self.added.is_empty() && out.iter().rev().find(|p| !p.is_empty()).is_some_and(|last| !last.ends_with('\n')) {
            out.push("\n".into());
        }
        for new in &self.added {
            out.push(self.new_document(new)?.into());
        }
        Ok((out, notes))
    }

    /// One input document as it is written, and the note when it had to be re-serialised.
    fn write_doc(&self, doc: &Doc<'a>) -> Result<(std::borrow::Cow<'a, str>, Option<String>), Failure> {
        let edits = &self.edits[doc.index];
        if edits.is_empty() {
            return Ok((doc.raw.into(), None));
        }
        let text = doc.raw.strip_prefix('\u{feff}').unwrap_or(&doc.raw);
        // A BOM is kept where it was, also on an edited first document.
        let with_bom = |t: String| if text.len() < doc.raw.len() { format!("\u{feff}{t}") } else { t };
        match yaml::edit_to(text, &doc.parsed, edits, Some(&doc.parsed.value)) {
            Ok(Edited::Spliced(t)) => Ok((with_bom(t).into(), None)),
            Ok(Edited::Reserialized { text, reason }) => {
                let note = format!("{}: re-serialised (comments and formatting inside it are not kept): {reason}", doc.at(1));
                Ok((with_bom(text).into(), Some(note)))
            }
            Err(e) => Err(Failure::input(doc.at(e.line), e.message, "fix the object in the chart, or exclude the service in the policy")),
        }
    }

    /// A generated document: `# Source:` for Helm 3 and pipes; under Helm 4 the filename
    /// annotation instead, which Helm turns into the `# Source:` line and removes.
    fn new_document(&self, new: &NewDoc) -> Result<String, Failure> {
        let file = format!("{}/{}-{}.yaml", self.release.chart.as_deref().map_or("helm-ha".to_string(), |c| format!("{c}/templates/helm-ha")), new.kind.to_ascii_lowercase(), new.name);
        if !self.release.helm4 {
            return Ok(format!("---\n# Source: {file}\n{}", yaml::to_yaml(&new.value)));
        }
        let mut path = yaml::path("metadata.annotations");
        path.push(Seg::Key(crate::HELM4_FILENAME_ANNOTATION.into()));
        let annotated = yaml::apply(&new.value, &[Edit::Set(path, Json::from(file))]).map_err(|e| {
            Failure::input(self.docs[new.for_doc].at(1), format!("cannot annotate generated {} {}: {}", new.kind, new.name, e.message), "check the template in --templates")
        })?;
        Ok(format!("---\n{}", yaml::to_yaml(&annotated)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules read nothing of a [`crate::rules::METADATA_ONLY_KINDS`] document beyond what the
    /// reader keeps: every fixture and edge case analyses the same with whole documents.
    #[test]
    fn trimmed_documents_change_no_finding_edit_or_object() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let shared = std::env::var_os("HELM_HA_SHARED").map_or_else(|| root.join("../shared"), std::path::PathBuf::from);
        let mut inputs: Vec<std::path::PathBuf> = ["default", "full", "ha"].iter().map(|n| shared.join(format!("fixtures/plane-enterprise/plane-enterprise-{n}.yaml"))).filter(|p| p.exists()).collect();
        for dir in ["golden/cases", "tests/data/emit"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let p = entry.unwrap().path();
                inputs.push(if p.is_dir() { p.join("input.yaml") } else { p });
            }
        }
        let templates = Templates::default();
        let mut compared = 0;
        for path in inputs.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
            let input = std::fs::read(path).unwrap();
            for profile in crate::policy::profile_names() {
                let policy = crate::policy::load(Some(profile), None).unwrap();
                let analysis = |trim| stream::read_with(&input, trim).and_then(|docs| analyze_docs(docs, &policy, None, None, &templates));
                match (analysis(true), analysis(false)) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.findings, b.findings, "{}", path.display());
                        assert_eq!(a.edits, b.edits, "{}", path.display());
                        assert_eq!(a.added, b.added, "{}", path.display());
                        assert_eq!(format!("{:?}", a.workloads), format!("{:?}", b.workloads), "{}", path.display());
                        compared += 1;
                    }
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("{}: {:?} vs {:?}", path.display(), a.err(), b.err()),
                }
            }
        }
        assert!(compared >= 40, "only {compared} streams compared");
    }

    #[test]
    fn base64_is_checked_without_decoding() {
        assert!(is_base64("cGFzc3dvcmQ="));
        assert!(is_base64(""));
        assert!(is_base64("cGFz\n c3dv"));
        assert!(!is_base64("not base64!"));
        assert!(!is_base64("abc"));
        assert!(!is_base64("a==="));
    }
}
