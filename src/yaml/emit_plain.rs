//! serde-saphyr's output for the values helm-ha writes most (maps, lists, integers, booleans
//! and names like `kubernetes.io/hostname`), written directly. serde-saphyr spends most of its
//! time deciding how to quote each string; a string made only of letters, digits and `._/-`
//! that starts with a letter and is no YAML 1.1 keyword needs no quotes under any reader. Any
//! other value (another string, a float, a list in a list, another indentation step) gets
//! `None`, and serde-saphyr writes it. Tests hold the two to the same bytes.

use super::emit::Style;
use super::{Json, Map};

/// The lines serde-saphyr would write for `value`, or `None` when it is not this simple.
pub(crate) fn lines(value: &Json<'_>, style: Style) -> Option<Vec<String>> {
    if style.step != 2 {
        return None;
    }
    let mut w = Writer {
        compact: style.compact,
        out: Vec::new(),
    };
    match value {
        Json::Object(m) if !m.is_empty() => w.map(m, 0, String::new())?,
        Json::Array(items) if !items.is_empty() => w.seq(items, 0)?,
        scalar => {
            let mut line = String::new();
            inline(scalar, &mut line)?;
            w.out.push(line);
        }
    }
    Some(w.out)
}

struct Writer {
    compact: bool,
    out: Vec<String>,
}

impl Writer {
    /// A mapping whose keys sit at `col`; the first line starts with `lead` (spaces, or the
    /// spaces and `- ` of the list item it opens).
    fn map(&mut self, m: &Map<'_>, col: usize, lead: String) -> Option<()> {
        let mut lead = Some(lead);
        for (k, v) in m {
            let mut line = lead.take().unwrap_or_else(|| indented(col));
            line.push_str(plain(k)?);
            line.push(':');
            match v {
                Json::Object(inner) if !inner.is_empty() => {
                    self.out.push(line);
                    self.map(inner, col + 2, indented(col + 2))?;
                }
                Json::Array(items) if !items.is_empty() => {
                    self.out.push(line);
                    self.seq(items, if self.compact { col } else { col + 2 })?;
                }
                scalar => {
                    line.push(' ');
                    inline(scalar, &mut line)?;
                    self.out.push(line);
                }
            }
        }
        Some(())
    }

    /// A list whose dashes sit at `col`.
    fn seq(&mut self, items: &[Json<'_>], col: usize) -> Option<()> {
        for item in items {
            let mut dash = indented(col);
            dash.push_str("- ");
            match item {
                Json::Object(m) if !m.is_empty() => self.map(m, col + 2, dash)?,
                Json::Array(inner) if !inner.is_empty() => return None,
                scalar => {
                    inline(scalar, &mut dash)?;
                    self.out.push(dash);
                }
            }
        }
        Some(())
    }
}

/// A line's first `col` spaces, with room for what follows (most lines are short), so that it
/// is not grown piece by piece.
fn indented(col: usize) -> String {
    let mut line = String::with_capacity(col + 48);
    line.extend(std::iter::repeat_n(' ', col));
    line
}

/// Append a value that fits after `key: ` or `- ` as it is.
fn inline(v: &Json<'_>, line: &mut String) -> Option<()> {
    match v {
        Json::Null => line.push_str("null"),
        Json::Bool(b) => line.push_str(if *b { "true" } else { "false" }),
        Json::Object(_) => line.push_str("{}"),
        Json::Array(_) => line.push_str("[]"),
        // Integers print alike everywhere; floats have several spellings.
        Json::Number(n) if n.is_i64() || n.is_u64() => line.push_str(&n.to_string()),
        Json::Number(_) => return None,
        Json::String(s) => line.push_str(plain(s)?),
    }
    Some(())
}

/// `s` when it needs no quotes: a letter, then letters, digits and `._/-`, and not a word
/// YAML 1.1 or 1.2 reads as a boolean, null or special float.
fn plain(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let simple = b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'));
    let keyword = b.len() <= 5
        && [
            "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
        ]
        .iter()
        .any(|k| s.eq_ignore_ascii_case(k));
    (simple && !keyword).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::super::emit::{saphyr_lines, Style};
    use super::lines;
    use crate::json;
    use crate::yaml::Json;
    use proptest::prelude::*;

    fn styles() -> [Style; 2] {
        [
            Style::default(),
            Style {
                compact: true,
                ..Style::default()
            },
        ]
    }

    /// Where the direct writer answers, it says what serde-saphyr says.
    fn agrees(v: &Json<'_>) -> bool {
        styles()
            .into_iter()
            .all(|style| lines(v, style).is_none_or(|direct| direct == saphyr_lines(v, style)))
    }

    #[test]
    fn writes_the_common_shapes_as_serde_saphyr_does() {
        let v = json!({"a": 1, "b": [1, -2, {"c": "x", "d": ["z"], "e": {}}], "f": [], "g": null, "h": true,
            "i": {"j": {"k": "kubernetes.io/hostname"}}, "l": [[], {}], "m": [{"o": [{"p": 1}], "q": {"r": "s"}}], "u": 18446744073709551615u64});
        for style in styles() {
            assert_eq!(
                lines(&v, style).as_ref(),
                Some(&saphyr_lines(&v, style)),
                "{style:?}"
            );
        }
        for scalar in [json!("name"), json!(3), json!(null), json!({}), json!([])] {
            assert_eq!(
                lines(&scalar, Style::default()),
                Some(saphyr_lines(&scalar, Style::default()))
            );
        }
    }

    #[test]
    fn leaves_everything_else_to_serde_saphyr() {
        let quoted = [
            "y", "N", "yes", "On", "off", "TRUE", "null", "NaN", "inf", "", "1", "-a", "a b",
            "a:b", "x\ny", "é", "a#b", ".x", "<<", "=",
        ];
        for s in quoted {
            assert_eq!(
                lines(&json!({ "k": s }), Style::default()),
                None,
                "value {s:?}"
            );
            assert_eq!(lines(&json!({ s: 1 }), Style::default()), None, "key {s:?}");
        }
        assert_eq!(lines(&json!({"k": 1.5}), Style::default()), None);
        assert_eq!(lines(&json!([[1]]), Style::default()), None);
        assert_eq!(
            lines(
                &json!({"k": 1}),
                Style {
                    step: 4,
                    ..Style::default()
                }
            ),
            None
        );
    }

    fn scalar() -> impl Strategy<Value = Json<'static>> {
        prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            prop_oneof![
                "[a-zA-Z][a-zA-Z0-9._/-]{0,12}",
                "[a-zA-Z0-9 ._/:#-]{0,6}",
                Just("y".to_string()),
                Just("Off".to_string()),
                Just("a".repeat(200)),
            ]
            .prop_map(Json::from),
        ]
    }

    /// Lists hold scalars and mappings only, so with names for strings the direct writer
    /// must answer.
    fn simple() -> impl Strategy<Value = Json<'static>> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            "[a-z]{6}[a-zA-Z0-9._/-]{0,12}".prop_map(Json::from)
        ];
        leaf.prop_recursive(5, 48, 5, |inner| {
            let entries = prop::collection::vec(("[a-z]{6}[a-zA-Z0-9._/-]{0,8}", inner), 0..5)
                .prop_map(|e| Json::Object(e.into_iter().collect()));
            prop_oneof![
                entries.clone(),
                prop::collection::vec(prop_oneof![entries, Just(Json::from(1))], 0..5)
                    .prop_map(Json::Array)
            ]
        })
    }

    fn value() -> impl Strategy<Value = Json<'static>> {
        scalar().prop_recursive(5, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                prop::collection::vec(("[a-zA-Z][a-zA-Z0-9._/-]{0,8}|[a-z :]{0,3}", inner), 0..5)
                    .prop_map(|entries| Json::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn agrees_with_serde_saphyr(v in value()) {
            prop_assert!(agrees(&v), "{v}");
        }

        #[test]
        fn answers_for_simple_values(v in simple()) {
            for style in styles() {
                prop_assert_eq!(lines(&v, style), Some(saphyr_lines(&v, style)), "{}", v);
            }
        }
    }
}
