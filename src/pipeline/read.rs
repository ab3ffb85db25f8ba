//! The read stage: every document parsed and checked, the release it belongs to inferred and
//! its workloads found and named.

use crate::error::Failure;
use crate::policy::Policy;
use crate::stream::{self, Doc};
use crate::workload::{self, Release, Workload};
use crate::yaml::Json;

/// The stream once read.
pub(super) struct Read<'a> {
    pub text: &'a str,
    pub docs: Vec<Doc<'a>>,
    pub release: Release,
    /// In stream order, named (not yet classified).
    pub workloads: Vec<Workload>,
    /// Things the user should know that are not findings (duplicate keys).
    pub warnings: Vec<String>,
}

/// Read `input`: a document that does not parse, or an object Kubernetes could not decode, is
/// refused (the first in stream order; every parse error comes before any refused object).
pub(super) fn read<'a>(
    input: &'a [u8],
    policy: &Policy,
    names: &super::Names,
) -> Result<Read<'a>, Failure> {
    let text = stream::decode(input)?;
    let docs = stream::read_text(text)?;
    docs.iter().try_for_each(check_object)?;
    let release = Release::infer(&docs, names.namespace.clone(), names.release.clone());
    let mut workloads: Vec<Workload> = docs
        .iter()
        .flat_map(|d| workload::found_in(d.index, d.value()))
        .collect();
    workload::name(&mut workloads, &policy.service_labels, &release);
    let warnings = docs.iter().flat_map(duplicate_keys).collect();
    Ok(Read {
        text,
        docs,
        release,
        workloads,
        warnings,
    })
}

/// A warning for each duplicate key of `doc`.
fn duplicate_keys<'d>(doc: &'d Doc<'_>) -> impl Iterator<Item = String> + 'd {
    doc.parsed.duplicates.iter().map(move |d| {
        format!(
            "{}: duplicate key `{}` (lines {} and {}); Kubernetes keeps the last one",
            doc.at(d.line),
            d.path,
            doc.line + d.first_line - 1,
            doc.line + d.line - 1
        )
    })
}

/// Objects Kubernetes could not decode are refused here, before anything is written.
fn check_object(doc: &Doc<'_>) -> Result<(), Failure> {
    let fail = |what: String, fix: &str| Err(Failure::input(doc.at(1), what, fix));
    let v = doc.value();
    match v {
        Json::Null => return Ok(()),
        Json::Object(_) => {}
        Json::Array(_) => {
            return fail(
                "a document must be one Kubernetes object; this one is a list".into(),
                "emit one object per document (or a `kind: List`)",
            )
        }
        _ => {
            return fail(
                "a document must be one Kubernetes object; this one is a scalar".into(),
                "check the template for stray text",
            )
        }
    }
    for (path, obj) in workload::objects(v) {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" (List item {})", path.len())
        };
        for field in ["apiVersion", "kind"] {
            if obj
                .get(field)
                .and_then(Json::as_str)
                .is_none_or(str::is_empty)
            {
                return fail(
                    format!("object{at} has no `{field}`"),
                    "every Kubernetes object needs apiVersion and kind",
                );
            }
        }
        if obj.get("kind").and_then(Json::as_str) == Some("Secret") {
            check_secret(obj).or_else(|e| {
                fail(
                    e.to_string(),
                    "`data` values must be base64 strings (use `stringData` for plain text)",
                )
            })?;
        }
    }
    if v.get("kind").and_then(Json::as_str) == Some("List")
        && !v.get("items").is_some_and(|i| i.is_array() || i.is_null())
    {
        return fail(
            "`kind: List` without an `items` list".into(),
            "put the objects under `items:`",
        );
    }
    Ok(())
}

/// A Secret's `data` that Kubernetes could not decode. It names the key, never the value.
#[derive(Debug)]
enum BadSecretData {
    NotAMapping,
    NotBase64 { key: String },
    NotAString { key: String },
}

impl std::fmt::Display for BadSecretData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadSecretData::NotAMapping => write!(f, "Secret `data` is not a mapping"),
            BadSecretData::NotBase64 { key } => {
                write!(f, "Secret data key `{key}` is not valid base64")
            }
            BadSecretData::NotAString { key } => {
                write!(f, "Secret data key `{key}` is not a string")
            }
        }
    }
}

impl std::error::Error for BadSecretData {}

/// A Secret's `data` must decode. An empty `data:` (null) is no data, as the API server reads it.
fn check_secret(obj: &Json<'_>) -> Result<(), BadSecretData> {
    let Some(data) = obj.get("data").filter(|d| !d.is_null()) else {
        return Ok(());
    };
    let Some(map) = data.as_object() else {
        return Err(BadSecretData::NotAMapping);
    };
    for (key, value) in map {
        let key = || key.to_string();
        match value {
            Json::String(s) if is_base64(s.as_str()) => {}
            Json::Null => {}
            Json::String(_) => return Err(BadSecretData::NotBase64 { key: key() }),
            _ => return Err(BadSecretData::NotAString { key: key() }),
        }
    }
    Ok(())
}

fn is_base64(s: &str) -> bool {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = s.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    s.len().is_multiple_of(4)
        && s.len() - body <= 2
        && s[..body]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_checked_without_decoding() {
        assert!(is_base64("cGFzc3dvcmQ="));
        assert!(is_base64(""));
        assert!(is_base64("cGFz\n c3dv"));
        assert!(!is_base64("not base64!"));
        assert!(!is_base64("abc"));
        assert!(!is_base64("a==="));
    }
}
