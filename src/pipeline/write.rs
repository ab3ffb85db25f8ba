//! Writing documents: an input document with its edits spliced in, and an added one.

use std::borrow::Cow;

use crate::error::Failure;
use crate::rules::NewDoc;
use crate::stream::Doc;
use crate::workload::Release;
use crate::yaml::{self, Edit, Json, Path};

/// A document as written: in pieces (what it kept of its text borrowed), and the note when it
/// had to be re-serialised.
type Written<'a> = (Vec<Cow<'a, str>>, Option<String>);

/// One input document as it is written with `edits` (meaning `value` after them), and the note
/// when it had to be re-serialised.
pub(super) fn write_doc<'a>(
    doc: &Doc<'a>,
    edits: &[Edit],
    value: &Json<'_>,
) -> Result<Written<'a>, Failure> {
    if edits.is_empty() {
        return Ok((vec![Cow::Borrowed(doc.raw)], None));
    }
    let text = doc.raw.strip_prefix('\u{feff}').unwrap_or(doc.raw);
    let (mut pieces, reserialized) = yaml::edit_in_pieces(text, &doc.parsed, edits, Some(value))
        .map_err(|e| {
            Failure::input(
                doc.at_object(e.line, value),
                e.message,
                "fix the object in the chart, or exclude the service in the policy",
            )
        })?;
    // A BOM is kept where it was, also on an edited first document.
    if text.len() < doc.raw.len() {
        pieces.insert(0, Cow::Borrowed(&doc.raw[..doc.raw.len() - text.len()]));
    }
    let note = reserialized.map(|reason| {
        format!(
            "{}: re-serialised (comments and formatting inside it are not kept): {reason}",
            doc.at_object(1, value)
        )
    });
    Ok((pieces, note))
}

/// A generated document: `# Source:` for Helm 3 and pipes; under Helm 4 the filename
/// annotation instead, which Helm turns into the `# Source:` line and removes.
pub(super) fn new_document(
    release: &Release,
    docs: &[Doc<'_>],
    new: &NewDoc,
) -> Result<String, Failure> {
    let file = format!(
        "{}/{}-{}.yaml",
        release
            .chart
            .as_deref()
            .map_or("helm-ha".to_string(), |c| format!("{c}/templates/helm-ha")),
        new.kind.to_ascii_lowercase(),
        new.name
    );
    if !release.helm4 {
        return Ok(format!(
            "---\n# Source: {file}\n{}",
            yaml::to_yaml(&new.value)
        ));
    }
    let path = Path::dotted("metadata.annotations").key(crate::HELM4_FILENAME_ANNOTATION);
    let annotated = yaml::apply(&new.value, &[Edit::Set(path, Json::from(file))]).map_err(|e| {
        Failure::input(
            docs[new.for_doc].at(1),
            format!(
                "cannot annotate generated {} {}: {}",
                new.kind, new.name, e.message
            ),
            "check the template in --templates",
        )
    })?;
    Ok(format!("---\n{}", yaml::to_yaml(&annotated)))
}
