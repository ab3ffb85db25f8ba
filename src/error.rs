//! Failures and their exit codes. Every failure is one line on stderr: what, where, how to fix.

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

#[derive(Clone, Debug, PartialEq, Eq)]
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

    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Refused { .. } => 1,
            _ => 2,
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
        }
    }
}

impl std::error::Error for Failure {}
