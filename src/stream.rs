//! The manifest stream: raw bytes cut into documents without a YAML parser, so every byte of a
//! document no rule touches can be written back unchanged.
//!
//! A line that starts at column 0 with `---` or `...` followed by white space or the end of the
//! line is always a document boundary in YAML (the c-forbidden production): no scalar can
//! contain one, so splitting on such lines is exact (YAML 1.2 specification, 9.1.2 "Document Markers").

use crate::error::{Failure, Located};
use crate::yaml::Lookup as _;
use crate::yaml::{self, Json, Str};

/// One document of the stream: its bytes and what they mean, borrowed from the input.
pub struct Doc<'a> {
    /// 0-based position in the input stream.
    pub index: usize,
    /// 1-based line of the stream where the chunk (marker line included) starts.
    pub line: usize,
    /// The chunk exactly as read: marker line, comments, body, `...` line.
    pub raw: &'a str,
    pub parsed: yaml::Parsed<'a>,
    /// What the document is, once its meaning was let go ([`Doc::let_go`]).
    identity: Option<Box<Identity<'a>>>,
}

/// What messages and the output directory ask of a document.
struct Identity<'a> {
    kind: Str<'a>,
    name: Str<'a>,
    /// Helm 4's filename annotation.
    file: Option<Str<'a>>,
}

impl<'a> Doc<'a> {
    pub fn new(index: usize, line: usize, raw: &'a str, parsed: yaml::Parsed<'a>) -> Self {
        Doc {
            index,
            line,
            raw,
            parsed,
            identity: None,
        }
    }

    pub fn value(&self) -> &Json<'a> {
        &self.parsed.value
    }

    /// Take the document's meaning, keeping only what it is (kind, name, Helm 4 filename) for
    /// messages and the output directory: a large stream cannot hold every document's meaning.
    pub fn let_go(&mut self) -> Json<'a> {
        let value = self.parsed.value.take();
        let str_at = |p: &str| value.at(p).and_then(Json::as_string).cloned();
        let file = value
            .at("/metadata/annotations")
            .and_then(|a| a.get(crate::HELM4_FILENAME_ANNOTATION))
            .and_then(Json::as_string)
            .cloned();
        if !value.is_null() {
            self.identity = Some(Box::new(Identity {
                kind: str_at("/kind").unwrap_or_default(),
                name: str_at("/metadata/name").unwrap_or_default(),
                file,
            }));
        }
        value
    }

    /// Empty, `null` or comment-only documents carry no object.
    pub fn is_empty(&self) -> bool {
        self.parsed.value.is_null() && self.identity.is_none()
    }

    /// `Kind/name` (or `Kind` alone) for messages; never any data.
    pub fn describe(&self) -> String {
        match &self.identity {
            Some(id) => describe_as(&id.kind, &id.name),
            None => describe(self.value()),
        }
    }

    /// The template path Helm reported: `# Source:` (Helm 3, pipes) or the Helm 4
    /// `postrenderer.helm.sh/postrender-filename` annotation.
    pub fn source(&self) -> Option<String> {
        let annotated = || match &self.identity {
            Some(id) => id.file.as_deref().map(str::to_string),
            None => self
                .value()
                .at("/metadata/annotations")
                .and_then(|a| a.get(crate::HELM4_FILENAME_ANNOTATION))
                .and_then(Json::as_str)
                .map(str::to_string),
        };
        source_comment(self.raw)
            .map(str::to_string)
            .or_else(annotated)
    }

    /// Location for error messages.
    pub fn at(&self, line_in_doc: usize) -> Located {
        self.at_object(line_in_doc, self.value())
    }

    /// [`Doc::at`] for the document meaning `value` (while the rules hold its meaning).
    pub fn at_object(&self, line_in_doc: usize, value: &Json<'_>) -> Located {
        let object = if value.is_null() && self.identity.is_some() {
            self.describe()
        } else {
            describe(value)
        };
        Located {
            doc: self.index,
            line: self.line + line_in_doc.saturating_sub(1),
            object,
        }
    }
}

/// `Kind/name` (or `Kind` alone) of a document meaning `value`, for messages; never any data.
pub fn describe(value: &Json<'_>) -> String {
    describe_as(
        value.get("kind").and_then(Json::as_str).unwrap_or(""),
        value
            .at("/metadata/name")
            .and_then(Json::as_str)
            .unwrap_or(""),
    )
}

fn describe_as(kind: &str, name: &str) -> String {
    match (kind, name) {
        ("", _) => "document".to_string(),
        (k, "") => k.to_string(),
        (k, n) => format!("{k}/{n}"),
    }
}

/// The `# Source: path` comment among a chunk's leading lines (Helm 3 writes it right after `---`).
pub fn source_comment(raw: &str) -> Option<&str> {
    raw.lines()
        .map(str::trim_end)
        .take_while(|l| l.is_empty() || l.starts_with('#') || is_marker(l.as_bytes(), b"---"))
        .find_map(|l| {
            l.trim_start_matches("---")
                .trim_start()
                .strip_prefix("# Source: ")
        })
}

fn is_marker(line: &[u8], m: &[u8; 3]) -> bool {
    line.len() >= 3
        && &line[..3] == m
        && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// Byte ranges of the chunks of `text`; concatenated they are `text` exactly. A `---` line starts
/// a chunk, a `...` line ends one.
pub fn split(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let (mut start, mut pos) = (0, 0);
    while pos < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..end];
        if is_marker(line, b"---") && pos > start {
            chunks.push(start..pos);
            start = pos;
        } else if is_marker(line, b"...") {
            chunks.push(start..end);
            start = end;
        }
        pos = end;
    }
    if start < bytes.len() {
        chunks.push(start..bytes.len());
    }
    chunks
}

/// Decode, split and parse a whole input stream. Every document must parse: a stream Kubernetes
/// would reject is refused here rather than passed on half-understood.
pub fn read(input: &[u8]) -> Result<Vec<Doc<'_>>, Failure> {
    read_with(input, false)
}

/// [`read`]; with `trim`, documents of kinds no rule reads keep only what rules see of them
/// ([`crate::rules::metadata_only`]).
pub fn read_with(input: &[u8], trim: bool) -> Result<Vec<Doc<'_>>, Failure> {
    let trimmed = |doc: &mut Doc<'_>| {
        if trim {
            crate::rules::metadata_only(&mut doc.parsed.value);
        }
    };
    Ok(read_each(input, input.len() <= KEEP_SPANS_BELOW, trimmed)?
        .1
        .into_iter()
        .map(|(doc, ())| doc)
        .collect())
}

/// The input as text, and every document with what [`read_each`]'s `each` made of it.
pub type Each<'a, R> = (&'a str, Vec<(Doc<'a>, R)>);

/// [`read`], and `each` of every document right after it is read, on the thread that read it
/// (what the caller keeps of a large stream is up to it), with the input as text. With
/// `spans`, documents a rule may edit keep their span trees (see [`KEEP_SPANS_BELOW`]).
pub fn read_each<'a, R: Send>(
    input: &'a [u8],
    spans: bool,
    each: impl Fn(&mut Doc<'a>) -> R + Sync,
) -> Result<Each<'a, R>, Failure> {
    let text = decode(input)?;
    // Each chunk with its index and first line, so that chunks can be parsed in any order.
    let mut chunks = Vec::new();
    let mut line = 1;
    for range in split(text) {
        let raw = &text[range];
        chunks.push((chunks.len(), line, raw));
        line += memchr::memchr_iter(b'\n', raw.as_bytes()).count();
    }
    let docs = crate::parallel::map(
        chunks,
        |(_, _, raw)| raw.len(),
        |(index, line, raw)| {
            let body = raw.strip_prefix('\u{feff}').unwrap_or(raw);
            // The span tree is about as large again as the document's meaning, and most documents
            // never need it; `yaml::edit` builds the tree of a document it is asked to edit anyway.
            let parsed = if spans && may_be_edited(body) {
                yaml::parse(body)
            } else {
                yaml::parse_value(body)
            };
            let parsed = parsed.map_err(|e| {
            Failure::input(
                Located { doc: index, line: line + e.line.saturating_sub(1), object: "document".into() },
                format!("invalid YAML at column {}: {}", e.col, e.message),
                "fix the chart template that renders this document (run `helm template` to see it)",
            )
        })?;
            let mut doc = Doc::new(index, line, raw, parsed);
            let r = each(&mut doc);
            Ok((doc, r))
        },
    );
    // The first failure in stream order, as on one thread.
    Ok((text, docs.into_iter().collect::<Result<_, _>>()?))
}

/// Up to this input size the span trees of documents a rule may edit are kept, so editing them
/// needs no second parse; above it, memory matters more (docs/benchmarks.md).
pub const KEEP_SPANS_BELOW: usize = 4 << 20;

/// Rules edit workloads (also inside a `kind: List`); every other document is only read. Told
/// from the text, before parsing: a column-0 `kind:` line naming a workload kind or `List`, or
/// no such line at all. A wrong guess costs time only (`yaml::edit` parses again).
fn may_be_edited(text: &str) -> bool {
    let kind = text.lines().find_map(|l| l.strip_prefix("kind:"));
    kind.is_none_or(|k| {
        let k = k
            .split(" #")
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\'']);
        k == "List"
            || ["apps/v1", "batch/v1"]
                .iter()
                .any(|api| crate::workload::Kind::parse(api, k).is_some())
    })
}

fn decode(input: &[u8]) -> Result<&str, Failure> {
    std::str::from_utf8(input).map_err(|e| {
        let before = &input[..e.valid_up_to()];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let col = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
        // The document that holds the byte: split the lossy text (markers are ASCII, so the
        // chunks are the same) and find the chunk containing the offset.
        let lossy = String::from_utf8_lossy(input);
        let doc = split(&lossy).iter().position(|r| r.contains(&e.valid_up_to())).unwrap_or(0);
        Failure::input(
            Located { doc, line, object: "stream".into() },
            format!("the input is not UTF-8 (invalid byte at column {col})"),
            "Kubernetes manifests must be UTF-8; re-encode the file or the chart value that carries this byte",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn pieces(text: &str) -> Vec<&str> {
        split(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn split_keeps_every_byte_and_cuts_on_column0_markers_only() {
        let text = "---\n# Source: a.yaml\na: 1\n---\nb: |\n  ---\n  ...\n--- # c\r\nc: 1\r\n...\nd: 2\n---x: 3\n";
        let got = pieces(text);
        assert_eq!(
            got,
            vec![
                "---\n# Source: a.yaml\na: 1\n",
                "---\nb: |\n  ---\n  ...\n",
                "--- # c\r\nc: 1\r\n...\n",
                "d: 2\n---x: 3\n"
            ]
        );
        assert_eq!(got.concat(), text);
    }

    #[test]
    fn split_without_leading_marker_and_without_final_newline() {
        assert_eq!(pieces("a: 1\n---\nb: 2"), vec!["a: 1\n", "---\nb: 2"]);
        assert_eq!(pieces(""), Vec::<&str>::new());
        assert_eq!(pieces("---\n---\n"), vec!["---\n", "---\n"]);
    }

    #[test]
    fn a_non_utf8_byte_names_its_own_document() {
        // Regression: the index counted every `---` before the byte (also `---x` and the marker
        // of the document itself), so it was one too high.
        let Err(Failure::Input { at, .. }) = read(b"---\nkind: A\n---x: 1\n---\nk: caf\xe9\n")
        else {
            panic!()
        };
        assert_eq!((at.doc, at.line), (1, 5));
        let Err(Failure::Input { at, .. }) = read(b"k: caf\xe9\n") else {
            panic!()
        };
        assert_eq!((at.doc, at.line), (0, 1));
    }

    #[test]
    fn source_comment_is_found_after_the_marker_only_in_the_header() {
        assert_eq!(
            source_comment("---\n# Source: c/templates/x.yaml\nkind: A\n"),
            Some("c/templates/x.yaml")
        );
        assert_eq!(
            source_comment("--- # Source: c/x.yaml\nkind: A\n"),
            Some("c/x.yaml")
        );
        assert_eq!(source_comment("kind: A\n# Source: late.yaml\n"), None);
    }
}
