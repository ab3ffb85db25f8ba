//! A span tree of one document, built from granit-parser events without recursion.
//!
//! Nodes live in an arena (`Tree::nodes`) so that neither building nor dropping a deeply nested
//! document recurses. Every node keeps the byte range of its own tokens: that is all the splicer
//! needs to cut and insert text.

use std::borrow::Cow;
use std::collections::HashMap;

use granit_parser::{
    ErrorKind, Event, Options, Parser, ScalarStyle, ScanError, Span, StructureStyle,
};

use super::YamlError;

/// Deepest collection nesting accepted (also after alias expansion).
pub(crate) const MAX_DEPTH: usize = 500;
/// Most nodes a document may expand to through aliases (billion laughs guard).
pub(crate) const MAX_NODES: usize = 1_000_000;

pub(crate) type NodeId = usize;

#[derive(Debug, PartialEq)]
pub(crate) enum Kind<'t> {
    Scalar {
        /// Borrowed from the text unless escapes or folding made a new string.
        value: Cow<'t, str>,
        style: ScalarStyle,
    },
    Seq {
        flow: bool,
        items: Vec<NodeId>,
    },
    Map {
        flow: bool,
        entries: Vec<(NodeId, NodeId)>,
    },
    Alias(NodeId),
}

#[derive(Debug, PartialEq)]
pub(crate) struct Node<'t> {
    pub kind: Kind<'t>,
    /// Byte offset of the node's first content token.
    pub start: usize,
    /// Byte offset just past the node's last token (for block scalars: where the next token
    /// starts, as granit reports it).
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 0-based column of `start`, in characters.
    pub col: usize,
    /// Anchor id defined on this node, 0 if none.
    pub anchor: usize,
    /// Core-schema tag suffix (`str`, `int`, ...), `Some("!")` for any other explicit tag.
    pub tag: Option<String>,
    /// Nodes this one expands to once aliases are followed (saturating).
    pub size: usize,
}

impl Node<'_> {
    pub fn is_block_collection(&self) -> bool {
        matches!(
            self.kind,
            Kind::Seq { flow: false, .. } | Kind::Map { flow: false, .. }
        )
    }

    pub fn is_block_scalar(&self) -> bool {
        matches!(
            self.kind,
            Kind::Scalar {
                style: ScalarStyle::Literal | ScalarStyle::Folded,
                ..
            }
        )
    }
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Tree<'t> {
    pub nodes: Vec<Node<'t>>,
    pub root: Option<NodeId>,
}

impl Tree<'_> {
    /// Follow an alias to the node it names.
    pub fn deref(&self, id: NodeId) -> NodeId {
        match self.nodes[id].kind {
            Kind::Alias(target) => target,
            _ => id,
        }
    }
}

/// An empty value (`key:`) is reported as a `~` scalar with an empty span; its text is empty
/// (it means null either way, but the splicer must not see a `~` that is not there).
pub(crate) fn empty_value(style: ScalarStyle, span: &Span) -> bool {
    style == ScalarStyle::Plain && span.start.index() == span.end.index()
}

/// One open collection while building.
enum Frame {
    Seq(NodeId),
    Map(NodeId, Option<NodeId>),
}

pub(crate) fn error_at(line: usize, col0: usize, message: impl Into<String>) -> YamlError {
    YamlError {
        line,
        col: col0 + 1,
        message: message.into(),
    }
}

/// Describe a scanner error without quoting any of the document (it may be a Secret).
fn scan_error(e: &ScanError) -> YamlError {
    let m = e.marker();
    let message = match e.kind() {
        ErrorKind::UnexpectedCharacter { .. } => "unexpected character".to_string(),
        ErrorKind::Custom(_) => "invalid YAML".to_string(),
        // The parser's own nesting guard (it counts a little differently from `open`).
        ErrorKind::RecursionLimitExceeded => format!("nesting deeper than {MAX_DEPTH} levels"),
        ErrorKind::InputDecoding { .. } => "input is not valid text".to_string(),
        ErrorKind::TabInBlockIndentation | ErrorKind::TabNotAllowed => {
            "tab character used for indentation".to_string()
        }
        kind => kind.to_string(),
    };
    error_at(m.line(), m.col(), message)
}

fn offset(span: &Span) -> usize {
    span.start.byte_offset().unwrap_or(0)
}

fn tag_of(tag: Option<&granit_parser::Tag>) -> Option<String> {
    tag.map(|t| t.core_suffix().unwrap_or("!").to_string())
}

pub(crate) struct Builder<'t> {
    nodes: Vec<Node<'t>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
    documents: usize,
}

impl<'t> Builder<'t> {
    /// A builder for `text`, with room for its nodes: about two per line (a key and its value),
    /// so the node list is not grown (and copied) a dozen times.
    pub(crate) fn new(text: &str) -> Self {
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        Builder {
            nodes: Vec::with_capacity(2 * lines + 2),
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            documents: 0,
        }
    }

    /// The tree, once every event is in.
    pub(crate) fn finish(self, text: &str) -> Tree<'t> {
        let mut nodes = self.nodes;
        for n in &mut nodes {
            move_to_dash(text, n);
        }
        Tree {
            nodes,
            root: self.root,
        }
    }

    fn push_node(
        &mut self,
        kind: Kind<'t>,
        span: &Span,
        anchor: usize,
        tag: Option<String>,
    ) -> NodeId {
        let start = offset(span);
        let end = span.end.byte_offset().unwrap_or(start);
        self.nodes.push(Node {
            kind,
            start,
            end,
            line: span.start.line(),
            col: span.start.col(),
            anchor,
            tag,
            size: 1,
        });
        self.nodes.len() - 1
    }

    /// A node is complete: register its anchor and hang it under the open collection.
    fn complete(&mut self, id: NodeId) -> Result<(), YamlError> {
        let node = &self.nodes[id];
        if node.size > MAX_NODES {
            return Err(error_at(
                node.line,
                node.col,
                "aliases expand to more than 1,000,000 nodes (billion laughs?)",
            ));
        }
        if node.anchor != 0 {
            self.anchors.insert(node.anchor, id);
        }
        let size = node.size;
        match self.stack.last_mut() {
            None => {
                if self.root.is_some() {
                    return Err(error_at(
                        node.line,
                        node.col,
                        "more than one document in a chunk",
                    ));
                }
                self.root = Some(id);
            }
            Some(Frame::Seq(p)) => {
                let p = *p;
                if let Kind::Seq { items, .. } = &mut self.nodes[p].kind {
                    items.push(id);
                }
                self.nodes[p].size = self.nodes[p].size.saturating_add(size);
            }
            Some(Frame::Map(p, pending)) => {
                let p = *p;
                match pending.take() {
                    None => *pending = Some(id),
                    Some(key) => {
                        if let Kind::Map { entries, .. } = &mut self.nodes[p].kind {
                            entries.push((key, id));
                        }
                    }
                }
                self.nodes[p].size = self.nodes[p].size.saturating_add(size);
            }
        }
        Ok(())
    }

    fn open(&mut self, id: NodeId, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let n = &self.nodes[id];
            return Err(error_at(n.line, n.col, "nesting deeper than 500 levels"));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// A collection closes: a flow one ends at its bracket, a block one at its last child.
    fn close(&mut self, span: &Span) -> Result<(), YamlError> {
        let id = match self.stack.pop() {
            Some(Frame::Seq(id) | Frame::Map(id, _)) => id,
            None => return Ok(()),
        };
        let end = match &self.nodes[id].kind {
            Kind::Seq { flow: true, .. } | Kind::Map { flow: true, .. } => Some(offset(span) + 1),
            Kind::Seq { items, .. } => items.last().map(|&c| self.nodes[c].end),
            Kind::Map { entries, .. } => entries.last().map(|&(_, v)| self.nodes[v].end),
            _ => None,
        }
        .unwrap_or(self.nodes[id].end);
        self.nodes[id].end = end.max(self.nodes[id].start);
        self.complete(id)
    }

    pub(crate) fn event(&mut self, ev: Event<'t>, span: &Span) -> Result<(), YamlError> {
        match ev {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(error_at(
                        span.start.line(),
                        span.start.col(),
                        "more than one document in a chunk",
                    ));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let value = if empty_value(style, span) {
                    Cow::Borrowed("")
                } else {
                    value
                };
                let kind = Kind::Scalar { value, style };
                let id = self.push_node(kind, span, anchor, tag_of(tag.as_deref()));
                self.complete(id)?;
            }
            Event::Alias(anchor) => {
                let Some(&target) = self.anchors.get(&anchor) else {
                    return Err(error_at(
                        span.start.line(),
                        span.start.col(),
                        "alias refers to an anchor that is still open (recursive alias)",
                    ));
                };
                let id = self.push_node(Kind::Alias(target), span, 0, None);
                self.nodes[id].size = self.nodes[target].size;
                self.complete(id)?;
            }
            Event::SequenceStart(style, anchor, tag) => {
                let kind = Kind::Seq {
                    flow: style == StructureStyle::Flow,
                    items: Vec::new(),
                };
                let id = self.push_node(kind, span, anchor, tag_of(tag.as_deref()));
                self.open(id, Frame::Seq(id))?;
            }
            Event::MappingStart(style, anchor, tag) => {
                let kind = Kind::Map {
                    flow: style == StructureStyle::Flow,
                    entries: Vec::new(),
                };
                let id = self.push_node(kind, span, anchor, tag_of(tag.as_deref()));
                self.open(id, Frame::Map(id, None))?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
            Event::UnresolvedAlias(_) => {
                return Err(error_at(
                    span.start.line(),
                    span.start.col(),
                    "unknown alias",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

/// Build the span tree of `text`, which must hold at most one document: with the block reader
/// when the document is in its subset, else with granit.
pub(crate) fn build(text: &str) -> Result<Tree<'_>, YamlError> {
    match super::block::read(text) {
        Some(tree) => Ok(tree),
        None => build_with_granit(text),
    }
}

/// [`build`] with granit alone (the block reader's oracle in tests).
pub(crate) fn build_with_granit(text: &str) -> Result<Tree<'_>, YamlError> {
    let mut options = Options::default();
    options.set_emit_comments(false);
    options.block_nesting_limit = MAX_DEPTH + 1;
    options.flow_nesting_limit = MAX_DEPTH + 1;
    let parser = Parser::new_from_str_with_options(text, options);
    let mut b = Builder::new(text);
    for item in parser {
        let (ev, span) = item.map_err(|e| scan_error(&e))?;
        b.event(ev, &span)?;
    }
    Ok(b.finish(text))
}

/// granit starts an indentless block sequence (`key:\n- a`) at its first item's content;
/// the splicer needs the dash.
fn move_to_dash(text: &str, n: &mut Node<'_>) {
    if !matches!(n.kind, Kind::Seq { flow: false, .. }) {
        return;
    }
    let b = text.as_bytes();
    let mut i = n.start;
    while i > 0 && b.get(i) != Some(&b'-') && matches!(b[i - 1], b' ' | b'-') {
        i -= 1;
        if b[i] == b'-' {
            n.col -= n.start - i;
            n.start = i;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_tokens() {
        let t = "a:\n  l:\n  - 1\n  m:\n    - 2\n  q: 'x' # y\n  e:\n  f: {} # c\n";
        let tree = build(t).unwrap();
        let seqs: Vec<&Node> = tree
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, Kind::Seq { .. }))
            .collect();
        // Indentless and indented sequences both start at their dash.
        assert_eq!((seqs[0].col, &t[seqs[0].start..seqs[0].end]), (2, "- 1"));
        assert_eq!((seqs[1].col, &t[seqs[1].start..seqs[1].end]), (4, "- 2"));
        let flow = tree
            .nodes
            .iter()
            .find(|n| matches!(n.kind, Kind::Map { flow: true, .. }))
            .unwrap();
        assert_eq!(&t[flow.start..flow.end], "{}");
        let empty = tree
            .nodes
            .iter()
            .find(|n| matches!(&n.kind, Kind::Scalar { value, .. } if value.is_empty()));
        assert!(empty.is_some(), "an empty value keeps an empty text");
    }

    #[test]
    fn recursive_alias_is_an_error() {
        assert!(build("a: &x [*x]\n").is_err());
    }
}
