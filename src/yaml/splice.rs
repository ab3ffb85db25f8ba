//! Splice edits into the original text. Every new fragment is rendered from the *expected*
//! value, so several edits under one new key become one insertion. Anything unusual is refused
//! with a reason (the caller then re-serialises the document).

use std::borrow::Cow;

use granit_parser::ScalarStyle;

use super::emit::{self, Style};
use super::resolve::{go_resolve, Scalar};
use super::tree::{Kind, Node, NodeId, Tree};
use super::{Edit, Json, Path, Seg};

type Refusal = String;

/// One planned change, before it is turned into text.
#[derive(Debug, PartialEq)]
enum Op {
    /// New entry `key: expected[path]` at the end of block mapping `map`.
    InsertEntry { map: NodeId, path: Path },
    /// Replace the value of the entry `key` (value node `value`) with `expected[path]`.
    ReplaceValue {
        key: NodeId,
        value: NodeId,
        path: Path,
    },
    /// Append `expected[path][from..]` to block sequence `seq`.
    AppendItems {
        seq: NodeId,
        path: Path,
        from: usize,
    },
    /// Delete the entry `key`/`value` of block mapping `map`.
    RemoveEntry {
        map: NodeId,
        key: NodeId,
        value: NodeId,
    },
}

/// A text change: replace `start..end` by `text`. `col` orders insertions at one point
/// (deeper first, so an inner addition comes before an outer one).
#[derive(Debug)]
struct Splice {
    start: usize,
    end: usize,
    text: String,
    col: usize,
}

pub(crate) struct Splicer<'t, 'a> {
    text: &'t str,
    tree: &'a Tree<'a>,
    expected: &'a Json<'a>,
    style: Style,
    ops: Vec<Op>,
    /// Paths whose text is already rendered from `expected` by an op.
    covered: Vec<Path>,
}

// Byte searches: `pos` may be inside a multi-byte character (e.g. `end - 1` of a plain scalar
// ending in `ߞ`, found by fuzzing); a `\n` byte is always a character of its own.
fn line_start(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

fn line_end_after(text: &str, pos: usize) -> usize {
    text.as_bytes()[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| pos + i + 1)
}

/// End of a quoted scalar starting at `start` (granit's end can run over a same-line comment).
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let q = *b.get(start)?;
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if q == b'"' => i += 2,
            c if c == q => {
                if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                } else {
                    return Some(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    None
}

impl<'t, 'a> Splicer<'t, 'a> {
    pub fn new(text: &'t str, tree: &'a Tree<'a>, expected: &'a Json<'a>) -> Self {
        let style = detect_style(text, tree);
        Splicer {
            text,
            tree,
            expected,
            style,
            ops: Vec::new(),
            covered: Vec::new(),
        }
    }

    fn node(&self, id: NodeId) -> &'a Node<'a> {
        &self.tree.nodes[id]
    }

    /// Plan every edit, render, and return the new text in pieces: the untouched stretches of the
    /// original borrowed, new fragments owned.
    pub fn run(mut self, edits: &[Edit]) -> Result<Vec<Cow<'t, str>>, Refusal> {
        for e in edits {
            self.plan(e)?;
        }
        let mut splices = Vec::new();
        for op in std::mem::take(&mut self.ops) {
            self.realize(&op, &mut splices)?;
        }
        self.apply(splices)
    }

    fn push(&mut self, op: Op, covers: Option<Path>) {
        if !self.ops.contains(&op) {
            self.ops.push(op);
        }
        if let Some(p) = covers {
            self.covered.push(p);
        }
    }

    /// A plain null (`key:`, `~`, `null`) or any flow collection: replaced by a block rendering.
    fn is_emptyish(&self, id: NodeId) -> bool {
        let n = self.node(id);
        match &n.kind {
            Kind::Scalar {
                value,
                style: ScalarStyle::Plain,
            } => n.tag.is_none() && go_resolve(value) == Scalar::Null,
            Kind::Seq { flow, .. } | Kind::Map { flow, .. } => *flow,
            _ => false,
        }
    }

    fn check_plain(&self, id: NodeId) -> Result<(), Refusal> {
        let n = self.node(id);
        if matches!(n.kind, Kind::Alias(_)) {
            return Err("the path goes through an alias".into());
        }
        if n.anchor != 0 {
            return Err("the path goes through an anchored node".into());
        }
        Ok(())
    }

    fn plan(&mut self, edit: &Edit) -> Result<(), Refusal> {
        let (path, remove) = match edit {
            Edit::Set(p, _) | Edit::Append(p, _) => (p, false),
            Edit::Remove(p) => (p, true),
        };
        if self.covered.iter().any(|c| path.starts_with(c)) {
            return Ok(());
        }
        let mut node = self.tree.root.ok_or("the document is empty")?;
        // The entry (key, value, mapping) whose value is `node`.
        let mut entry: Option<(NodeId, NodeId, NodeId)> = None;
        for (i, seg) in path.iter().enumerate() {
            self.check_plain(node)?;
            let n = self.node(node);
            match (&n.kind, seg) {
                (
                    Kind::Map {
                        flow: false,
                        entries,
                    },
                    Seg::Key(k),
                ) => {
                    let found = entries.iter().rev().find(|(kn, _)| {
                        super::resolve::key_of(self.tree, *kn).as_deref() == Some(k)
                    });
                    match found {
                        Some(&(kn, vn)) => {
                            entry = Some((kn, vn, node));
                            node = vn;
                        }
                        None if remove => return Ok(()),
                        None => {
                            let p = Path::from(path[..=i].to_vec());
                            self.push(
                                Op::InsertEntry {
                                    map: node,
                                    path: p.clone(),
                                },
                                Some(p),
                            );
                            return Ok(());
                        }
                    }
                }
                (Kind::Seq { flow: false, items }, Seg::Index(j)) => {
                    node = *items.get(*j).ok_or("index beyond the sequence")?;
                    entry = None;
                }
                _ if remove
                    && (self.is_emptyish(node) || matches!(n.kind, Kind::Scalar { .. })) =>
                {
                    if !matches!(n.kind, Kind::Seq { .. } | Kind::Map { .. }) {
                        return Ok(()); // nothing below a scalar to remove
                    }
                    return self.replace(entry, &path[..i]);
                }
                _ if self.is_emptyish(node) => return self.replace(entry, &path[..i]),
                _ => return Err("the path goes through a scalar or a block sequence".into()),
            }
        }
        self.check_plain(node)?;
        match edit {
            Edit::Remove(_) => {
                let (key, value, map) = entry.ok_or("only mapping keys can be removed")?;
                self.push(Op::RemoveEntry { map, key, value }, None);
                Ok(())
            }
            Edit::Append(..) => match &self.node(node).kind {
                Kind::Seq { flow: false, items } => {
                    let op = Op::AppendItems {
                        seq: node,
                        path: path.clone(),
                        from: items.len(),
                    };
                    if !self
                        .ops
                        .iter()
                        .any(|o| matches!(o, Op::AppendItems { seq, .. } if *seq == node))
                    {
                        self.push(op, None);
                    }
                    Ok(())
                }
                _ if self.is_emptyish(node) => self.replace(entry, path),
                _ => Err("append target is not a sequence".into()),
            },
            Edit::Set(..) => self.replace(entry, path),
        }
    }

    fn replace(
        &mut self,
        entry: Option<(NodeId, NodeId, NodeId)>,
        path: &[Seg],
    ) -> Result<(), Refusal> {
        let (key, value, _) = entry.ok_or("cannot replace a node that is not a mapping value")?;
        self.check_plain(value)?;
        let p = Path::from(path.to_vec());
        self.push(
            Op::ReplaceValue {
                key,
                value,
                path: p.clone(),
            },
            Some(p),
        );
        Ok(())
    }

    fn expected_at(&self, path: &[Seg]) -> Result<&'a Json<'a>, Refusal> {
        self.expected
            .at(path)
            .ok_or_else(|| "the expected value has no node at the path".into())
    }

    /// Where text goes after node `id`: after the line of its last token, or, when that token is
    /// a block scalar (whose span runs to the next token), at the start of the line where it ends.
    fn after(&self, mut id: NodeId) -> usize {
        loop {
            match &self.node(id).kind {
                Kind::Map {
                    flow: false,
                    entries,
                } if !entries.is_empty() => id = entries[entries.len() - 1].1,
                Kind::Seq { flow: false, items } if !items.is_empty() => {
                    id = items[items.len() - 1]
                }
                _ => break,
            }
        }
        let n = self.node(id);
        let end = self.scalar_end(id);
        if n.is_block_scalar() {
            if end >= self.text.len() {
                self.text.len()
            } else {
                line_start(self.text, end)
            }
        } else {
            line_end_after(self.text, end.saturating_sub(1).max(n.start))
        }
    }

    /// End of a node's own tokens, correcting granit's quoted-scalar quirk.
    fn scalar_end(&self, id: NodeId) -> usize {
        let n = self.node(id);
        match &n.kind {
            Kind::Scalar {
                style: ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted,
                ..
            } => quoted_end(self.text, n.start).unwrap_or(n.end),
            _ => n.end,
        }
    }

    /// Byte offset of the `:` after a block mapping key.
    fn colon_after(&self, key: NodeId) -> Result<usize, Refusal> {
        let n = self.node(key);
        if !matches!(n.kind, Kind::Scalar { .. }) {
            return Err("complex mapping key".into());
        }
        let mut i = self.scalar_end(key);
        let b = self.text.as_bytes();
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if b.get(i) == Some(&b':') {
            Ok(i)
        } else {
            Err("unexpected layout after a mapping key".into())
        }
    }

    /// `value` rendered for a mapping value at key column `col`: text for the key line
    /// (after the `:`) and block lines that follow it.
    fn render_value(&self, value: &Json<'_>, col: usize) -> (String, String) {
        let style = self.style;
        let lines = emit::lines(value, style);
        let block_col = match value {
            Json::Object(m) if !m.is_empty() => col + style.step,
            Json::Array(a) if !a.is_empty() => col + if style.compact { 0 } else { style.step },
            // A scalar: its first line goes after the `:`, a block scalar's body below.
            _ => {
                let head = lines.first().map(|h| format!(" {h}")).unwrap_or_default();
                return (head, emit::indent(&lines[lines.len().min(1)..], col, style));
            }
        };
        (String::new(), emit::indent(&lines, block_col, style))
    }

    fn realize(&self, op: &Op, out: &mut Vec<Splice>) -> Result<(), Refusal> {
        let nl = self.style.nl();
        match op {
            Op::InsertEntry { map, path } => {
                let Some(Seg::Key(k)) = path.last() else {
                    return Err("bad path".into());
                };
                let mut m = super::Map::new();
                m.insert(k.as_str(), self.expected_at(path)?.clone());
                let col = self.node(*map).col;
                let text =
                    emit::indent(&emit::lines(&Json::Object(m), self.style), col, self.style);
                self.insert(out, self.after(*map), text, col);
            }
            Op::AppendItems { seq, path, from } => {
                let list = self
                    .expected_at(path)?
                    .as_array()
                    .ok_or("append target is not a list")?;
                let items = Json::Array(list.get(*from..).unwrap_or_default().to_vec());
                let col = self.node(*seq).col;
                let text = emit::indent(&emit::lines(&items, self.style), col, self.style);
                self.insert(out, self.after(*seq), text, col);
            }
            Op::RemoveEntry { map, key, value } => {
                if let Kind::Map { entries, .. } = &self.node(*map).kind {
                    if entries.len() < 2 {
                        return Err("removing the key would leave an empty mapping".into());
                    }
                }
                let k = self.node(*key);
                let start = line_start(self.text, k.start);
                if !self.text[start..k.start].bytes().all(|c| c == b' ') {
                    return Err("the key shares its line with a `- `".into());
                }
                out.push(Splice {
                    start,
                    end: self.after(*value),
                    text: String::new(),
                    col: k.col,
                });
            }
            Op::ReplaceValue { key, value, path } => {
                let col = self.node(*key).col;
                let colon = self.colon_after(*key)?;
                let (head, body) = self.render_value(self.expected_at(path)?, col);
                let v = self.node(*value);
                if v.is_block_collection() || v.is_block_scalar() {
                    let text = format!("{head}{nl}{body}");
                    out.push(Splice {
                        start: colon + 1,
                        end: self.after(*value),
                        text,
                        col,
                    });
                } else {
                    let empty = matches!(&v.kind, Kind::Scalar { value, style: ScalarStyle::Plain } if value.is_empty());
                    let end = if empty {
                        colon + 1
                    } else {
                        self.scalar_end(*value).max(colon + 1)
                    };
                    out.push(Splice {
                        start: colon + 1,
                        end,
                        text: head,
                        col,
                    });
                    if !body.is_empty() {
                        self.insert(
                            out,
                            line_end_after(self.text, end.max(colon + 1) - 1),
                            body,
                            col,
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn insert(&self, out: &mut Vec<Splice>, at: usize, mut text: String, col: usize) {
        if at == self.text.len() && !self.text.is_empty() && !self.text.ends_with('\n') {
            text.insert_str(0, self.style.nl());
        }
        out.push(Splice {
            start: at,
            end: at,
            text,
            col,
        });
    }

    fn apply(&self, mut splices: Vec<Splice>) -> Result<Vec<Cow<'t, str>>, Refusal> {
        // Same point: deletions/replacements first, then insertions deeper-first.
        splices.sort_by(|a, b| {
            (a.start, a.start == a.end, std::cmp::Reverse(a.col)).cmp(&(
                b.start,
                b.start == b.end,
                std::cmp::Reverse(b.col),
            ))
        });
        let mut out = Vec::with_capacity(2 * splices.len() + 1);
        let mut pos = 0;
        for s in splices {
            if s.start < pos {
                return Err("two edits touch the same text".into());
            }
            out.push(Cow::Borrowed(&self.text[pos..s.start]));
            pos = s.end;
            out.push(Cow::Owned(s.text));
        }
        out.push(Cow::Borrowed(&self.text[pos..]));
        Ok(out)
    }
}

/// Indent step and list style, taken from the first block mapping/sequence nested under a key.
fn detect_style(text: &str, tree: &Tree<'_>) -> Style {
    let mut style = Style {
        crlf: text.contains("\r\n"),
        ..Style::default()
    };
    let (mut step, mut compact) = (None, None);
    for n in &tree.nodes {
        let Kind::Map {
            flow: false,
            entries,
        } = &n.kind
        else {
            continue;
        };
        for &(k, v) in entries {
            let (kc, vn) = (tree.nodes[k].col, &tree.nodes[v]);
            match &vn.kind {
                Kind::Map { flow: false, .. } if step.is_none() && vn.col > kc => {
                    step = Some(vn.col - kc)
                }
                Kind::Seq { flow: false, .. } if compact.is_none() => compact = Some(vn.col == kc),
                _ => {}
            }
        }
        if step.is_some() && compact.is_some() {
            break;
        }
    }
    style.step = step.unwrap_or(2);
    style.compact = compact.unwrap_or(false);
    style
}
