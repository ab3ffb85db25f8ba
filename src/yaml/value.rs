//! A document's meaning built straight from the block reader's events, without a span tree.
//!
//! Most documents are only read: nobody edits them or asks for a line in them, and the editor's
//! oracle only compares meanings. For those the tree (a node per token, a string per scalar,
//! then a second string when resolving) was most of the cost of reading. This sink resolves
//! each scalar as it comes, exactly as [`super::resolve`] does, borrowing every string the text
//! spells out as it is, and gives up on what needs the tree: duplicate keys (reported with both
//! lines), `<<` merges, keys JSON cannot hold and non-finite numbers; the caller then takes the
//! full path. The block reader emits no anchors, aliases or tags. Differential tests compare it
//! with the full path (`tests/block_reader.rs`).

use granit_parser::{Event, Span};

use super::block::Sink;
use super::json::{Map, Str};
use super::resolve::{json_of, key_string, untagged, Scalar};
use super::tree::empty_value;
use super::Json;

/// An open collection: where its items (or entries) start in [`Direct`]'s shared lists, and
/// for a mapping the key waiting for its value. Items are collected there and moved into a
/// list or map of the right size at the collection's end: a collection grown by doubling keeps
/// up to half its slots empty for the whole run, and a list per open collection would be grown
/// (and copied) over and over.
enum Frame<'t> {
    Seq(usize),
    Map(usize, Option<Str<'t>>),
}

#[derive(Default)]
pub(crate) struct Direct<'t> {
    stack: Vec<Frame<'t>>,
    items: Vec<Json<'t>>,
    entries: Vec<(Str<'t>, Json<'t>)>,
    root: Option<Json<'t>>,
}

impl<'t> Direct<'t> {
    pub(crate) fn finish(self) -> Option<Json<'t>> {
        self.root
    }

    /// A complete value: the root, a sequence item, a key, or a key's value.
    fn complete(&mut self, value: Json<'t>) -> Option<()> {
        match self.stack.last_mut() {
            None => {
                if self.root.is_some() {
                    return None;
                }
                self.root = Some(value);
            }
            Some(Frame::Seq(_)) => self.items.push(value),
            Some(Frame::Map(_, pending)) => match pending.take() {
                Some(key) => self.entries.push((key, value)),
                None => {
                    let key = match value {
                        Json::String(s) => s,
                        v @ (Json::Bool(_) | Json::Number(_)) => Str::from(key_string(&v)?),
                        _ => return None,
                    };
                    *pending = Some(key);
                }
            },
        }
        Some(())
    }
}

/// Do the keys repeat? Pairwise for the small mappings Kubernetes objects are made of, through a
/// set for large ones (a ConfigMap's `data`).
pub(crate) fn has_duplicate<'k>(keys: impl ExactSizeIterator<Item = &'k str> + Clone) -> bool {
    if keys.len() <= 16 {
        let mut rest = keys;
        while let Some(k) = rest.next() {
            if rest.clone().any(|other| other == k) {
                return true;
            }
        }
        return false;
    }
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    keys.into_iter().any(|k| !seen.insert(k))
}

impl<'t> Sink<'t> for Direct<'t> {
    fn event(&mut self, ev: Event<'t>, span: &Span) -> Option<()> {
        match ev {
            Event::Scalar(value, style, 0, None) => {
                let in_key = matches!(self.stack.last(), Some(Frame::Map(_, None)));
                let empty = empty_value(style, span);
                let text = if empty { "" } else { value.as_ref() };
                let json = match untagged(text, style) {
                    Scalar::Merge if in_key => return None,
                    // The event's own string, borrowed from the text when it can be.
                    Scalar::Str if !empty => Json::String(Str::from(value)),
                    s => json_of(text, s)?.into_owned(),
                };
                self.complete(json)
            }
            Event::SequenceStart(_, 0, None) => {
                self.stack.push(Frame::Seq(self.items.len()));
                Some(())
            }
            Event::MappingStart(_, 0, None) => {
                self.stack.push(Frame::Map(self.entries.len(), None));
                Some(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let value = match self.stack.pop()? {
                    Frame::Seq(start) => Json::Array(self.items.drain(start..).collect()),
                    Frame::Map(start, None) => {
                        // A duplicate key is reported with both its lines by the full path.
                        if has_duplicate(self.entries[start..].iter().map(|(k, _)| k.as_str())) {
                            return None;
                        }
                        Json::Object(Map::from_distinct(self.entries.drain(start..).collect()))
                    }
                    Frame::Map(_, Some(_)) => return None,
                };
                // A collection as a key is an error the full path reports.
                if matches!(self.stack.last(), Some(Frame::Map(_, None))) {
                    return None;
                }
                self.complete(value)
            }
            Event::DocumentStart(..) => Some(()),
            _ => None,
        }
    }
}

/// Whether the events mean exactly `expected`, checked as they come, building nothing: the
/// editor's oracle for a splice, which nearly always matches. Keys must come in `expected`'s
/// order; anything else (another order, a duplicate or merge key, a difference) stops it, and
/// the caller compares the full meaning instead.
pub(crate) struct Matches<'e, 'a> {
    expected: &'e Json<'a>,
    stack: Vec<Expect<'e, 'a>>,
    done: bool,
}

enum Expect<'e, 'a> {
    Seq(std::slice::Iter<'e, Json<'a>>),
    /// The entries not seen yet, and the value of the key just read.
    Map(super::json::Iter<'e, 'a>, Option<&'e Json<'a>>),
}

impl<'e, 'a> Matches<'e, 'a> {
    pub(crate) fn new(expected: &'e Json<'a>) -> Self {
        Matches {
            expected,
            stack: Vec::new(),
            done: false,
        }
    }

    pub(crate) fn finish(self) -> Option<()> {
        self.done.then_some(())
    }

    /// The value the next node must be, or `Err(key)` when it is a mapping key (with the key
    /// `expected` has next).
    fn next(&mut self) -> Option<Result<&'e Json<'a>, &'e str>> {
        match self.stack.last_mut() {
            None if !self.done => {
                self.done = true;
                Some(Ok(self.expected))
            }
            None => None,
            Some(Expect::Seq(items)) => items.next().map(Ok),
            Some(Expect::Map(entries, pending)) => match pending.take() {
                Some(v) => Some(Ok(v)),
                None => {
                    let (k, v) = entries.next()?;
                    *pending = Some(v);
                    Some(Err(k.as_str()))
                }
            },
        }
    }
}

impl<'t> Sink<'t> for Matches<'_, '_> {
    fn event(&mut self, ev: Event<'t>, span: &Span) -> Option<()> {
        match ev {
            Event::Scalar(value, style, 0, None) => {
                let text = if empty_value(style, span) {
                    ""
                } else {
                    value.as_ref()
                };
                let resolved = untagged(text, style);
                match self.next()? {
                    Err(key) => (matches!(resolved, Scalar::Str) && text == key).then_some(()),
                    Ok(Json::String(s)) => {
                        (matches!(resolved, Scalar::Str) && text == s.as_str()).then_some(())
                    }
                    Ok(v) if !matches!(resolved, Scalar::Str | Scalar::Merge) => {
                        (json_of(text, resolved)? == *v).then_some(())
                    }
                    Ok(_) => None,
                }
            }
            Event::SequenceStart(_, 0, None) => match self.next()? {
                Ok(Json::Array(items)) => {
                    self.stack.push(Expect::Seq(items.iter()));
                    Some(())
                }
                _ => None,
            },
            Event::MappingStart(_, 0, None) => match self.next()? {
                Ok(Json::Object(map)) => {
                    self.stack.push(Expect::Map(map.iter(), None));
                    Some(())
                }
                _ => None,
            },
            Event::SequenceEnd => match self.stack.pop()? {
                Expect::Seq(items) if items.len() == 0 => Some(()),
                _ => None,
            },
            Event::MappingEnd => match self.stack.pop()? {
                Expect::Map(entries, None) if entries.len() == 0 => Some(()),
                _ => None,
            },
            Event::DocumentStart(..) => Some(()),
            _ => None,
        }
    }
}
