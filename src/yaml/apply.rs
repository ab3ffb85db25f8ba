//! Edits applied to plain JSON: the value an edited document must mean.

use super::{Edit, Json, Map, Seg, YamlError};

fn fail(path: &[Seg], why: &str) -> YamlError {
    let shown: Vec<String> = path
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => format!("[{i}]"),
        })
        .collect();
    YamlError {
        line: 0,
        col: 0,
        message: format!("cannot edit `{}`: {why}", shown.join(".")),
    }
}

/// Walk to the parent of the last segment, creating mappings for missing or null keys.
fn parent_mut<'v, 'a>(root: &'v mut Json<'a>, path: &[Seg]) -> Result<&'v mut Json<'a>, YamlError> {
    let mut cur = root;
    for (i, seg) in path[..path.len() - 1].iter().enumerate() {
        if cur.is_null() {
            *cur = Json::Object(Map::new());
        }
        cur = match (cur, seg) {
            (Json::Object(m), Seg::Key(k)) => {
                let slot = m.entry_or_insert_with(k.clone(), || Json::Null);
                if slot.is_null() {
                    *slot = Json::Object(Map::new());
                }
                slot
            }
            (Json::Array(a), Seg::Index(j)) => a
                .get_mut(*j)
                .ok_or_else(|| fail(&path[..=i], "index beyond the sequence"))?,
            _ => return Err(fail(&path[..=i], "a scalar or list is in the way")),
        };
    }
    Ok(cur)
}

/// Walk without creating anything; `None` when the path does not exist.
fn get_mut<'v, 'a>(root: &'v mut Json<'a>, path: &[Seg]) -> Option<&'v mut Json<'a>> {
    path.iter().try_fold(root, |v, seg| match (v, seg) {
        (Json::Object(m), Seg::Key(k)) => m.get_mut(k),
        (Json::Array(a), Seg::Index(i)) => a.get_mut(*i),
        _ => None,
    })
}

/// Put `value` at the last segment of `path` under `parent`.
fn put<'v, 'a>(
    parent: &'v mut Json<'a>,
    path: &[Seg],
    value: Json<'a>,
) -> Result<&'v mut Json<'a>, YamlError> {
    if parent.is_null() {
        *parent = Json::Object(Map::new());
    }
    match (parent, &path[path.len() - 1]) {
        (Json::Object(m), Seg::Key(k)) => {
            let slot = m.entry_or_insert_with(k.clone(), || Json::Null);
            *slot = value;
            Ok(slot)
        }
        (Json::Array(a), Seg::Index(i)) => {
            let slot = a
                .get_mut(*i)
                .ok_or_else(|| fail(path, "index beyond the sequence"))?;
            *slot = value;
            Ok(slot)
        }
        _ => Err(fail(path, "a scalar or list is in the way")),
    }
}

pub(crate) fn apply_one(root: &mut Json<'_>, edit: &Edit) -> Result<(), YamlError> {
    match edit {
        Edit::Set(path, value) if path.is_empty() => *root = value.clone(),
        Edit::Set(path, value) => {
            put(parent_mut(root, path)?, path, value.clone())?;
        }
        Edit::Remove(path) => {
            let Some((last, init)) = path.split_last() else {
                return Ok(());
            };
            match (get_mut(root, init), last) {
                (Some(Json::Object(m)), Seg::Key(k)) => {
                    m.shift_remove(k);
                }
                (Some(Json::Array(a)), Seg::Index(i)) if *i < a.len() => {
                    a.remove(*i);
                }
                _ => {}
            }
        }
        Edit::Append(path, item) => {
            let target = if path.is_empty() {
                root
            } else {
                let parent = parent_mut(root, path)?;
                let last = &path[path.len() - 1..];
                if get_mut(parent, last).is_none() {
                    put(parent, path, Json::Null)?;
                }
                get_mut(parent, last).ok_or_else(|| fail(path, "a scalar or list is in the way"))?
            };
            match target {
                Json::Null => *target = Json::Array(vec![item.clone()]),
                Json::Array(a) => a.push(item.clone()),
                _ => return Err(fail(path, "the target is not a list")),
            }
        }
    }
    Ok(())
}
