//! go-yaml v2 + sigs.k8s.io/yaml semantics: plain scalar resolution, keys, merges, aliases.
//!
//! Mirrors `tests/validate/k8syaml.py` (`go_resolve`, `_go_key`), which mirrors go-yaml v2's
//! `resolve.go` and decoder.

use granit_parser::ScalarStyle;
use std::borrow::Cow;

use super::json::{Map, Number, Str};
use super::tree::{error_at, Kind, Node, NodeId, Tree, MAX_DEPTH};
use super::{Duplicate, Json, YamlError};

/// What go-yaml makes of a plain scalar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str,
    Merge,
}

/// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` after `_` removal, as `tests/validate/k8syaml.py`'s `_go_int`.
fn go_int(plain: &str) -> Option<i128> {
    let (neg, body) = match plain.as_bytes().first()? {
        b'-' => (true, &plain[1..]),
        b'+' => (false, &plain[1..]),
        _ => (false, plain),
    };
    let prefixed = |p: u8| {
        body.len() > 1 && body.as_bytes()[0] == b'0' && body.as_bytes()[1].eq_ignore_ascii_case(&p)
    };
    let (digits, radix) = if prefixed(b'x') {
        (&body[2..], 16)
    } else if prefixed(b'o') {
        (&body[2..], 8)
    } else if prefixed(b'b') {
        (&body[2..], 2)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    // More than 128 bits cannot fit i64/u64 anyway; avoid overflow in from_str_radix.
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    (-(1i128 << 63)..(1i128 << 64)).contains(&v).then_some(v)
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let s0 = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s0
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Resolve a plain scalar exactly like `tests/validate/k8syaml.py`'s `go_resolve`.
pub(crate) fn go_resolve(value: &str) -> Scalar {
    let Some(first) = value.chars().next() else {
        return Scalar::Null;
    };
    if !matches!(
        first,
        '+' | '-' | '0'
            ..='9' | 'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' | '~' | '.' | '<'
    ) {
        return Scalar::Str;
    }
    match value {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false)
        }
        "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        "<<" => return Scalar::Merge,
        _ => {}
    }
    if first == '.' {
        // Python's float() in `tests/validate/k8syaml.py`: digits after the dot, optional exponent.
        return if is_yaml_float(value) {
            value.parse().map_or(Scalar::Str, Scalar::Float)
        } else {
            Scalar::Str
        };
    }
    if matches!(first, '+' | '-' | '0'..='9') {
        let plain = if value.contains('_') {
            std::borrow::Cow::Owned(value.replace('_', ""))
        } else {
            std::borrow::Cow::Borrowed(value)
        };
        if let Some(v) = go_int(&plain) {
            return Scalar::Int(v);
        }
        if is_yaml_float(&plain) {
            if let Ok(f) = plain.parse() {
                return Scalar::Float(f);
            }
        }
    }
    Scalar::Str
}

/// The resolver's view of one scalar node: plain resolution, quoting and explicit tags.
/// What go-yaml makes of a scalar without a tag: quoted and block scalars are strings.
pub(crate) fn untagged(value: &str, style: ScalarStyle) -> Scalar {
    if style == ScalarStyle::Plain {
        go_resolve(value)
    } else {
        Scalar::Str
    }
}

fn scalar_of(node: &Node<'_>, value: &str, style: ScalarStyle) -> Result<Scalar, YamlError> {
    let Some(tag) = node.tag.as_deref() else {
        return Ok(untagged(value, style));
    };
    let resolved = go_resolve(value);
    let fail = || {
        error_at(
            node.line,
            node.col,
            "scalar cannot be decoded as its explicit tag",
        )
    };
    Ok(match tag {
        "str" | "!" => Scalar::Str,
        "null" => Scalar::Null,
        "bool" => match resolved {
            Scalar::Bool(_) => resolved,
            _ => return Err(fail()),
        },
        "int" => match resolved {
            Scalar::Int(_) => resolved,
            _ => return Err(fail()),
        },
        "float" => match resolved {
            Scalar::Float(_) => resolved,
            Scalar::Int(i) => Scalar::Float(i as f64),
            _ => return Err(fail()),
        },
        // `!!map`/`!!seq` on a scalar: go-yaml would fail; treat as an error too.
        _ => return Err(fail()),
    })
}

fn scalar_json<'t>(
    node: &Node<'_>,
    value: &Cow<'t, str>,
    s: Scalar,
) -> Result<Json<'t>, YamlError> {
    let json = match s {
        Scalar::Str | Scalar::Merge => Json::String(Str::from(value.clone())),
        s => json_of(value, s)
            .ok_or_else(|| {
                error_at(
                    node.line,
                    node.col,
                    "non-finite number (infinity or NaN); Kubernetes cannot read it",
                )
            })?
            .into_owned(),
    };
    Ok(json)
}

/// The JSON of a resolved scalar; `None` for a non-finite number, which JSON cannot hold.
pub(crate) fn json_of(value: &str, s: Scalar) -> Option<Json<'_>> {
    Some(match s {
        Scalar::Null => Json::Null,
        Scalar::Bool(b) => Json::Bool(b),
        Scalar::Int(i) => match (i64::try_from(i), u64::try_from(i)) {
            (Ok(v), _) => Json::from(v),
            (_, Ok(v)) => Json::from(v),
            _ => unreachable_float(i),
        },
        Scalar::Float(f) => Json::Number(Number::from_f64(f)?),
        Scalar::Str | Scalar::Merge => Json::String(Str::from(value)),
    })
}

fn unreachable_float(i: i128) -> Json<'static> {
    Number::from_f64(i as f64).map_or(Json::Null, Json::Number)
}

/// sigs.k8s.io/yaml turns every non-string key into a string.
pub(crate) fn key_string(v: &Json<'_>) -> Option<String> {
    match v {
        Json::String(s) => Some(s.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

/// The key string of mapping-key node `k`, as the resolver makes it (for navigation by the
/// editor); `None` for keys JSON cannot hold.
pub(crate) fn key_of<'r>(tree: &'r Tree<'_>, k: NodeId) -> Option<Cow<'r, str>> {
    let n = &tree.nodes[tree.deref(k)];
    let Kind::Scalar { value, style } = &n.kind else {
        return None;
    };
    match scalar_of(n, value, *style).ok()? {
        Scalar::Str | Scalar::Merge => Some(Cow::Borrowed(value)),
        s => key_string(&scalar_json(n, value, s).ok()?).map(Cow::Owned),
    }
}

/// Where a node sits, for duplicate-key reports: a chain of parents on the stack, made into a
/// dotted path only when a duplicate is found (building a string per node was a large share of
/// parse time).
#[derive(Clone, Copy)]
pub(crate) enum At<'p> {
    Root,
    Key(&'p At<'p>, &'p str),
    Index(&'p At<'p>, usize),
}

impl At<'_> {
    fn dotted(&self) -> String {
        match self {
            At::Root => String::new(),
            At::Key(parent, key) => match parent.dotted() {
                p if p.is_empty() => key.to_string(),
                p => format!("{p}.{key}"),
            },
            At::Index(parent, i) => format!("{}[{i}]", parent.dotted()),
        }
    }
}

pub(crate) struct Resolver<'r, 't> {
    tree: &'r Tree<'t>,
    pub duplicates: Vec<Duplicate>,
}

impl<'r, 't> Resolver<'r, 't> {
    pub fn new(tree: &'r Tree<'t>) -> Self {
        Resolver {
            tree,
            duplicates: Vec::new(),
        }
    }

    pub fn is_merge_key(&self, id: NodeId) -> bool {
        let n = &self.tree.nodes[id];
        matches!(&n.kind, Kind::Scalar { value, style: ScalarStyle::Plain } if value == "<<" && n.tag.is_none())
    }

    /// `at` is where the node sits, for duplicate reports; `None` inside alias expansions (the
    /// anchored original reports its own duplicates once).
    pub fn resolve(
        &mut self,
        id: NodeId,
        depth: usize,
        at: Option<&At<'_>>,
    ) -> Result<Json<'t>, YamlError> {
        let node = &self.tree.nodes[id];
        if depth > MAX_DEPTH {
            return Err(error_at(
                node.line,
                node.col,
                "nesting deeper than 500 levels",
            ));
        }
        match &node.kind {
            Kind::Scalar { value, style } => {
                let s = scalar_of(node, value, *style)?;
                scalar_json(node, value, s)
            }
            Kind::Alias(target) => self.resolve(*target, depth + 1, None),
            Kind::Seq { items, .. } => {
                let mut out = Vec::with_capacity(items.len());
                for (i, &item) in items.iter().enumerate() {
                    let sub = at.map(|p| At::Index(p, i));
                    out.push(self.resolve(item, depth + 1, sub.as_ref())?);
                }
                Ok(Json::Array(out))
            }
            Kind::Map { entries, .. } => self.resolve_map(entries, depth, at),
        }
    }

    fn resolve_map(
        &mut self,
        entries: &[(NodeId, NodeId)],
        depth: usize,
        at: Option<&At<'_>>,
    ) -> Result<Json<'t>, YamlError> {
        // Sized up front: a map grown by doubling keeps up to half its slots empty, and every
        // document's meaning is held for the whole run (docs/benchmarks.md, memory).
        let mut out = Keyed::with_capacity(entries.len());
        for (i, &(k, v)) in entries.iter().enumerate() {
            if self.is_merge_key(k) {
                self.merge(v, &mut out, depth)?;
                continue;
            }
            let key = self.key(k, depth)?;
            // Duplicates inside the value are found first; this key's report goes before them.
            let mark = self.duplicates.len();
            let value = {
                let sub = at.map(|p| At::Key(p, &key));
                self.resolve(v, depth + 1, sub.as_ref())?
            };
            let line = self.tree.nodes[k].line;
            if out.contains(&key) {
                // A merged key is overridden, not duplicated: only an earlier explicit key counts.
                if let Some(p) = at {
                    let first = entries[..i].iter().find(|(pk, _)| {
                        !self.is_merge_key(*pk)
                            && key_of(self.tree, *pk).as_deref() == Some(key.as_str())
                    });
                    if let Some(&(pk, _)) = first {
                        let path = At::Key(p, &key).dotted();
                        self.duplicates.insert(
                            mark,
                            Duplicate {
                                path,
                                first_line: self.tree.nodes[pk].line,
                                line,
                            },
                        );
                    }
                }
            }
            out.insert(key, value);
        }
        Ok(Json::Object(out.finish()))
    }

    fn key(&mut self, k: NodeId, depth: usize) -> Result<Str<'t>, YamlError> {
        let v = self.resolve(k, depth + 1, None)?;
        let n = &self.tree.nodes[k];
        match v {
            Json::String(s) => Ok(s),
            v => key_string(&v).map(Str::from).ok_or_else(|| {
                error_at(
                    n.line,
                    n.col,
                    "mapping key is null or a collection; JSON cannot hold it",
                )
            }),
        }
    }

    /// go-yaml v2 `merge`: a mapping, or a sequence of mappings where earlier ones win.
    fn merge(&mut self, v: NodeId, out: &mut Keyed<'t>, depth: usize) -> Result<(), YamlError> {
        let target = self.tree.deref(v);
        let n = &self.tree.nodes[target];
        let wrong = || {
            error_at(
                n.line,
                n.col,
                "map merge requires a mapping or a sequence of mappings",
            )
        };
        let sources: Vec<NodeId> = match &n.kind {
            Kind::Map { .. } => vec![target],
            Kind::Seq { items, .. } => items.iter().rev().map(|&i| self.tree.deref(i)).collect(),
            _ => return Err(wrong()),
        };
        for s in sources {
            if !matches!(self.tree.nodes[s].kind, Kind::Map { .. }) {
                return Err(wrong());
            }
            if let Json::Object(m) = self.resolve(s, depth + 1, None)? {
                for (k, v) in m {
                    out.insert(k, v);
                }
            }
        }
        Ok(())
    }
}

/// A mapping being resolved: inserting over an existing key replaces its value in place (as
/// `IndexMap::insert`), found through an index once the mapping is large, so that a huge
/// mapping on the full path is not quadratic.
struct Keyed<'t> {
    entries: Vec<(Str<'t>, Json<'t>)>,
    index: Option<std::collections::HashMap<Str<'t>, usize>>,
}

impl<'t> Keyed<'t> {
    const INDEXED_FROM: usize = 32;

    fn with_capacity(n: usize) -> Self {
        Keyed {
            entries: Vec::with_capacity(n),
            index: None,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k.as_str() == key),
        }
    }

    fn contains(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    fn insert(&mut self, key: Str<'t>, value: Json<'t>) {
        if let Some(i) = self.position(&key) {
            self.entries[i].1 = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() >= Self::INDEXED_FROM {
            self.index = Some(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            );
        }
    }

    fn finish(self) -> Map<'t> {
        Map::from_distinct(self.entries)
    }
}
