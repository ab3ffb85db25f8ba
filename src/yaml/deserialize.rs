//! A typed value read straight from a document's meaning: `&Json` as a serde deserializer.
//!
//! Every generated object is checked by reading it as its Kubernetes type (`templates::check`);
//! going through a `serde_json::Value` copy first (a heap string and a SipHash insert per key)
//! was a third of that check. This follows `serde_json::Value`'s own deserializer: numbers as
//! `u64`, `i64` or `f64` in that order, `null` as `None` or `()`, a string or a one-key mapping
//! as an enum, so a type reads the same here as from the copy (`tests/typed_read.rs`).

use std::marker::PhantomData;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};

use super::Json;

/// Read a `T` from `value`. Errors are `serde_json`'s, so they read as they did from the copy
/// (`null`, not serde's "unit value").
pub fn from_json<'de, T: de::Deserialize<'de>>(
    value: &'de Json<'_>,
) -> Result<T, serde_json::Error> {
    T::deserialize(Deserializer::<serde_json::Error> {
        value,
        error: PhantomData,
    })
}

pub struct Deserializer<'v, 'a, E> {
    value: &'v Json<'a>,
    error: PhantomData<E>,
}

impl<'de, 'a, E: de::Error> IntoDeserializer<'de, E> for &'de Json<'a> {
    type Deserializer = Deserializer<'de, 'a, E>;

    fn into_deserializer(self) -> Self::Deserializer {
        Deserializer {
            value: self,
            error: PhantomData,
        }
    }
}

impl<'de, 'a, E: de::Error> de::Deserializer<'de> for Deserializer<'de, 'a, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Json::Null => visitor.visit_unit(),
            Json::Bool(b) => visitor.visit_bool(*b),
            Json::Number(n) => match number(n) {
                Number::Unsigned(u) => visitor.visit_u64(u),
                Number::Signed(i) => visitor.visit_i64(i),
                Number::Float(f) => visitor.visit_f64(f),
            },
            Json::String(s) => visitor.visit_str(s.as_str()),
            Json::Array(items) => {
                let mut seq = SeqDeserializer::new(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Json::Object(m) => {
                let mut map = MapDeserializer::new(m.iter().map(|(k, v)| (k.as_str(), v)));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Json::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.value {
            Json::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Json::Object(m) => match m.iter().next() {
                Some((variant, value)) if m.len() == 1 => {
                    visitor.visit_enum(de::value::MapAccessDeserializer::new(MapDeserializer::new(
                        std::iter::once((variant.as_str(), value)),
                    )))
                }
                _ => Err(E::invalid_value(
                    de::Unexpected::Map,
                    &"map with a single key",
                )),
            },
            other => Err(E::invalid_type(unexpected(other), &"string or map")),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// How a value is named in a type error, as `serde_json` names it.
fn unexpected<'v>(value: &'v Json<'_>) -> de::Unexpected<'v> {
    match value {
        Json::Null => de::Unexpected::Unit,
        Json::Bool(b) => de::Unexpected::Bool(*b),
        Json::Number(n) => match number(n) {
            Number::Unsigned(u) => de::Unexpected::Unsigned(u),
            Number::Signed(i) => de::Unexpected::Signed(i),
            Number::Float(f) => de::Unexpected::Float(f),
        },
        Json::String(s) => de::Unexpected::Str(s.as_str()),
        Json::Array(_) => de::Unexpected::Seq,
        Json::Object(_) => de::Unexpected::Map,
    }
}

/// A number the way `serde_json` hands it to a visitor.
enum Number {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

fn number(n: &serde_json::Number) -> Number {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => Number::Unsigned(u),
        (None, Some(i)) => Number::Signed(i),
        (None, None) => Number::Float(n.as_f64().unwrap_or(f64::NAN)),
    }
}
