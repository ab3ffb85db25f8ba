//! New YAML text, always written by serde-saphyr: its default (YAML 1.1) quoting makes every
//! string that go-yaml would read as something else come out quoted.

use serde_saphyr::SerializerOptions;

use super::Json;

/// How a document lays out its blocks, so new fragments look like their neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Style {
    /// Spaces per nesting level.
    pub step: usize,
    /// `- ` items at the parent key's column (kubectl style) rather than indented by `step`.
    pub compact: bool,
    /// Line break of the document.
    pub crlf: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            step: 2,
            compact: false,
            crlf: false,
        }
    }
}

impl Style {
    pub fn nl(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }
}

fn options(style: Style) -> SerializerOptions {
    let mut o = SerializerOptions::default();
    o.indent_step = style.step.clamp(1, 64);
    o.compact_list_indent = style.compact;
    // Long strings stay on one line instead of being folded into `>-`.
    o.folded_wrap_chars = usize::MAX / 2;
    o
}

/// serde-saphyr's rendering of `value`, one entry per line, without line breaks.
pub(crate) fn lines(value: &Json<'_>, style: Style) -> Vec<String> {
    if let Some(lines) = super::emit_plain::lines(value, style) {
        return lines;
    }
    saphyr_lines(value, style)
}

/// [`lines`] always through serde-saphyr (what `emit_plain` is held to).
pub(crate) fn saphyr_lines(value: &Json<'_>, style: Style) -> Vec<String> {
    let text = serde_saphyr::to_string_with_options(value, options(style))
        // A JSON value always serialises; keep a visible marker rather than panic.
        .unwrap_or_else(|_| "null\n".to_string());
    text.lines().map(str::to_string).collect()
}

/// `lines` placed at column `col`, each ending with the document's line break.
pub(crate) fn indent(lines: &[String], col: usize, style: Style) -> String {
    let pad = " ".repeat(col);
    // Sized once: edited documents keep their new text until the stream is written.
    let mut out =
        String::with_capacity(lines.iter().map(|l| col + l.len() + style.nl().len()).sum());
    for l in lines {
        if !l.is_empty() {
            out.push_str(&pad);
            out.push_str(l);
        }
        out.push_str(style.nl());
    }
    out
}

/// A whole document as block YAML with indented sequences, as most Helm charts write them.
pub fn to_yaml(value: &Json<'_>) -> String {
    indent(&lines(value, Style::default()), 0, Style::default())
}
