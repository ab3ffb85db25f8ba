//! Human and machine views of an analysis: `--explain`, and `check`'s text and JSON reports.

use crate::pipeline::Analysis;
use crate::rules::{Finding, Fix};
use crate::yaml::{Edit, Seg};
use serde_json::json;

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
        out.push(format!("{} (document {}): service `{}` from {}; tier {}: {}", w.describe(), w.doc + 1, w.service, w.named_by, d.tier.as_str(), d.why));
        for f in a.findings.iter().filter(|f| f.doc == Some(w.doc) && f.object == w.describe()) {
            out.push(format!("  {} {}: {}{}", f.rule.code, f.rule.name, f.message, fix_summary(f)));
        }
    }
    for f in a.findings.iter().filter(|f| !a.workloads.iter().any(|(w, _)| f.doc == Some(w.doc) && f.object == w.describe())) {
        out.push(format!("{}: {} {}: {}{}", f.object, f.rule.code, f.rule.name, f.message, fix_summary(f)));
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
                    Edit::Set(p, v) => format!("set {} = {}", dotted(p), v),
                    Edit::Remove(p) => format!("remove {}", dotted(p)),
                    Edit::Append(p, _) => format!("append to {}", dotted(p)),
                })
                .collect();
            format!(" [{}]", parts.join("; "))
        }
    }
}

pub fn dotted(p: &[Seg]) -> String {
    p.iter()
        .map(|s| match s {
            Seg::Key(k) if k.contains('.') || k.contains('/') => format!("[{k}]"),
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => format!("[{i}]"),
        })
        .collect::<Vec<_>>()
        .join(".")
        .replace(".[", "[")
}

/// `check --format text`: one line per finding, then a summary.
pub fn text(a: &Analysis) -> String {
    let mut out = String::new();
    for f in &a.findings {
        let fixable = if f.fix.is_some() { " (fixable: helm-ha render)" } else { "" };
        out.push_str(&format!("{:<7} {} {:<20} {}: {}{fixable}\n", f.severity.as_str(), f.rule.code, f.rule.name, f.object, f.message));
    }
    let fixable = a.findings.iter().filter(|f| f.fix.is_some()).count();
    out.push_str(&format!("{} finding(s), {} fixable by `helm-ha render`; `helm-ha explain CODE` for details\n", a.findings.len(), fixable));
    out
}

/// `check --format json`.
pub fn json(a: &Analysis) -> String {
    let findings: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            json!({
                "code": f.rule.code,
                "rule": f.rule.name,
                "severity": f.severity,
                "object": f.object,
                "document": f.doc.map(|d| d + 1),
                "line": f.doc.map(|d| a.docs[d].line),
                "service": f.service,
                "message": f.message,
                "fixable": f.fix.is_some(),
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&json!({ "findings": findings })).expect("JSON");
    s.push('\n');
    s
}
