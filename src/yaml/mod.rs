//! YAML the way Kubernetes reads it, edited without touching bytes no rule meant to change.
//!
//! Kubernetes clients (Helm, kubectl, the API server via `sigs.k8s.io/yaml`) read YAML with
//! go-yaml v2 (YAML 1.1 scalars) and turn it into JSON. The *meaning* of a document is that
//! JSON, so it is what this module computes ([`Parsed::value`]) and what every check compares.
//!
//! Edits are spliced into the original text (new fragments written by a YAML-1.1-safe emitter),
//! the result is parsed again and must mean exactly `input + edits`; when a splice is refused
//! (alias, anchored target, flow style it cannot extend) or the check fails, that one document is
//! re-serialised from the expected value instead.

mod apply;
mod block;
mod deserialize;
mod emit;
mod emit_plain;
mod json;
mod path;
mod resolve;
mod splice;
mod tree;
mod value;

use std::borrow::Cow;

pub use deserialize::from_json;
pub use emit::to_yaml;
pub use json::{Json, Map, Number, Str};
pub use path::{Path, Seg, ToPath};

/// An intended change to one document.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Set the value at `path`, creating missing mappings on the way (a null or empty value on
    /// the way counts as missing).
    Set(Path, Json<'static>),
    /// Remove the mapping key at `path` (no-op if absent).
    Remove(Path),
    /// Append an item to the sequence at `path` (created when absent, null or `[]`).
    Append(Path, Json<'static>),
}

/// A parse or edit failure. `line`/`col` are 1-based and relative to the text given to
/// [`parse`]. `message` never contains scalar content (documents may be Secrets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.col, self.message
        )
    }
}

impl std::error::Error for YamlError {}

/// A mapping key that occurs twice; go-yaml keeps the last one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// Dotted path of the key, e.g. `metadata.labels`.
    pub path: String,
    pub first_line: usize,
    pub line: usize,
}

/// The result of [`edit`].
#[derive(Clone, Debug, PartialEq)]
pub enum Edited {
    /// The edits were spliced into the original text; everything else is byte-identical.
    Spliced(String),
    /// The document had to be re-serialised; `reason` says why (for `--explain`).
    Reserialized { text: String, reason: String },
}

impl Edited {
    pub fn text(&self) -> &str {
        match self {
            Edited::Spliced(t) | Edited::Reserialized { text: t, .. } => t,
        }
    }
}

/// A parsed document: its go-yaml meaning plus what the splicer needs, borrowing from the
/// document's text.
pub struct Parsed<'t> {
    /// The JSON that `sigs.k8s.io/yaml` makes of the document (`Null` for an empty document).
    pub value: Json<'t>,
    pub duplicates: Vec<Duplicate>,
    tree: tree::Tree<'t>,
}

impl Parsed<'_> {
    /// Drop what only [`edit`] and [`Parsed::line_of`] need (the span tree and key table, several
    /// times the size of the text) for a document no rule is expected to edit. [`edit`] parses
    /// the text again if it is asked to edit it anyway; `line_of` then answers `None`.
    pub fn forget_spans(&mut self) {
        self.tree = tree::Tree::default();
    }

    fn spans_forgotten(&self) -> bool {
        self.tree.root.is_none()
    }

    /// 1-based line of the node at `path` (of its key, for mapping values), if it exists.
    pub fn line_of(&self, path: &[Seg]) -> Option<usize> {
        let mut node = self.tree.deref(self.tree.root?);
        let mut line = self.tree.nodes[node].line;
        for seg in path {
            match (&self.tree.nodes[node].kind, seg) {
                (tree::Kind::Map { entries, .. }, Seg::Key(k)) => {
                    let &(kn, vn) = entries
                        .iter()
                        .rev()
                        .find(|(kn, _)| resolve::key_of(&self.tree, *kn).as_deref() == Some(k))?;
                    line = self.tree.nodes[kn].line;
                    node = self.tree.deref(vn);
                }
                (tree::Kind::Seq { items, .. }, Seg::Index(i)) => {
                    let item = *items.get(*i)?;
                    line = self.tree.nodes[item].line;
                    node = self.tree.deref(item);
                }
                _ => return None,
            }
        }
        Some(line)
    }
}

/// Parse one document (a chunk from the stream splitter: marker line, comments and body).
pub fn parse(text: &str) -> Result<Parsed<'_>, YamlError> {
    let tree = tree::build(text)?;
    let Some(root) = tree.root else {
        return Ok(Parsed {
            value: Json::Null,
            duplicates: Vec::new(),
            tree,
        });
    };
    let mut r = resolve::Resolver::new(&tree);
    let value = r.resolve(root, 0, Some(&resolve::At::Root))?;
    let duplicates = r.duplicates;
    Ok(Parsed {
        value,
        duplicates,
        tree,
    })
}

/// What `text` means when nobody needs its spans: [`parse`] without the tree, which is not even
/// built when the block reader can read the document straight into its meaning.
pub fn parse_value(text: &str) -> Result<Parsed<'_>, YamlError> {
    match block::read_value(text) {
        Some(value) => Ok(Parsed {
            value,
            duplicates: Vec::new(),
            tree: tree::Tree::default(),
        }),
        None => {
            let mut parsed = parse(text)?;
            parsed.forget_spans();
            Ok(parsed)
        }
    }
}

/// `value` with `edits` applied, in order: what the document must mean after [`edit`].
pub fn apply<'a>(value: &Json<'a>, edits: &[Edit]) -> Result<Json<'a>, YamlError> {
    let mut v = value.clone();
    for e in edits {
        apply::apply_one(&mut v, e)?;
    }
    Ok(v)
}

/// [`apply`] on `value` itself, without a copy. On an error `value` may hold the edits before
/// the failing one.
pub fn apply_in_place(value: &mut Json<'_>, edits: &[Edit]) -> Result<(), YamlError> {
    for e in edits {
        apply::apply_one(value, e)?;
    }
    Ok(())
}

/// Apply `edits` to the document `text` (already parsed as `parsed`).
pub fn edit(text: &str, parsed: &Parsed<'_>, edits: &[Edit]) -> Result<Edited, YamlError> {
    edit_to(text, parsed, edits, None)
}

/// [`edit`], given what the document means after the edits when the caller has it already
/// (the pipeline applied the same edits to the same value): copying and editing the document's
/// meaning once more is then saved.
pub fn edit_to(
    text: &str,
    parsed: &Parsed<'_>,
    edits: &[Edit],
    after: Option<&Json<'_>>,
) -> Result<Edited, YamlError> {
    let (pieces, reserialized) = edit_in_pieces(text, parsed, edits, after)?;
    let text = pieces.concat();
    Ok(match reserialized {
        None => Edited::Spliced(text),
        Some(reason) => Edited::Reserialized { text, reason },
    })
}

/// [`edit_to`] in pieces: the stretches of `text` no edit touched, borrowed, and the new text
/// between them (a large stream's edited documents are kept until the whole stream is written,
/// and most of each is the original). With the reason, when the document had to be
/// re-serialised (one piece).
pub fn edit_in_pieces<'t>(
    text: &'t str,
    parsed: &Parsed<'_>,
    edits: &[Edit],
    after: Option<&Json<'_>>,
) -> Result<(Vec<Cow<'t, str>>, Option<String>), YamlError> {
    if let Some(d) = parsed.duplicates.first() {
        return Err(YamlError {
            line: d.line,
            col: 1,
            message: format!(
                "duplicate key `{}` at lines {} and {}; go-yaml keeps the last — remove one in the chart",
                d.path, d.first_line, d.line
            ),
        });
    }
    if edits.is_empty() {
        return Ok((vec![Cow::Borrowed(text)], None));
    }
    let applied;
    let expected = match after {
        Some(v) => v,
        None => {
            applied = apply(&parsed.value, edits)?;
            &applied
        }
    };
    // A forgotten tree is built again, but not the meaning: the caller still holds that.
    let rebuilt;
    let tree = if parsed.spans_forgotten() {
        rebuilt = tree::build(text)?;
        &rebuilt
    } else {
        &parsed.tree
    };
    let spliced = splice::Splicer::new(text, tree, expected).run(edits);
    let reason = match spliced {
        Ok(pieces) => {
            let out = pieces.concat();
            // The splice nearly always means what it should; checking that against the events
            // is far cheaper than building the meaning to compare.
            if block::means(&out, expected) {
                return Ok((pieces, None));
            }
            match parse_value(&out) {
                Ok(p) if p.value == *expected && p.duplicates.is_empty() => {
                    return Ok((pieces, None))
                }
                Ok(p) if p.value != *expected => {
                    "the spliced text did not mean the expected value".to_string()
                }
                Ok(_) => "the spliced text has a duplicate key".to_string(),
                Err(e) => format!("the spliced text does not parse ({})", e.message),
            }
        }
        Err(refusal) => refusal,
    };
    Ok((vec![Cow::Owned(reserialize(text, expected))], Some(reason)))
}

/// A column-0 `---` or `...` marker line (followed by a blank, line break or end of text).
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// The chunk written from scratch: its marker line and leading comments kept, then the
/// expected value, then `...` when the chunk had one.
fn reserialize(text: &str, expected: &Json<'_>) -> String {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::new();
    // A lone CR is a line break to YAML but not to `split_inclusive('\n')`: a "comment line"
    // holding one also holds content, and keeping it would duplicate that content (fuzzing).
    let lone_cr = |l: &str| l.trim_end_matches(['\r', '\n']).contains('\r');
    let mut lines = text.split_inclusive('\n').peekable();
    if let Some(first) = lines.peek().copied().filter(|l| is_marker(l, "---")) {
        let rest = first[3..].trim();
        if (rest.is_empty() || rest.starts_with('#')) && !lone_cr(first) {
            out.push_str(first.trim_end_matches(['\r', '\n']));
        } else {
            out.push_str("---");
        }
        out.push_str(nl);
        lines.next();
    }
    for l in lines.by_ref() {
        let t = l.trim();
        if !(t.is_empty() || t.starts_with('#')) || lone_cr(l) {
            break;
        }
        out.push_str(l.trim_end_matches(['\r', '\n']));
        out.push_str(nl);
    }
    if !expected.is_null() {
        out.push_str(&to_yaml(expected).replace('\n', nl));
    }
    if text.split_inclusive('\n').any(|l| is_marker(l, "...")) {
        out.push_str("...");
        out.push_str(nl);
    }
    out
}

/// Does the editor's cheap oracle recognise `text` as meaning what it means? (It may say no
/// when it cannot tell; the tests require yes on real charts.)
#[doc(hidden)]
pub fn cheap_oracle_recognises(text: &str) -> bool {
    parse(text).is_ok_and(|p| block::means(text, &p.value))
}

/// How the block reader and granit disagree on a document: a bug in the block reader.
#[doc(hidden)]
#[derive(Debug)]
pub enum Disagreement {
    /// It read the document's meaning directly, then declined to build its tree.
    DeclinedTree,
    /// The cheap check said the text means `other`, which it does not.
    MeansOther(Json<'static>),
    /// The direct meaning is not the meaning the full path reads.
    DirectDiffers {
        direct: Json<'static>,
        full: Json<'static>,
    },
    /// It read a meaning where the full path fails.
    FullPathFails(YamlError),
    /// The trees differ at node `at` (each node as `{:?}`, `None` past the end).
    TreesDiffer {
        at: usize,
        block_reader: String,
        granit: String,
    },
    /// It built a tree for what granit refuses.
    GranitRefuses(YamlError),
}

impl std::fmt::Display for Disagreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Disagreement::DeclinedTree => {
                write!(f, "the block reader read a meaning but declined the tree")
            }
            Disagreement::MeansOther(other) => {
                write!(f, "the text was said to mean something else: {other}")
            }
            Disagreement::DirectDiffers { direct, full } => {
                write!(
                    f,
                    "the direct meaning differs:\ndirect: {direct}\nfull:   {full}"
                )
            }
            Disagreement::FullPathFails(e) => write!(
                f,
                "the direct meaning was read where the full path fails: {e:?}"
            ),
            Disagreement::TreesDiffer {
                at,
                block_reader,
                granit,
            } => write!(
                f,
                "trees differ at node {at}:\nblock reader: {block_reader}\ngranit:       {granit}"
            ),
            Disagreement::GranitRefuses(e) => {
                write!(f, "the block reader accepted what granit refuses: {e:?}")
            }
        }
    }
}

impl std::error::Error for Disagreement {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Disagreement::FullPathFails(e) | Disagreement::GranitRefuses(e) => Some(e),
            _ => None,
        }
    }
}

/// How the block reader did on `text` against granit: `Ok(true)` it read the document and built
/// the tree granit builds, `Ok(false)` it declined (granit reads it), `Err` the two differ. For
/// the differential tests and the `block_reader` fuzz target.
#[doc(hidden)]
pub fn block_reader_agrees(text: &str) -> Result<bool, Disagreement> {
    let direct = block::read_value(text);
    let Some(fast) = block::read(text) else {
        return match direct {
            None => Ok(false),
            Some(_) => Err(Disagreement::DeclinedTree),
        };
    };
    if let Some(value) = direct {
        let mut other = value.clone();
        match &mut other {
            Json::Object(m) => {
                m.insert("helm-ha-extra", Json::Null);
            }
            v => *v = Json::Bool(true),
        }
        if block::means(text, &other) {
            return Err(Disagreement::MeansOther(other.into_owned()));
        }
        // And with its last leaf changed.
        fn change_last_leaf(v: &mut Json<'_>) {
            match v {
                Json::Object(m) if !m.is_empty() => {
                    change_last_leaf(m.values_mut().last().expect("non-empty"))
                }
                Json::Array(a) if !a.is_empty() => {
                    change_last_leaf(a.last_mut().expect("non-empty"))
                }
                v => {
                    *v = if v.is_string() {
                        Json::from(1)
                    } else {
                        Json::from("x")
                    }
                }
            }
        }
        let mut leaf = value.clone();
        change_last_leaf(&mut leaf);
        if block::means(text, &leaf) {
            return Err(Disagreement::MeansOther(leaf.into_owned()));
        }
        match parse(text) {
            Ok(p) if p.value == value && p.duplicates.is_empty() => {}
            Ok(p) => {
                return Err(Disagreement::DirectDiffers {
                    direct: value.into_owned(),
                    full: p.value.into_owned(),
                })
            }
            Err(e) => return Err(Disagreement::FullPathFails(e)),
        }
    }
    match tree::build_with_granit(text) {
        Ok(slow) if slow == fast => Ok(true),
        Ok(slow) => {
            let at = fast
                .nodes
                .iter()
                .zip(&slow.nodes)
                .position(|(a, b)| a != b)
                .unwrap_or(fast.nodes.len().min(slow.nodes.len()));
            Err(Disagreement::TreesDiffer {
                at,
                block_reader: format!("{:?}", fast.nodes.get(at)),
                granit: format!("{:?}", slow.nodes.get(at)),
            })
        }
        Err(e) => Err(Disagreement::GranitRefuses(e)),
    }
}
