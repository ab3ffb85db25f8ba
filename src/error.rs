//! Failures and their exit codes. Every failure is one line on stderr: what, where, how to fix.
//!
//! One type, [`Failure`], for everything that stops a run, by layer: the stream (`Input`), the
//! policy file (`Policy`), the command line (`Usage`), a file the command line named (`Io`,
//! with the system's error as its `source()`), a template (`Template`, whose
//! [`TemplateError`] keeps the template engine's, YAML reader's or type check's error as its
//! `source()`), and the policy's own refusal (`Refused`). [`Failure::exit_code`] is the
//! one place exit codes come from. Display is hand-written (each message has its own shape),
//! so a derive crate would save little.

use std::fmt;

/// Where in the stream a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// 0-based document index.
    pub doc: usize,
    /// 1-based line in the input stream.
    pub line: usize,
    /// `Kind/name` when known; never any data.
    pub object: String,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "document {} (line {}, {})",
            self.doc + 1,
            self.line,
            self.object
        )
    }
}

#[derive(Debug)]
pub enum Failure {
    /// The manifest stream cannot be processed safely (exit 2).
    Input {
        at: Located,
        what: String,
        fix: String,
    },
    /// The policy file is wrong (exit 2).
    Policy {
        file: String,
        line: Option<usize>,
        key: String,
        what: String,
        fix: String,
    },
    /// Bad command line (exit 2).
    Usage(String),
    /// A file or directory the command line named could not be read or written (exit 2).
    Io {
        /// What could not be done, e.g. `cannot read values.yaml`.
        what: String,
        source: std::io::Error,
    },
    /// A template could not be rendered into a valid object (exit 2).
    Template(TemplateError),
    /// The input is understood, and the policy refuses it, e.g. `--strict` (exit 1).
    Refused {
        at: Located,
        what: String,
        fix: String,
    },
}

impl Failure {
    pub fn input(at: Located, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Failure::Input {
            at,
            what: what.into(),
            fix: fix.into(),
        }
    }

    pub fn refused(at: Located, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Failure::Refused {
            at,
            what: what.into(),
            fix: fix.into(),
        }
    }

    pub fn policy(
        file: &str,
        line: Option<usize>,
        key: &str,
        what: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Failure::Policy {
            file: file.to_string(),
            line,
            key: key.to_string(),
            what: what.into(),
            fix: fix.into(),
        }
    }

    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Failure::Io {
            what: what.into(),
            source,
        }
    }

    /// The process's exit code: 1 when the policy refuses a stream it understood, 2 when the
    /// run could not be done (Helm aborts the release either way).
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Refused { .. } => 1,
            Failure::Input { .. }
            | Failure::Policy { .. }
            | Failure::Usage(_)
            | Failure::Io { .. }
            | Failure::Template(_) => 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input { at, what, fix } | Failure::Refused { at, what, fix } => {
                write!(f, "{at}: {what}; {fix}")
            }
            Failure::Policy {
                file,
                line,
                key,
                what,
                fix,
            } => {
                let line = line.map(|l| format!(" line {l}")).unwrap_or_default();
                let key = if key.is_empty() {
                    String::new()
                } else {
                    format!(", key `{key}`")
                };
                write!(f, "policy {file}{line}{key}: {what}; {fix}")
            }
            Failure::Usage(msg) => write!(f, "{msg}"),
            Failure::Io { what, source } => write!(f, "{what}: {source}"),
            Failure::Template(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Io { source, .. } => Some(source),
            Failure::Template(e) => Some(e),
            _ => None,
        }
    }
}

/// A template that did not render into a valid object: a user's (from `--templates`), or a
/// built-in one, which is a bug in helm-ha.
#[derive(Debug)]
pub struct TemplateError {
    /// The template's name, e.g. `pdb.yaml`.
    pub name: String,
    /// The file it came from; `None` for a built-in template.
    pub file: Option<String>,
    /// What went wrong, in full (the source's message included).
    pub what: String,
    /// The template engine's, the YAML reader's or the type check's error, when there is one.
    pub source: Option<Cause>,
}

/// An underlying error kept as a `source()`.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TemplateError {
            name, file, what, ..
        } = self;
        match file {
            Some(file) => write!(
                f,
                "template `{name}` ({file}): {what}; fix {file} or remove it from --templates"
            ),
            None => write!(
                f,
                "template `{name}` (built-in): {what}; this is a bug in helm-ha: please report it"
            ),
        }
    }
}

impl std::error::Error for TemplateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_file_error_keeps_the_system_error_as_its_source() {
        let e = Failure::io(
            "cannot read values.yaml",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(e.to_string(), "cannot read values.yaml: entity not found");
        let source = e.source().expect("a source");
        assert_eq!(source.to_string(), "entity not found");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn a_broken_built_in_template_is_a_template_error_that_says_it_is_a_bug() {
        let e = Failure::Template(TemplateError {
            name: "pdb.yaml".into(),
            file: None,
            what: "the result is not one object".into(),
            source: None,
        });
        assert!(matches!(e.source(), Some(s) if s.is::<TemplateError>()));
        assert!(e
            .to_string()
            .ends_with("this is a bug in helm-ha: please report it"));
        let user = TemplateError {
            name: "pdb.yaml".into(),
            file: Some("t/pdb.yaml".into()),
            what: "x".into(),
            source: None,
        };
        assert_eq!(
            user.to_string(),
            "template `pdb.yaml` (t/pdb.yaml): x; fix t/pdb.yaml or remove it from --templates"
        );
    }
}
