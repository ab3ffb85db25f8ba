//! Reading the stream for the rules: every document parsed and checked, its workloads and what
//! it tells about the release found, and the meaning of documents no rule reads let go; in a
//! large stream a workload's document too, until its group runs (it is read again then), so
//! the stream's meaning is never held whole in memory.

use crate::error::Failure;
use crate::stream::{self, Doc};
use crate::workload::{self, Clues, Workload};
use crate::yaml::{Json, Map};

/// What reading found in one document.
pub(super) struct Found<'a> {
    /// Refused objects (no kind, a Secret that does not decode) are reported after every
    /// document parsed, as before: a parse error anywhere comes first.
    pub check: Result<(), Box<Failure>>,
    pub warnings: Vec<String>,
    pub workloads: Vec<Workload>,
    pub shape: Shape,
    /// What it tells about the release.
    pub clues: Clues<'a>,
}

/// What the rules ask of how a document was read, once its workloads and clues are taken.
#[derive(Clone, Copy)]
pub(super) struct Shape {
    /// Every object of the document is a workload: no rule after the workloads' can change it,
    /// so its group writes it.
    pub only_workloads: bool,
    /// The document's meaning was dropped to its metadata (it is read again when its group runs).
    pub dropped: bool,
    /// The document is of a kind no rule reads: its meaning was let go.
    pub trimmed: bool,
}

/// Read, check and trim every document (see the module). A `small` stream keeps workload
/// documents whole, and their span trees, from the first reading, so none is read twice; in a
/// large one memory matters more (`stream::KEEP_SPANS_BELOW`, docs/benchmarks.md).
pub(super) fn read(
    input: &[u8],
    trim: bool,
    small: bool,
) -> Result<stream::Each<'_, Found<'_>>, Failure> {
    let (text, mut read) = stream::read_each(input, small, |doc| {
        let check = check_object(doc).map_err(Box::new);
        let clues = Clues::of(doc);
        let trimmed = trim && crate::rules::metadata_only(&mut doc.parsed.value);
        let warnings = doc
            .parsed
            .duplicates
            .iter()
            .map(|d| {
                format!(
                    "{}: duplicate key `{}` (lines {} and {}); Kubernetes keeps the last one",
                    doc.at(d.line),
                    d.path,
                    doc.line + d.first_line - 1,
                    doc.line + d.line - 1
                )
            })
            .collect();
        let workloads = workload::found_in(doc.index, doc.value());
        let only_workloads =
            !workloads.is_empty() && workloads.len() == workload::objects(doc.value()).count();
        let dropped = !small && only_workloads && check.is_ok();
        if trimmed || dropped {
            doc.let_go();
        }
        Found {
            check,
            warnings,
            workloads,
            shape: Shape {
                only_workloads,
                dropped,
                trimmed,
            },
            clues,
        }
    })?;
    match read.iter().position(|(_, f)| f.check.is_err()) {
        Some(i) => Err(*read.swap_remove(i).1.check.expect_err("a refused object")),
        None => Ok((text, read)),
    }
}

/// A copy of a document's objects down to what every rule may read of any object:
/// `apiVersion`, `kind` and `metadata` (a List keeps its items, each so trimmed).
pub(super) fn stub<'a>(value: &Json<'a>) -> Json<'a> {
    let object = |o: &Map<'a>| -> Map<'a> {
        o.iter()
            .filter(|(k, _)| matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let Some(m) = value.as_object() else {
        return value.clone();
    };
    let mut out = object(m);
    if m.get("kind").and_then(Json::as_str) == Some("List") {
        if let Some(Json::Array(items)) = m.get("items") {
            out.insert(
                "items",
                Json::Array(
                    items
                        .iter()
                        .map(|i| {
                            i.as_object()
                                .map_or_else(|| i.clone(), |o| Json::Object(object(o)))
                        })
                        .collect(),
                ),
            );
        }
    }
    Json::Object(out)
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
            check_secret(obj).or_else(|what| {
                fail(
                    what,
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

/// A Secret's `data` must decode; the message names the key, never the value. An empty `data:`
/// (null) is no data, as the API server reads it.
fn check_secret(obj: &Json<'_>) -> Result<(), String> {
    let Some(data) = obj.get("data").filter(|d| !d.is_null()) else {
        return Ok(());
    };
    let Some(map) = data.as_object() else {
        return Err("Secret `data` is not a mapping".into());
    };
    for (key, value) in map {
        match value {
            Json::String(s) if is_base64(s.as_str()) => {}
            Json::Null => {}
            Json::String(_) => return Err(format!("Secret data key `{key}` is not valid base64")),
            _ => return Err(format!("Secret data key `{key}` is not a string")),
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
