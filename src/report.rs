//! Human and machine views of an analysis: `--explain`, and `check`'s text and JSON reports.

use crate::json;
use crate::pipeline::Analysis;
use crate::rules::{Finding, Fix, Meta, Severity};
use crate::yaml::Edit;

/// `--explain`: the release context, then per workload its name, tier and every change.
pub fn explain(a: &Analysis) -> Vec<String> {
    let r = &a.release;
    let mut out = vec![format!(
        "helm-ha: release {} in namespace {}, chart {}{}",
        r.name.as_deref().unwrap_or("(unknown)"),
        r.namespace.as_deref().unwrap_or("(unknown)"),
        r.chart.as_deref().unwrap_or("(unknown)"),
        if r.helm4 { " (Helm 4 stream)" } else { "" }
    )];
    for (w, d) in &a.workloads {
        out.push(format!(
            "{} (document {}): service `{}` from {}; tier {}: {}",
            w.describe(),
            w.doc + 1,
            w.service,
            w.named_by,
            d.tier.as_str(),
            d.why
        ));
        for f in a
            .findings
            .iter()
            .filter(|f| f.doc == Some(w.doc) && f.object == w.describe())
        {
            out.push(format!(
                "  {} {}: {}{}",
                f.rule.code,
                f.rule.name,
                f.message,
                fix_summary(f)
            ));
        }
    }
    for f in a.findings.iter().filter(|f| {
        !f.is_manual()
            && !a
                .workloads
                .iter()
                .any(|(w, _)| f.doc == Some(w.doc) && f.object == w.describe())
    }) {
        out.push(format!(
            "{}: {} {}: {}{}",
            f.object,
            f.rule.code,
            f.rule.name,
            f.message,
            fix_summary(f)
        ));
    }
    out
}

fn fix_summary(f: &Finding) -> String {
    match &f.fix {
        None => String::new(),
        Some(Fix::Add(new)) => format!(" [adds {}/{}]", new.kind, new.name),
        Some(Fix::Edit { edits, .. }) => {
            let parts: Vec<String> = edits
                .iter()
                .map(|e| match e {
                    Edit::Set(p, v) => format!("set {p} = {v}"),
                    Edit::Remove(p) => format!("remove {p}"),
                    Edit::Append(p, _) => format!("append to {p}"),
                })
                .collect();
            format!(" [{}]", parts.join("; "))
        }
    }
}

/// Where each input came from, to point `check` findings at a file and line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins {
    /// `(name, first line of the stream that is this input's line 1)`, in stream order; the
    /// name is the path as given, or `stdin`.
    pub inputs: Vec<(String, usize)>,
}

impl Origins {
    #[cfg(test)]
    pub fn stdin() -> Self {
        Origins {
            inputs: vec![("stdin".to_string(), 1)],
        }
    }

    /// `(input name, line in it)` of stream line `line`.
    pub fn locate(&self, line: usize) -> (&str, usize) {
        match self.inputs.iter().rev().find(|(_, start)| *start <= line) {
            Some((name, start)) => (name, line - start + 1),
            None => (
                self.inputs.first().map_or("stdin", |(n, _)| n.as_str()),
                line.max(1),
            ),
        }
    }
}

/// Stream line of a finding: its object's first line (after the `---` marker and the leading
/// comments), or 1 for findings about no document.
pub fn line_of(a: &Analysis, f: &Finding) -> usize {
    let Some(doc) = f.doc.and_then(|d| a.docs.get(d)) else {
        return 1;
    };
    let skip = doc.raw.lines().take_while(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t.starts_with("--- ")
    });
    let skipped = skip.count();
    if skipped >= doc.raw.lines().count() {
        doc.line
    } else {
        doc.line + skipped
    }
}

/// `render`'s one line about the findings it leaves (check-only rules: probes, shutdown, …),
/// instead of one line each; `None` when there are none.
pub fn unfixed_summary<'f>(findings: impl Iterator<Item = &'f Finding>) -> Option<String> {
    let findings: Vec<&Finding> = findings.collect();
    if findings.is_empty() {
        return None;
    }
    let mut codes: Vec<&str> = findings.iter().map(|f| f.rule.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let counts: Vec<String> = [Severity::Error, Severity::Warning, Severity::Info]
        .into_iter()
        .filter_map(|s| {
            let n = findings.iter().filter(|f| f.severity == s).count();
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect();
    Some(format!(
        "helm-ha: {} finding(s) render does not fix ({}: {}); `helm-ha check` lists them, `--verbose` prints them here",
        findings.len(),
        counts.join(", "),
        codes.join(", ")
    ))
}

/// The width `check --format text` fits its table to when stdout is not a terminal.
pub const DEFAULT_WIDTH: usize = 100;

/// How `check --format text` looks: colours, and the width its lines fit in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    fn paint(self, s: &str, severity: Severity) -> String {
        if !self.color {
            return s.to_string();
        }
        let code = match severity {
            Severity::Error => "1;31",
            Severity::Warning => "33",
            Severity::Info => "36",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }

    fn bold(self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// `check --format text`: a table of findings (severity, code, rule, object, location) with
/// each message wrapped under its row, the manual checklist items, then a summary line, every
/// line within `style.width` columns (an object or location too long for its column is cut with
/// `…`; the full text is in `--format json`).
pub fn text(a: &Analysis, origins: &Origins, style: Style) -> String {
    let width = style.width.max(40);
    let (manual, found): (Vec<&Finding>, Vec<&Finding>) =
        a.findings.iter().partition(|f| f.is_manual());
    let rows: Vec<([String; 5], String)> = found
        .iter()
        .map(|f| {
            let (file, line) = origins.locate(line_of(a, f));
            let fixable = if f.fix.is_some() { " [fixable]" } else { "" };
            (
                [
                    f.severity.as_str().to_string(),
                    f.rule.code.to_string(),
                    f.rule.name.to_string(),
                    f.object.clone(),
                    format!("{file}:{line}"),
                ],
                format!("{}{fixable}", f.message),
            )
        })
        .collect();
    let mut out = String::new();
    if !rows.is_empty() {
        let header = ["SEVERITY", "CODE", "RULE", "OBJECT", "WHERE"].map(str::to_string);
        let mut widths: Vec<usize> = (0..5)
            .map(|c| {
                rows.iter()
                    .map(|(r, _)| chars(&r[c]))
                    .chain([chars(&header[c])])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        // Too wide: take columns from the longest of OBJECT and WHERE, one at a time.
        let gaps = 2 * (widths.len() - 1);
        while widths.iter().sum::<usize>() + gaps > width {
            let c = if widths[3] >= widths[4] { 3 } else { 4 };
            if widths[c] <= 12 {
                break;
            }
            widths[c] -= 1;
        }
        let indent = widths[0] + 2;
        let cells = |row: &[String; 5]| -> Vec<String> {
            row.iter()
                .enumerate()
                .map(|(c, cell)| match c {
                    4 => cut_front(cell, widths[c]),
                    _ => cut(cell, widths[c]),
                })
                .collect()
        };
        let line = |cells: &[String], paint: &dyn Fn(usize, String) -> String| -> String {
            let mut line = String::new();
            for (c, cell) in cells.iter().enumerate() {
                let pad = widths[c].saturating_sub(chars(cell));
                line.push_str(&paint(c, format!("{cell}{}", " ".repeat(pad))));
                line.push_str("  ");
            }
            line.trim_end().to_string()
        };
        out.push_str(&line(&header, &|_, cell| style.bold(&cell)));
        out.push('\n');
        for (f, (row, message)) in found.iter().zip(&rows) {
            out.push_str(&line(&cells(row), &|c, cell| {
                if c == 0 {
                    style.paint(&cell, f.severity)
                } else {
                    cell
                }
            }));
            out.push('\n');
            out.push_str(&wrap(&" ".repeat(indent), message, indent, width));
        }
    }
    if !manual.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&style.bold("Manual checks (a manifest cannot show these;"));
        out.push('\n');
        out.push_str(&style.bold("`helm-ha explain CODE` says how to verify them):"));
        out.push('\n');
        for f in &manual {
            let first = format!("  {} {:<22} ", f.rule.code, f.rule.name);
            let message = f.message.strip_prefix("manual: ").unwrap_or(&f.message);
            out.push_str(&wrap(&first, message, chars(&first), width));
        }
        out.push('\n');
    }
    let count = |s: Severity| found.iter().filter(|f| f.severity == s).count();
    let fixable = found.iter().filter(|f| f.fix.is_some()).count();
    let summary = format!(
        "{} finding(s): {} error, {} warning, {} info; {} fixable by `helm-ha render`; {} manual check(s); `helm-ha explain CODE` for details",
        found.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        fixable,
        manual.len()
    );
    out.push_str(&wrap("", &summary, 2, width));
    out
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `s` in at most `w` columns, its end replaced by `…` when cut.
fn cut(s: &str, w: usize) -> String {
    if chars(s) <= w {
        return s.to_string();
    }
    let mut kept: String = s.chars().take(w.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

/// `s` in at most `w` columns, its start replaced by `…` when cut (a path keeps its file name
/// and line).
fn cut_front(s: &str, w: usize) -> String {
    let n = chars(s);
    if n <= w {
        return s.to_string();
    }
    let mut kept = String::from("…");
    kept.extend(s.chars().skip(n - w.saturating_sub(1)));
    kept
}

/// `text` broken into lines of at most `width` columns at spaces, the first line after
/// `first`, the others indented by `rest` columns; a word longer than a line gets a line of its
/// own.
fn wrap(first: &str, text: &str, rest: usize, width: usize) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !empty && chars(&line) + 1 + chars(word) > width {
            out.push_str(&line);
            out.push('\n');
            line = " ".repeat(rest);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The replica count the replica floor sets on `w`, if it raises it.
fn raised_to(a: &Analysis, w: &crate::workload::Workload) -> Option<u64> {
    let floor = crate::rules::by_code("HA101")?.meta();
    a.findings
        .iter()
        .filter(|f| f.rule == floor && f.doc == Some(w.doc) && f.object == w.describe())
        .find_map(|f| match &f.fix {
            Some(Fix::Edit { edits, .. }) => edits.iter().find_map(|e| match e {
                Edit::Set(_, v) => v.as_u64(),
                _ => None,
            }),
            _ => None,
        })
}

/// `check --format json`: every workload's decision, then every finding.
pub fn json(a: &Analysis, origins: &Origins) -> String {
    let findings: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            let (file, line) = origins.locate(line_of(a, f));
            json!({
                "code": f.rule.code,
                "rule": f.rule.name,
                "severity": f.severity,
                "object": (!f.object.is_empty()).then_some(&f.object),
                "document": f.doc.map(|d| d + 1),
                "line": f.doc.map(|d| a.docs[d].line),
                "file": f.doc.map(|_| file),
                "fileLine": f.doc.map(|_| line),
                "service": f.service,
                "message": f.message,
                "fixable": f.fix.is_some(),
                "manual": f.is_manual(),
            })
        })
        .collect();
    let workloads: Vec<_> = a
        .workloads
        .iter()
        .map(|(w, d)| {
            json!({
                "object": w.describe(),
                "namespace": w.namespace,
                "service": w.service,
                "tier": d.tier.as_str(),
                "explicit": d.explicit,
                "why": d.why,
                "replicas": d.copies,
                "raisedTo": raised_to(a, w),
            })
        })
        .collect();
    let mut s =
        serde_json::to_string_pretty(&json!({ "workloads": workloads, "findings": findings }))
            .expect("JSON");
    s.push('\n');
    s
}

/// A section (`## What it does`, …) of a rule's doc comment, joined into one paragraph.
fn doc_section(m: &Meta, title: &str) -> String {
    let lines: Vec<&str> = m
        .doc
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let Some(start) = lines.iter().position(|l| l.trim() == format!("## {title}")) else {
        return String::new();
    };
    lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("## "))
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// The doc comment as Markdown (headings and lists as written).
pub fn doc_markdown(m: &Meta) -> String {
    let body: Vec<&str> = m
        .doc
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    body.join("\n").trim().to_string()
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// `check --format sarif`: SARIF 2.1.0 as GitHub code scanning reads it. Every rule is listed
/// in `tool.driver.rules` (id = code); each result points at the input file (or `stdin`) and
/// the line of its object; manual items point at line 1.
pub fn sarif(a: &Analysis, origins: &Origins) -> String {
    let all = crate::rules::all();
    let rules: Vec<_> = all
        .iter()
        .map(|r| {
            let m = r.meta();
            let what = doc_section(m, "What it does");
            let mut full = format!(
                "{} {}",
                m.summary().split_once(": ").map_or(m.summary(), |(_, s)| s),
                what
            );
            if full.chars().count() > 1000 {
                // GitHub shows at most 1000 characters; the whole text is in `help`.
                full = full.chars().take(997).collect::<String>() + "...";
            }
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": { "text": m.summary() },
                "fullDescription": { "text": full.trim() },
                "help": { "text": doc_markdown(m), "markdown": doc_markdown(m) },
                "properties": { "tags": ["availability", "kubernetes", "helm-ha"] },
            })
        })
        .collect();
    let results: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            let (file, line) = origins.locate(line_of(a, f));
            let index = all.iter().position(|r| r.meta().code == f.rule.code);
            let object = if f.object.is_empty() { String::new() } else { format!("{}: ", f.object) };
            let fix = if f.fix.is_some() { " (fixable: helm-ha render)" } else { "" };
            json!({
                "ruleId": f.rule.code,
                "ruleIndex": index,
                "level": sarif_level(f.severity),
                "message": { "text": format!("{object}{}{fix}", f.message) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": file },
                        "region": { "startLine": line }
                    }
                }],
                "partialFingerprints": { "helmHa/v1": format!("{}:{}:{}", f.rule.code, f.object, f.service.as_deref().unwrap_or("")) },
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "helm-ha",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }]
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("JSON");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_map_stream_lines_to_files() {
        let o = Origins {
            inputs: vec![("a.yaml".into(), 1), ("b.yaml".into(), 11)],
        };
        assert_eq!(o.locate(1), ("a.yaml", 1));
        assert_eq!(o.locate(10), ("a.yaml", 10));
        assert_eq!(o.locate(11), ("b.yaml", 1));
        assert_eq!(o.locate(15), ("b.yaml", 5));
        assert_eq!(Origins::stdin().locate(7), ("stdin", 7));
    }

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let text = "a readinessProbe is missing: Service `plane-email-service` sends traffic to pods that are not ready yet";
        let wrapped = wrap("    ", text, 6, 30);
        assert!(wrapped.lines().all(|l| chars(l) <= 30), "{wrapped}");
        assert!(wrapped.starts_with("    a "));
        assert!(wrapped
            .lines()
            .skip(1)
            .all(|l| l.starts_with("      ") && !l.starts_with("       ")));
        let words: Vec<&str> = wrapped.split_whitespace().collect();
        assert_eq!(words, text.split_whitespace().collect::<Vec<_>>());
        // A word longer than a line stands alone rather than being cut.
        assert_eq!(
            wrap("", "x averyveryverylongword y", 0, 8),
            "x\naveryveryverylongword\ny\n"
        );
        // The first line's prefix keeps its padding.
        assert_eq!(wrap("  HA901 a    ", "b c", 2, 40), "  HA901 a    b c\n");
    }

    #[test]
    fn cells_are_cut_at_the_end_or_at_the_start() {
        assert_eq!(cut("Deployment/plane-api", 20), "Deployment/plane-api");
        assert_eq!(cut("Deployment/plane-api", 12), "Deployment/…");
        assert_eq!(
            cut_front("examples/plane/rendered.yaml:812", 20),
            "…e/rendered.yaml:812"
        );
        assert_eq!(
            chars(&cut_front("examples/plane/rendered.yaml:812", 20)),
            20
        );
    }

    #[test]
    fn doc_sections_are_found() {
        let m = crate::rules::by_code("HA201").unwrap().meta();
        assert!(doc_section(m, "What it does").starts_with("Reports every container"));
        assert!(doc_section(m, "Fix").contains("readinessProbe"));
        assert_eq!(doc_section(m, "Nope"), "");
        assert!(doc_markdown(m).starts_with("HA201 readiness-probe:"));
    }
}
