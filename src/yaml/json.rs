//! The meaning of a document: the JSON `sigs.k8s.io/yaml` makes of it, with its strings
//! borrowed from the document's text wherever the text spells them out as they are.
//!
//! Why not `serde_json::Value`: with `preserve_order` every mapping is an `IndexMap` (a hash
//! table beside its entries, SipHash per key) and every key and string a heap allocation of its
//! own. Reading a chart spent most of its time allocating and hashing those, and they were about
//! 20 bytes of memory per byte of YAML (docs/benchmarks.md). Kubernetes mappings are small, so a
//! mapping here is a list of entries searched in order, and a string is borrowed from the input
//! unless escapes, folding or an edit made a new one. What it means is unchanged: equality of
//! mappings ignores their order, as `serde_json`'s does, and `Display` writes the same JSON.

use std::borrow::{Borrow, Cow};
use std::fmt;

pub use serde_json::Number;

/// A string of a document: borrowed from its text, or owned when it had to be made.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str<'a>(Cow<'a, str>);

impl<'a> Str<'a> {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The same string, owned: for values that outlive the input (edits, generated objects).
    pub fn into_owned(self) -> Str<'static> {
        Str(Cow::Owned(self.0.into_owned()))
    }
}

impl std::ops::Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Str<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Str<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'a> From<&'a str> for Str<'a> {
    fn from(s: &'a str) -> Self {
        Str(Cow::Borrowed(s))
    }
}

impl From<String> for Str<'_> {
    fn from(s: String) -> Self {
        Str(Cow::Owned(s))
    }
}

impl<'a> From<Cow<'a, str>> for Str<'a> {
    fn from(s: Cow<'a, str>) -> Self {
        Str(s)
    }
}

impl PartialEq<str> for Str<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str<'_> {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Str<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

/// A JSON value; `'a` is the text its borrowed strings come from.
#[derive(Clone, Default)]
pub enum Json<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Str<'a>),
    Array(Vec<Json<'a>>),
    Object(Map<'a>),
}

/// A JSON object: its entries in document order, without duplicate keys.
#[derive(Clone, Default)]
pub struct Map<'a> {
    entries: Vec<(Str<'a>, Json<'a>)>,
}

/// Where [`Json::get`] looks: a key of an object or an index of an array.
pub trait Index {
    fn index_into<'v, 'a>(&self, v: &'v Json<'a>) -> Option<&'v Json<'a>>;
    fn index_into_mut<'v, 'a>(&self, v: &'v mut Json<'a>) -> Option<&'v mut Json<'a>>;
}

impl Index for str {
    fn index_into<'v, 'a>(&self, v: &'v Json<'a>) -> Option<&'v Json<'a>> {
        v.as_object()?.get(self)
    }
    fn index_into_mut<'v, 'a>(&self, v: &'v mut Json<'a>) -> Option<&'v mut Json<'a>> {
        v.as_object_mut()?.get_mut(self)
    }
}

impl Index for String {
    fn index_into<'v, 'a>(&self, v: &'v Json<'a>) -> Option<&'v Json<'a>> {
        self.as_str().index_into(v)
    }
    fn index_into_mut<'v, 'a>(&self, v: &'v mut Json<'a>) -> Option<&'v mut Json<'a>> {
        self.as_str().index_into_mut(v)
    }
}

impl Index for usize {
    fn index_into<'v, 'a>(&self, v: &'v Json<'a>) -> Option<&'v Json<'a>> {
        v.as_array()?.get(*self)
    }
    fn index_into_mut<'v, 'a>(&self, v: &'v mut Json<'a>) -> Option<&'v mut Json<'a>> {
        v.as_array_mut()?.get_mut(*self)
    }
}

impl<T: Index + ?Sized> Index for &T {
    fn index_into<'v, 'a>(&self, v: &'v Json<'a>) -> Option<&'v Json<'a>> {
        (**self).index_into(v)
    }
    fn index_into_mut<'v, 'a>(&self, v: &'v mut Json<'a>) -> Option<&'v mut Json<'a>> {
        (**self).index_into_mut(v)
    }
}

static NULL: Json<'static> = Json::Null;

impl<'a> Json<'a> {
    pub fn get<I: Index>(&self, index: I) -> Option<&Json<'a>> {
        index.index_into(self)
    }

    pub fn get_mut<I: Index>(&mut self, index: I) -> Option<&mut Json<'a>> {
        index.index_into_mut(self)
    }

    pub fn as_str(&self) -> Option<&str> {
        self.as_string().map(Str::as_str)
    }

    /// The string, as the document holds it (borrowed from its text where it can be).
    pub fn as_string(&self) -> Option<&Str<'a>> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Json<'a>>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Json<'a>>> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map<'a>> {
        match self {
            Json::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Json::Array(_))
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Json::String(_))
    }

    pub fn take(&mut self) -> Json<'a> {
        std::mem::take(self)
    }

    /// The same value with every string owned.
    pub fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Number(n) => Json::Number(n),
            Json::String(s) => Json::String(s.into_owned()),
            Json::Array(a) => Json::Array(a.into_iter().map(Json::into_owned).collect()),
            Json::Object(m) => Json::Object(m.into_owned()),
        }
    }

    /// A copy with every string owned.
    pub fn to_owned_value(&self) -> Json<'static> {
        self.clone().into_owned()
    }

    /// The same value as a `serde_json::Value`, for comparing with what other tools read (the
    /// tests against `tests/validate/k8syaml.py` and Helm; typed reads go through [`super::from_json`] instead).
    pub fn to_serde(&self) -> serde_json::Value {
        match self {
            Json::Null => serde_json::Value::Null,
            Json::Bool(b) => serde_json::Value::Bool(*b),
            Json::Number(n) => serde_json::Value::Number(n.clone()),
            Json::String(s) => serde_json::Value::String(s.to_string()),
            Json::Array(a) => serde_json::Value::Array(a.iter().map(Json::to_serde).collect()),
            Json::Object(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_serde()))
                    .collect(),
            ),
        }
    }
}

/// An RFC 6901 array index: no sign, no leading zero.
pub(crate) fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

impl<'a> Map<'a> {
    pub fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    pub fn with_capacity(n: usize) -> Self {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// A map of entries the caller knows to have distinct keys (a reader that checked them).
    pub(crate) fn from_distinct(entries: Vec<(Str<'a>, Json<'a>)>) -> Self {
        Map { entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The same map with every string owned.
    pub fn into_owned(self) -> Map<'static> {
        Map {
            entries: self
                .entries
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k.as_str() == key)
    }

    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json<'a>> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Set `key` to `value`: in place when the key exists (its position is kept, as
    /// `IndexMap::insert` does), else at the end. The old value, if any.
    pub fn insert(&mut self, key: impl Into<Str<'a>>, value: Json<'a>) -> Option<Json<'a>> {
        let key = key.into();
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The value of `key`, inserted as `default()` at the end when absent.
    pub fn entry_or_insert_with(
        &mut self,
        key: impl Into<Str<'a>>,
        default: impl FnOnce() -> Json<'a>,
    ) -> &mut Json<'a> {
        let key = key.into();
        let i = match self.position(&key) {
            Some(i) => i,
            None => {
                self.entries.push((key, default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// Remove `key`, keeping the order of the others.
    pub fn shift_remove(&mut self, key: &str) -> Option<Json<'a>> {
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }

    pub fn iter(&self) -> Iter<'_, 'a> {
        Iter(self.entries.iter())
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Str<'a>, &mut Json<'a>)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str<'a>> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Json<'a>> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Json<'a>> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Keep only the entries `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &Json<'a>) -> bool) {
        self.entries.retain(|(k, v)| keep(k, v));
    }

    /// Entries of `other` set over these, in its order (go-yaml's merge key).
    pub fn extend(&mut self, other: Map<'a>) {
        for (k, v) in other.entries {
            self.insert(k, v);
        }
    }
}

/// The entries of a [`Map`], in order.
#[derive(Clone)]
pub struct Iter<'m, 'a>(std::slice::Iter<'m, (Str<'a>, Json<'a>)>);

impl<'m, 'a> Iterator for Iter<'m, 'a> {
    type Item = (&'m Str<'a>, &'m Json<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_, '_> {}

impl DoubleEndedIterator for Iter<'_, '_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<'m, 'a> IntoIterator for &'m Map<'a> {
    type Item = (&'m Str<'a>, &'m Json<'a>);
    type IntoIter = Iter<'m, 'a>;
    fn into_iter(self) -> Iter<'m, 'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for Map<'a> {
    type Item = (Str<'a>, Json<'a>);
    type IntoIter = std::vec::IntoIter<(Str<'a>, Json<'a>)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K: Into<Str<'a>>> FromIterator<(K, Json<'a>)> for Map<'a> {
    /// A later entry with the same key replaces an earlier one in its place, as `insert` does.
    fn from_iter<T: IntoIterator<Item = (K, Json<'a>)>>(iter: T) -> Self {
        // Collected at once (sized by the iterator: long-lived maps are built this way), then
        // de-duplicated in the rare case it is needed.
        let entries: Vec<(Str<'a>, Json<'a>)> =
            iter.into_iter().map(|(k, v)| (k.into(), v)).collect();
        if !crate::yaml::value::has_duplicate(entries.iter().map(|(k, _)| k.as_str())) {
            return Map { entries };
        }
        let mut m = Map::with_capacity(entries.len());
        for (k, v) in entries {
            m.insert(k, v);
        }
        m
    }
}

/// Mappings are equal when they hold the same keys with equal values, in any order (as
/// `serde_json::Map` with `preserve_order` compares).
impl PartialEq for Map<'_> {
    fn eq(&self, other: &Self) -> bool {
        if self.len() != other.len() {
            return false;
        }
        // The common case: the same keys in the same order.
        if self
            .entries
            .iter()
            .zip(&other.entries)
            .all(|((a, x), (b, y))| a == b && x == y)
        {
            return true;
        }
        self.entries.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl PartialEq for Json<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Json::Null, Json::Null) => true,
            (Json::Bool(a), Json::Bool(b)) => a == b,
            (Json::Number(a), Json::Number(b)) => a == b,
            (Json::String(a), Json::String(b)) => a == b,
            (Json::Array(a), Json::Array(b)) => a == b,
            (Json::Object(a), Json::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq<serde_json::Value> for Json<'_> {
    fn eq(&self, other: &serde_json::Value) -> bool {
        match (self, other) {
            (Json::Null, serde_json::Value::Null) => true,
            (Json::Bool(a), serde_json::Value::Bool(b)) => a == b,
            (Json::Number(a), serde_json::Value::Number(b)) => a == b,
            (Json::String(a), serde_json::Value::String(b)) => a.as_str() == b,
            (Json::Array(a), serde_json::Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Json::Object(a), serde_json::Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.get(k.as_str()).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

impl PartialEq<Json<'_>> for serde_json::Value {
    fn eq(&self, other: &Json<'_>) -> bool {
        other == self
    }
}

impl PartialEq<str> for Json<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == Some(other)
    }
}

impl PartialEq<&str> for Json<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<String> for Json<'_> {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == Some(other.as_str())
    }
}

impl PartialEq<bool> for Json<'_> {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

macro_rules! eq_integer {
    ($($t:ty => $as:ident: $wide:ty),*) => {$(
        /// As `serde_json`: a number of the same value.
        impl PartialEq<$t> for Json<'_> {
            fn eq(&self, other: &$t) -> bool {
                self.$as().is_some_and(|n| n == *other as $wide)
            }
        }
    )*};
}
eq_integer!(i32 => as_i64: i64, i64 => as_i64: i64, u32 => as_u64: u64, u64 => as_u64: u64, usize => as_u64: u64);

impl<'a> std::ops::Index<&str> for Json<'a> {
    type Output = Json<'a>;
    /// `Null` for a missing key or a value that is no object, as `serde_json`.
    fn index(&self, key: &str) -> &Json<'a> {
        self.get(key).unwrap_or(&NULL)
    }
}

impl<'a> std::ops::IndexMut<&str> for Json<'a> {
    /// The value of `key`, inserted as `null` when absent; a `null` becomes an object. Panics on
    /// any other value, as `serde_json` does.
    fn index_mut(&mut self, key: &str) -> &mut Json<'a> {
        if self.is_null() {
            *self = Json::Object(Map::new());
        }
        match self {
            Json::Object(m) => m.entry_or_insert_with(key.to_string(), || Json::Null),
            _ => panic!("cannot index a non-object JSON value with a key"),
        }
    }
}

impl<'a> std::ops::Index<usize> for Json<'a> {
    type Output = Json<'a>;
    fn index(&self, i: usize) -> &Json<'a> {
        self.get(i).unwrap_or(&NULL)
    }
}

impl<'a> std::ops::IndexMut<usize> for Json<'a> {
    /// Panics when the value is no array or the index is past its end, as `serde_json` does.
    fn index_mut(&mut self, i: usize) -> &mut Json<'a> {
        self.get_mut(i).expect("index within an array")
    }
}

/// An owned copy: values made from a `&str` are edits and generated objects, which outlive
/// the text they came from. Readers borrow through [`Str`].
impl From<&str> for Json<'_> {
    fn from(s: &str) -> Self {
        Json::String(Str::from(s.to_string()))
    }
}

impl From<String> for Json<'_> {
    fn from(s: String) -> Self {
        Json::String(Str::from(s))
    }
}

impl<'a> From<Str<'a>> for Json<'a> {
    fn from(s: Str<'a>) -> Self {
        Json::String(s)
    }
}

impl From<bool> for Json<'_> {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Json<'_> {
            fn from(n: $t) -> Self {
                Json::Number(Number::from(n))
            }
        }
    )*};
}
from_integer!(i32, i64, u32, u64, usize);

impl<'a> From<Map<'a>> for Json<'a> {
    fn from(m: Map<'a>) -> Self {
        Json::Object(m)
    }
}

impl<'a> From<Vec<Json<'a>>> for Json<'a> {
    fn from(a: Vec<Json<'a>>) -> Self {
        Json::Array(a)
    }
}

impl From<serde_json::Value> for Json<'static> {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(b),
            serde_json::Value::Number(n) => Json::Number(n),
            serde_json::Value::String(s) => Json::String(Str::from(s)),
            serde_json::Value::Array(a) => Json::Array(a.into_iter().map(Json::from).collect()),
            serde_json::Value::Object(m) => Json::Object(Map {
                entries: m
                    .into_iter()
                    .map(|(k, v)| (Str::from(k), Json::from(v)))
                    .collect(),
            }),
        }
    }
}

impl serde::Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::String(v) => s.serialize_str(v),
            Json::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Json::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k.as_str(), v)?;
                }
                map.end()
            }
        }
    }
}

impl serde::Serialize for Map<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k.as_str(), v)?;
        }
        map.end()
    }
}

/// Compact JSON, as `serde_json::Value`'s `Display`.
impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Debug for Map<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

/// `serde_json::json!` for [`Json`]: the same syntax, an owned value. For the small values rules
/// and tests write; documents are read with the reader.
#[macro_export]
macro_rules! json {
    ($($tt:tt)+) => {
        $crate::yaml::Json::from(::serde_json::json!($($tt)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_compare_as_maps_and_keep_their_order() {
        let a: Map = [("a", Json::from(1)), ("b", Json::from("x"))]
            .into_iter()
            .collect();
        let b: Map = [("b", Json::from("x")), ("a", Json::from(1))]
            .into_iter()
            .collect();
        assert_eq!(a, b);
        assert_eq!(a.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            Json::Object(a.clone()),
            serde_json::json!({"b": "x", "a": 1})
        );
        let mut c = a.clone();
        assert_eq!(c.insert("a", Json::from(2)), Some(Json::from(1)));
        assert_eq!(
            c.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
            ["a", "b"],
            "an insert over a key keeps its place"
        );
        assert_ne!(a, c);
        assert_eq!(c.shift_remove("a"), Some(Json::from(2)));
        assert_eq!(Json::Object(c).to_string(), r#"{"b":"x"}"#);
    }

    #[test]
    fn index_and_index_mut_follow_serde_json() {
        let v = json!({"a": {"b/c": [10, 20], "~": true}});
        assert!(v["a"]["missing"].is_null());
        let mut w = Json::Null;
        w["k"]["l"] = Json::from(1);
        assert_eq!(w, serde_json::json!({"k": {"l": 1}}));
    }

    #[test]
    fn display_is_serde_jsons() {
        let v = serde_json::json!({"a": [1, -2, 1.5, "x\"y", null, true], "b": {}});
        assert_eq!(Json::from(v.clone()).to_string(), v.to_string());
    }
}
