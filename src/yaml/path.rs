//! The one way to name a place in a document, for reading it and for editing it.
//!
//! Rules write paths as dotted keys (`"spec.template.spec"`), and build the rest with
//! [`Path::key`] for keys that hold a dot or a slash (annotation and label keys) and
//! [`Path::index`] for list items. The same [`Path`] that a rule reads a value through is the
//! one its [`super::Edit`] changes, so a rule cannot read one place and edit another.

use std::fmt;

use super::json::{array_index, Json};

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path from a document's root (or from an object, where a caller says so).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(Vec<Seg>);

impl Path {
    /// The root.
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// `"spec.template.spec"`: one key per dot-separated step.
    pub fn dotted(dotted: &str) -> Path {
        Path::root().join(dotted)
    }

    /// This path, then the dotted keys `rel`.
    #[must_use]
    pub fn join(mut self, rel: &str) -> Path {
        self.0.extend(
            rel.split('.')
                .filter(|s| !s.is_empty())
                .map(|s| Seg::Key(s.to_string())),
        );
        self
    }

    /// This path, then the key `key` (which may hold dots and slashes).
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Path {
        self.0.push(Seg::Key(key.into()));
        self
    }

    /// This path, then item `i` of a sequence.
    #[must_use]
    pub fn index(mut self, i: usize) -> Path {
        self.0.push(Seg::Index(i));
        self
    }

    /// This path, then every step of `rel`.
    #[must_use]
    pub fn then(mut self, rel: &Path) -> Path {
        self.0.extend(rel.0.iter().cloned());
        self
    }
}

impl From<Vec<Seg>> for Path {
    fn from(segs: Vec<Seg>) -> Path {
        Path(segs)
    }
}

impl std::ops::Deref for Path {
    type Target = [Seg];
    fn deref(&self) -> &[Seg] {
        &self.0
    }
}

/// For messages: dotted, with keys that hold a dot or slash and indices in brackets
/// (`metadata.annotations[helm.sh/hook]`, `spec.ports[0]`).
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if k.contains('.') || k.contains('/') => write!(f, "[{k}]")?,
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// What [`Json::at`] follows: a [`Path`], or dotted keys written in place (read without
/// building a path; a step into a sequence is an index, as in `"spec.ports.0"`).
pub trait ToPath {
    fn follow<'v, 'a>(&self, root: &'v Json<'a>) -> Option<&'v Json<'a>>;
}

impl ToPath for str {
    fn follow<'v, 'a>(&self, root: &'v Json<'a>) -> Option<&'v Json<'a>> {
        self.split('.')
            .filter(|s| !s.is_empty())
            .try_fold(root, |v, step| match v {
                Json::Object(m) => m.get(step),
                Json::Array(items) => items.get(array_index(step)?),
                _ => None,
            })
    }
}

impl ToPath for Path {
    fn follow<'v, 'a>(&self, root: &'v Json<'a>) -> Option<&'v Json<'a>> {
        self.0.follow(root)
    }
}

impl ToPath for [Seg] {
    fn follow<'v, 'a>(&self, root: &'v Json<'a>) -> Option<&'v Json<'a>> {
        self.iter().try_fold(root, |v, seg| match seg {
            Seg::Key(k) => v.get(k.as_str()),
            Seg::Index(i) => v.get(*i),
        })
    }
}

impl<T: ToPath + ?Sized> ToPath for &T {
    fn follow<'v, 'a>(&self, root: &'v Json<'a>) -> Option<&'v Json<'a>> {
        (**self).follow(root)
    }
}

impl ToPath for String {
    fn follow<'v, 'a>(&self, root: &'v Json<'a>) -> Option<&'v Json<'a>> {
        self.as_str().follow(root)
    }
}

impl<'a> Json<'a> {
    /// The value at `path`, if every step exists.
    pub fn at(&self, path: impl ToPath) -> Option<&Json<'a>> {
        path.follow(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_reads_where_its_edit_writes_and_prints_as_a_message_shows_it() {
        let v = crate::json!({
            "metadata": {"annotations": {"helm.sh/hook": "test"}},
            "spec": {"ports": [{"port": 80}]}
        });
        let hook = Path::dotted("metadata.annotations").key("helm.sh/hook");
        assert_eq!(v.at(&hook).and_then(Json::as_str), Some("test"));
        assert_eq!(hook.to_string(), "metadata.annotations[helm.sh/hook]");
        let port = Path::dotted("spec.ports").index(0).join("port");
        assert_eq!(v.at(&port), v.at("spec.ports.0.port"));
        assert_eq!(port.to_string(), "spec.ports[0].port");
        assert_eq!(v.at(""), Some(&v));
        assert_eq!(v.at("spec.ports.00"), None);
        assert_eq!(v.at("spec.missing"), None);
    }
}
