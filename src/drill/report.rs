//! The verdict: one row per workload, one cell per drill (✓ survives, ! degraded as its tier
//! allows, ✗ fails), every cell with its reason; as a text table or JSON.

use super::drills::{Drill, Effect, Run};
use super::pods::{Strategy, Template};
use super::schedule::State;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// Not applicable (e.g. rollout of a StatefulSet).
    None,
    Ok,
    /// Degraded in a way the workload's tier accepts (a singleton restarting elsewhere), or
    /// pods left Pending while the service stays up.
    Warn,
    /// A Tier-1 service reaches 0 ready, or the drill cannot finish.
    Fail,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::None => "–",
            Mark::Ok => "✓",
            Mark::Warn => "!",
            Mark::Fail => "✗",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Mark::None => "",
            Mark::Ok => "\x1b[32m",
            Mark::Warn => "\x1b[33m",
            Mark::Fail => "\x1b[31m",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub mark: Mark,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub service: String,
    pub workload: String,
    pub tier: String,
    pub replicas: u32,
    pub replicas_from: String,
    /// Zones its pods run in before any drill.
    pub zones: Vec<String>,
    /// What the API server would reject in the workload (an invalid rollout strategy).
    pub errors: Vec<String>,
    pub schedule: Cell,
    pub zone_loss: Cell,
    pub drain: Cell,
    pub rollout: Cell,
}

impl Row {
    pub fn cells(&self) -> [(&'static str, &Cell); 4] {
        [
            ("schedule", &self.schedule),
            ("zone loss", &self.zone_loss),
            ("drain", &self.drain),
            ("rollout", &self.rollout),
        ]
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub cluster: String,
    pub rows: Vec<Row>,
    pub skipped: Vec<String>,
    /// Any ✗: the exit code is 1.
    pub failed: bool,
}

pub fn build(base: &State, runs: &[Run], cluster: String) -> Report {
    let rows: Vec<Row> = base
        .model
        .templates
        .iter()
        .enumerate()
        .map(|(t, tpl)| row(base, runs, t, tpl))
        .collect();
    let failed = rows
        .iter()
        .any(|r| r.cells().iter().any(|(_, c)| c.mark == Mark::Fail));
    Report {
        cluster,
        rows,
        skipped: base.model.skipped.clone(),
        failed,
    }
}

fn row(base: &State, runs: &[Run], t: usize, tpl: &Template) -> Row {
    let mut zones: Vec<String> = base
        .pods
        .iter()
        .filter(|p| p.template == t)
        .filter_map(|p| p.node)
        .map(|n| base.nodes[n].zone.clone())
        .collect();
    zones.sort();
    zones.dedup();
    let ready = base.ready(t);
    let n = tpl.replicas as usize;
    let pending = base
        .pods
        .iter()
        .find(|p| p.template == t && p.node.is_none())
        .and_then(|p| p.pending.clone());
    let schedule = match pending {
        _ if n == 0 => Cell {
            mark: Mark::None,
            reason: "0 replicas".into(),
        },
        Some(why) if ready == 0 && tpl.must_stay_up() => Cell {
            mark: Mark::Fail,
            reason: format!("no pod can start: {why}"),
        },
        Some(why) => Cell {
            mark: Mark::Warn,
            reason: format!("{}/{n} Pending: {why}", n - ready),
        },
        None => Cell {
            mark: Mark::Ok,
            reason: format!("{n}/{n} running in {}", zones.join(", ")),
        },
    };
    let cell = |drill: Drill| -> Cell {
        let mine: Vec<(&str, &Effect)> = runs
            .iter()
            .filter(|r| r.drill == drill)
            .map(|r| (r.target.as_str(), &r.effects[t]))
            .collect();
        verdict(drill, tpl, ready, &zones, &mine)
    };
    Row {
        service: tpl.service.clone(),
        workload: tpl.workload.clone(),
        tier: tpl.tier.as_str().to_string(),
        replicas: tpl.replicas,
        replicas_from: tpl.replicas_from.clone(),
        zones: zones.clone(),
        schedule,
        zone_loss: if ready == 0 {
            na("no pod runs")
        } else {
            cell(Drill::ZoneLoss)
        },
        drain: if ready == 0 {
            na("no pod runs")
        } else {
            cell(Drill::Drain)
        },
        errors: match &tpl.strategy {
            Strategy::Invalid(why) => vec![format!("invalid Deployment: {why}")],
            _ => Vec::new(),
        },
        rollout: match tpl.strategy {
            Strategy::Other => na(&format!("{}: not a Deployment", tpl.kind.as_str())),
            Strategy::Invalid(_) => cell(Drill::Rollout),
            _ if ready == 0 => na("no pod runs"),
            _ => cell(Drill::Rollout),
        },
    }
}

fn na(reason: &str) -> Cell {
    Cell {
        mark: Mark::None,
        reason: reason.into(),
    }
}

fn during(drill: Drill, target: &str) -> String {
    match drill {
        Drill::ZoneLoss => format!("when {target} is lost"),
        Drill::Drain => format!("while draining {target}"),
        Drill::Rollout => "during its rollout".into(),
    }
}

fn after(drill: Drill, target: &str) -> String {
    match drill {
        Drill::ZoneLoss => format!("after {target} is lost"),
        Drill::Drain => format!("after draining {target}"),
        Drill::Rollout => during(drill, target),
    }
}

/// The worst outcome of a drill's runs for one workload, with the reason.
fn verdict(
    drill: Drill,
    tpl: &Template,
    ready: usize,
    zones: &[String],
    runs: &[(&str, &Effect)],
) -> Cell {
    if let Some((_, e)) = runs.iter().find(|(_, e)| e.blocked.is_some()) {
        return Cell {
            mark: Mark::Fail,
            reason: e.blocked.clone().unwrap_or_default(),
        };
    }
    if let Some((target, e)) = runs.iter().find(|(_, e)| e.touched && e.min_ready == 0) {
        let after = match (&e.pending, drill) {
            (Some(p), _) => format!("; {p}"),
            (None, Drill::Rollout) => String::new(),
            (None, _) => "; its replacement starts on another node".into(),
        };
        let why = match (drill, &tpl.strategy) {
            (Drill::Rollout, Strategy::Recreate) => {
                "strategy Recreate stops every pod before starting new ones".to_string()
            }
            (Drill::Rollout, _) => "the rollout removes the only ready pod first".to_string(),
            _ if ready == 1 => "its only pod is there".to_string(),
            _ => format!("all {ready} pods are there"),
        };
        let (mark, tier) = if tpl.must_stay_up() {
            (Mark::Fail, String::new())
        } else {
            (
                Mark::Warn,
                format!(" ({} tier: accepted)", tpl.tier.as_str()),
            )
        };
        return Cell {
            mark,
            reason: format!("0 ready {}: {why}{after}{tier}", during(drill, target)),
        };
    }
    // A pod left Pending is seen once the disruption is over; a budget is broken while it lasts.
    let first_warning = |note: fn(&Effect) -> Option<&String>, when: fn(Drill, &str) -> String| {
        runs.iter().find_map(|(target, e)| {
            note(e).map(|n| Cell {
                mark: Mark::Warn,
                reason: format!("{n} {}", when(drill, target)),
            })
        })
    };
    if let Some(cell) = first_warning(|e| e.pending.as_ref(), after)
        .or_else(|| first_warning(|e| e.below_budget.as_ref(), during))
    {
        return cell;
    }
    if let Some((_, e)) = runs
        .iter()
        .find(|(_, e)| tpl.tier == crate::policy::Tier::Singleton && e.max_running > 1)
    {
        return Cell { mark: Mark::Warn, reason: format!("{} copies run at once during its rollout: a singleton needs strategy Recreate (HA105)", e.max_running) };
    }
    let worst = runs.iter().map(|(_, e)| e.min_ready).min().unwrap_or(ready);
    let reason = match drill {
        Drill::ZoneLoss => format!(
            "replicas in {} zone(s) ({}): ≥{worst}/{ready} ready when any one is lost",
            zones.len(),
            zones.join(", ")
        ),
        Drill::Drain => {
            let mut budgets: Vec<&str> = runs
                .iter()
                .flat_map(|(_, e)| e.allowed_by.iter().map(String::as_str))
                .collect();
            budgets.sort_unstable();
            budgets.dedup();
            let why = if budgets.is_empty() {
                "no PDB covers it, evictions are never refused".to_string()
            } else {
                format!(
                    "evictions allowed while {}",
                    budgets.first().copied().unwrap_or_default()
                )
            };
            format!("≥{worst}/{ready} ready through every drain; {why}")
        }
        Drill::Rollout => match &tpl.strategy {
            Strategy::Rolling(ms, mu) => match super::drills::fenceposts(ms, mu, tpl.replicas) {
                Ok((s, u)) => {
                    format!("maxSurge {s}, maxUnavailable {u}: ≥{worst}/{ready} ready throughout")
                }
                Err(why) => why.to_string(),
            },
            _ => format!("≥{worst}/{ready} ready throughout"),
        },
    };
    Cell {
        mark: Mark::Ok,
        reason,
    }
}

/// The table, then every cell's reason, failures first.
pub fn text(r: &Report, colour: bool) -> String {
    let paint = |m: Mark| {
        if colour && m != Mark::None {
            format!("{}{}\x1b[0m", m.colour(), m.symbol())
        } else {
            m.symbol().to_string()
        }
    };
    let w_svc = r
        .rows
        .iter()
        .map(|x| x.service.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let w_tier = r
        .rows
        .iter()
        .map(|x| x.tier.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("helm-ha drill on {}\n\n", r.cluster);
    out.push_str(&format!(
        "{:<w_svc$}  {:<w_tier$}  {:>4}  {:<8}  {:<9}  {:<5}  {:<7}\n",
        "SERVICE", "TIER", "PODS", "SCHEDULE", "ZONE LOSS", "DRAIN", "ROLLOUT"
    ));
    for row in &r.rows {
        let c = row.cells();
        let pad = |m: Mark, w: usize| format!("{}{}", paint(m), " ".repeat(w.saturating_sub(1)));
        out.push_str(&format!(
            "{:<w_svc$}  {:<w_tier$}  {:>4}  {}  {}  {}  {}\n",
            row.service,
            row.tier,
            row.replicas,
            pad(c[0].1.mark, 8),
            pad(c[1].1.mark, 9),
            pad(c[2].1.mark, 5),
            paint(c[3].1.mark)
        ));
    }
    out.push('\n');
    let mut lines: Vec<(std::cmp::Reverse<Mark>, String)> = Vec::new();
    for row in &r.rows {
        for (name, cell) in row.cells() {
            if cell.mark != Mark::None {
                lines.push((
                    std::cmp::Reverse(cell.mark),
                    format!(
                        "{} {} {name}: {}\n",
                        paint(cell.mark),
                        row.service,
                        cell.reason
                    ),
                ));
            }
        }
    }
    lines.sort_by_key(|l| l.0);
    for (_, l) in lines {
        out.push_str(&l);
    }
    if !r.skipped.is_empty() {
        out.push_str(&format!("\nnot simulated: {}\n", r.skipped.join(", ")));
    }
    let fails = r
        .rows
        .iter()
        .flat_map(|x| x.cells())
        .filter(|(_, c)| c.mark == Mark::Fail)
        .count();
    out.push_str(&if r.failed {
        format!("\n{fails} failure(s): a Tier-1 service reaches 0 ready or a drill cannot finish\n")
    } else {
        "\nevery Tier-1 service stays up and every drill finishes\n".to_string()
    });
    out
}

pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("a report serialises");
    s.push('\n');
    s
}
