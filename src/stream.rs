//! The manifest stream: raw bytes cut into documents without a YAML parser, so every byte of a
//! document no rule touches can be written back unchanged.
//!
//! A line that starts at column 0 with `---` or `...` followed by white space or the end of the
//! line is always a document boundary in YAML (the c-forbidden production): no scalar can
//! contain one, so splitting on such lines is exact (YAML 1.2 specification, 9.1.2 "Document Markers").

use crate::error::{Failure, Located};
use crate::yaml::{self, Json};

/// One document of the stream: its bytes and what they mean, borrowed from the input.
pub struct Doc<'a> {
    /// 0-based position in the input stream.
    pub index: usize,
    /// 1-based line of the stream where the chunk (marker line included) starts.
    pub line: usize,
    /// The chunk exactly as read: marker line, comments, body, `...` line.
    pub raw: &'a str,
    pub parsed: yaml::Parsed<'a>,
}

impl<'a> Doc<'a> {
    pub fn new(index: usize, line: usize, raw: &'a str, parsed: yaml::Parsed<'a>) -> Self {
        Doc {
            index,
            line,
            raw,
            parsed,
        }
    }

    pub fn value(&self) -> &Json<'a> {
        &self.parsed.value
    }

    /// Empty, `null` or comment-only documents carry no object.
    pub fn is_empty(&self) -> bool {
        self.parsed.value.is_null()
    }

    /// `Kind/name` (or `Kind` alone) for messages; never any data.
    pub fn describe(&self) -> String {
        describe(self.value())
    }

    /// The template path Helm reported: `# Source:` (Helm 3, pipes) or the Helm 4
    /// `postrenderer.helm.sh/postrender-filename` annotation.
    pub fn source(&self) -> Option<String> {
        let annotated = || {
            self.value()
                .at("metadata.annotations")
                .and_then(|a| a.get(crate::HELM4_FILENAME_ANNOTATION))
                .and_then(Json::as_str)
                .map(str::to_string)
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
        Located {
            doc: self.index,
            line: self.line + line_in_doc.saturating_sub(1),
            object: describe(value),
        }
    }
}

/// `Kind/name` (or `Kind` alone) of a document meaning `value`, for messages; never any data.
pub fn describe(value: &Json<'_>) -> String {
    let kind = value.get("kind").and_then(Json::as_str).unwrap_or("");
    let name = value
        .at("metadata.name")
        .and_then(Json::as_str)
        .unwrap_or("");
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
    read_text(decode(input)?)
}

/// [`read`] of a stream already decoded ([`decode`]).
pub fn read_text(text: &str) -> Result<Vec<Doc<'_>>, Failure> {
    // Each chunk with its index and first line, so that chunks can be parsed in any order.
    let mut chunks = Vec::new();
    let mut line = 1;
    for range in split(text) {
        let raw = &text[range];
        chunks.push((chunks.len(), line, raw));
        line += memchr::memchr_iter(b'\n', raw.as_bytes()).count();
    }
    // The first failure in stream order, whatever thread met it.
    parse_all(chunks, text.len()).into_iter().collect()
}

/// Inputs at least this large are parsed on every core. Parsing is most of a large render's
/// run: on two cores kyverno's 5.9 MB render takes about a fifth less (docs/benchmarks.md);
/// below this, starting a thread costs more than it saves.
const PARALLEL_FROM: usize = 1 << 20;

/// Every chunk `(index, first line, text)` parsed, in order: on one thread, or for a large
/// input in contiguous runs of about equal size, one per core.
fn parse_all(chunks: Vec<(usize, usize, &str)>, bytes: usize) -> Vec<Result<Doc<'_>, Failure>> {
    let threads = if bytes < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(chunks.len())
    };
    if threads <= 1 {
        return chunks.into_iter().map(parse_chunk).collect();
    }
    let per_thread = bytes.div_ceil(threads);
    let mut runs: Vec<Vec<(usize, usize, &str)>> = vec![Vec::new()];
    let mut taken = 0;
    for chunk in chunks {
        if taken >= per_thread * runs.len() && runs.len() < threads {
            runs.push(Vec::new());
        }
        taken += chunk.2.len();
        runs.last_mut().expect("one run at least").push(chunk);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| s.spawn(|| run.into_iter().map(parse_chunk).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            // A panic in a worker is a bug; re-raise it here rather than lose documents.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// One chunk read for its meaning only: the span tree is several times the size of the text,
/// and `yaml::edit` builds the tree of the few documents the rules edit.
fn parse_chunk((index, line, raw): (usize, usize, &str)) -> Result<Doc<'_>, Failure> {
    let body = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let parsed = yaml::parse_value(body).map_err(|e| {
        Failure::input(
            Located {
                doc: index,
                line: line + e.line.saturating_sub(1),
                object: "document".into(),
            },
            format!("invalid YAML at column {}: {}", e.col, e.message),
            "fix the chart template that renders this document (run `helm template` to see it)",
        )
    })?;
    Ok(Doc::new(index, line, raw, parsed))
}

/// The input as text: Kubernetes manifests are UTF-8.
pub fn decode(input: &[u8]) -> Result<&str, Failure> {
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
    fn a_large_stream_reads_the_same_on_every_core_as_on_one() {
        let text = crate::gen_stream::generate(2 * PARALLEL_FROM, 7);
        fn chunks(t: &str) -> Vec<(usize, usize, &str)> {
            let mut line = 1;
            split(t)
                .into_iter()
                .enumerate()
                .map(|(i, r)| {
                    let raw = &t[r];
                    let at = line;
                    line += raw.matches('\n').count();
                    (i, at, raw)
                })
                .collect()
        }
        let text = text.as_str();
        let one = parse_all(chunks(text), 0);
        let many = parse_all(chunks(text), text.len());
        assert_eq!(one.len(), many.len());
        for (a, b) in one.iter().zip(&many) {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            assert_eq!((a.index, a.line, a.raw), (b.index, b.line, b.raw));
            assert_eq!(a.value(), b.value());
        }
        // Two broken documents far apart: the first is reported, as on one thread.
        let broken = format!("{text}---\na: [\n---\nb: {{\n");
        let Err(Failure::Input { at, .. }) = read(broken.as_bytes()) else {
            panic!("refused")
        };
        assert_eq!(at.doc, one.len());
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
