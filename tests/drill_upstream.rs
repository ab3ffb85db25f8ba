//! The upstream tables `helm-ha drill` follows, kept as data in tests/data/drill-upstream, run
//! through the drill's scheduler, eviction and rollout code: kube-scheduler's filter tests
//! (podtopologyspread, interpodaffinity, tainttoleration, nodeaffinity, noderesources, nodeports,
//! and PodRequests of k8s.io/component-helpers), the disruption controller's PDB status, and the
//! Deployment controller's fenceposts and the API server's Deployment validation. Every row cites
//! the upstream test; rows the drill cannot express carry `out_of_scope` with the reason, and
//! docs/drill.md states the counts this test checks.

mod common;

use helm_ha::drill::cluster::{Cluster, Node, Shape, Taint};
use helm_ha::drill::pods::{self, Model, Strategy};
use helm_ha::drill::schedule::State;
use helm_ha::drill::{disruption, drills, quantity, report::Mark};
use helm_ha::yaml::Json;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn table(name: &str) -> Value {
    let path = common::data().join("drill-upstream").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rows<'a>(doc: &'a Value, key: &str) -> &'a Vec<Value> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no `{key}` list"))
}

/// `file test "case"`, for messages.
fn cite(row: &Value) -> String {
    let u = &row["upstream"];
    let case = u["case"]
        .as_str()
        .map(|c| format!(" {c:?}"))
        .unwrap_or_default();
    format!(
        "{} {}{case}",
        u["file"].as_str().unwrap_or("?"),
        u["test"].as_str().unwrap_or("?")
    )
}

/// The drill's model of a stream of objects, as `helm-ha drill` reads it.
fn model(objects: &[Value]) -> Model {
    let text: Vec<String> = objects.iter().map(|o| o.to_string()).collect();
    let text = text.join("\n---\n");
    let docs = helm_ha::stream::read(text.as_bytes()).expect("the stream parses");
    pods::model(
        &docs,
        &helm_ha::policy::Policy::default(),
        Some("default".into()),
        None,
    )
}

/// A controller of `replicas` pods labelled `labels` with pod spec `spec` (a container added
/// when it has none).
fn workload(
    kind: &str,
    name: &str,
    ns: &str,
    replicas: u64,
    labels: &Value,
    spec: &Value,
) -> Value {
    let mut spec = if spec.is_object() {
        spec.clone()
    } else {
        json!({})
    };
    if spec.get("containers").is_none() {
        spec["containers"] = json!([{"name": "c", "image": "example/app:1"}]);
    }
    let labels = if labels.is_object() {
        labels.clone()
    } else {
        json!({})
    };
    json!({
        "apiVersion": "apps/v1", "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels.clone()},
                 "template": {"metadata": {"labels": labels}, "spec": spec}}
    })
}

fn template(m: &Model, kind: &str, name: &str) -> usize {
    let want = format!("{kind}/{name}");
    m.templates
        .iter()
        .position(|t| t.workload == want)
        .unwrap_or_else(|| panic!("no template {want}"))
}

fn amount(v: &Value, default: &str, to: fn(f64) -> u64) -> u64 {
    let text = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| default.to_string());
    quantity::parse(&text)
        .map(to)
        .unwrap_or_else(|| panic!("quantity {text}"))
}

/// One node per upstream node, with exactly its labels and taints.
fn node(n: &Value) -> Node {
    let labels: BTreeMap<String, String> = n["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    let name = n["name"].as_str().expect("node name").to_string();
    Node {
        zone: labels.get("zone").cloned().unwrap_or_else(|| name.clone()),
        name,
        labels,
        taints: n["taints"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| Taint {
                key: t["key"].as_str().unwrap_or("").into(),
                value: t["value"].as_str().unwrap_or("").into(),
                effect: t["effect"].as_str().unwrap_or("").into(),
            })
            .collect(),
        cpu: amount(&n["cpu"], "1000", quantity::millicores),
        memory: amount(&n["memory"], "1Ti", quantity::bytes),
        max_pods: n["pods"].as_u64().map_or(110, |p| p as u32),
        cordoned: false,
        gone: false,
    }
}

/// A filter row: the incoming pod against every filter on each node under `want`. `Err` lists
/// the nodes where the drill disagrees.
fn scheduler_row(row: &Value) -> Result<(), String> {
    let nodes: Vec<Node> = rows(row, "nodes").iter().map(node).collect();
    let existing = rows(row, "existing");
    let pod = &row["pod"];
    let ns = |p: &Value| p["namespace"].as_str().unwrap_or("default").to_string();
    let mut objects: Vec<Value> = Vec::new();
    for (i, p) in existing.iter().chain([pod]).enumerate() {
        objects.push(workload(
            "ReplicaSet",
            &format!("p{i}"),
            &ns(p),
            1,
            &p["labels"],
            &p["spec"],
        ));
    }
    let m = model(&objects);
    let mut s = State {
        model: &m,
        nodes,
        pods: Vec::new(),
    };
    for (i, p) in existing.iter().enumerate() {
        let on = p["node"].as_str().expect("existing pods are pinned");
        let mut placed = s.new_pod(template(&m, "ReplicaSet", &format!("p{i}")), 0);
        placed.node = Some(
            s.nodes
                .iter()
                .position(|n| n.name == on)
                .unwrap_or_else(|| panic!("no node {on}")),
        );
        placed.ready = !p["not_ready"].as_bool().unwrap_or(false);
        s.pods.push(placed);
    }
    let incoming = s.new_pod(
        template(&m, "ReplicaSet", &format!("p{}", existing.len())),
        0,
    );
    s.pods.push(incoming);
    let last = s.pods.len() - 1;
    let mut wrong = Vec::new();
    for (name, want) in row["want"].as_object().expect("want") {
        let n = s
            .nodes
            .iter()
            .position(|x| x.name == *name)
            .expect("wanted node");
        let got = s.fits(last, n);
        if got.is_ok() != want.as_bool().expect("want is true or false") {
            wrong.push(format!("{name}: upstream {want}, drill {got:?}"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// A disruption row: the controllers and their pods, and the status the drill gives the budget.
fn disruption_row(row: &Value) -> Result<(), String> {
    let controllers = rows(row, "controllers");
    let mut objects: Vec<Value> = controllers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let kind = c["kind"].as_str().expect("kind");
            workload(
                kind,
                &format!("c{i}"),
                "default",
                c["replicas"].as_u64().expect("replicas"),
                &c["labels"],
                &Value::Null,
            )
        })
        .collect();
    let mut spec = row["budget"].clone();
    spec["selector"] = row
        .get("selector")
        .cloned()
        .unwrap_or(json!({"matchLabels": {"foo": "bar"}}));
    objects.push(
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "pdb", "namespace": "default"}, "spec": spec}),
    );
    let m = model(&objects);
    let mut s = State {
        model: &m,
        nodes: Cluster::uniform(1, 1, &Shape::parse("1000", "1Ti").expect("shape")).nodes,
        pods: Vec::new(),
    };
    for (i, c) in controllers.iter().enumerate() {
        let t = template(&m, c["kind"].as_str().expect("kind"), &format!("c{i}"));
        let not_ready = c["not_ready"].as_u64().unwrap_or(0);
        for k in 0..c["pods"].as_u64().expect("pods") {
            let mut p = s.new_pod(t, 0);
            p.node = Some(0);
            p.ready = k >= not_ready;
            s.pods.push(p);
        }
    }
    let st = disruption::status(&s, &m.pdbs[0]);
    let got = json!({"allowed": st.allowed, "healthy": st.healthy, "desired": st.desired, "expected": st.expected});
    let want = row["want"].as_object().expect("want");
    match want.iter().find(|(k, v)| got[k.as_str()] != **v) {
        None => Ok(()),
        Some(_) => Err(format!("upstream {}, drill {got}", row["want"])),
    }
}

fn fencepost_row(row: &Value) -> Result<(), String> {
    let got = drills::fenceposts(
        &Json::from(row["maxSurge"].clone()),
        &Json::from(row["maxUnavailable"].clone()),
        row["desired"].as_u64().expect("desired") as u32,
    );
    let agrees = match (&got, &row["want"]) {
        (Err(_), Value::String(w)) => w == "error",
        (Ok((s, u)), w) => *w == json!([s, u]),
        _ => false,
    };
    agrees
        .then_some(())
        .ok_or_else(|| format!("upstream {}, drill {got:?}", row["want"]))
}

fn deployment(strategy: &Value, replicas: u64) -> Value {
    let mut d = workload(
        "Deployment",
        "web",
        "default",
        replicas,
        &json!({"app": "web"}),
        &Value::Null,
    );
    d["spec"]["strategy"] = strategy.clone();
    d
}

fn max_unavailable_row(row: &Value) -> Result<(), String> {
    let replicas = row["replicas"].as_u64().expect("replicas");
    let m = model(&[deployment(&row["strategy"], replicas)]);
    let got = drills::max_unavailable(&m.templates[0].strategy, replicas as u32);
    (json!(got) == row["want"])
        .then_some(())
        .ok_or_else(|| format!("upstream {}, drill {got}", row["want"]))
}

/// A Deployment the API server rejects: the drill must fail its rollout with that error.
fn validation_row(row: &Value) -> Result<(), String> {
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": row["rollingUpdate"]});
    let m = model(&[deployment(&strategy, 3)]);
    let report = helm_ha::drill::run(
        &m,
        &Cluster::uniform(3, 1, &Shape::parse("4", "16Gi").expect("shape")),
    );
    let rollout = &report.rows[0].rollout;
    let rejected =
        matches!(m.templates[0].strategy, Strategy::Invalid(_)) && rollout.mark == Mark::Fail;
    let agrees = match row["error"].as_str() {
        Some(error) => rejected && rollout.reason.contains(error),
        None => !rejected,
    };
    agrees.then_some(()).ok_or_else(|| {
        format!(
            "upstream error {}, drill {:?}: {}",
            row["error"], rollout.mark, rollout.reason
        )
    })
}

#[derive(Default)]
struct Tally {
    agree: usize,
    out_of_scope: usize,
    disagree: Vec<String>,
}

impl Tally {
    fn run(&mut self, row: &Value, check: fn(&Value) -> Result<(), String>) {
        if let Some(why) = row.get("out_of_scope") {
            assert!(
                why.as_str().is_some_and(|w| !w.is_empty()),
                "{}: out_of_scope needs a reason",
                cite(row)
            );
            self.out_of_scope += 1;
            return;
        }
        match check(row) {
            Ok(()) => self.agree += 1,
            Err(e) => self.disagree.push(format!("{}: {e}", cite(row))),
        }
    }
}

#[test]
fn the_drill_agrees_with_every_upstream_row_it_can_express() {
    let scheduler = table("scheduler.yaml");
    let disruption = table("disruption.yaml");
    let rollout = table("rollout.yaml");
    let mut tallies: Vec<(&str, Tally)> = Vec::new();
    let mut sched = Tally::default();
    for row in rows(&scheduler, "rows") {
        sched.run(row, scheduler_row);
    }
    tallies.push(("scheduler filters", sched));
    let mut pdb = Tally::default();
    for row in rows(&disruption, "rows") {
        pdb.run(row, disruption_row);
    }
    tallies.push(("disruption controller", pdb));
    let mut roll = Tally::default();
    for row in rows(&rollout, "fenceposts") {
        roll.run(row, fencepost_row);
    }
    for row in rows(&rollout, "max_unavailable") {
        roll.run(row, max_unavailable_row);
    }
    for row in rows(&rollout, "validation") {
        roll.run(row, validation_row);
    }
    tallies.push(("rollouts and validation", roll));

    for (name, t) in &tallies {
        eprintln!(
            "{name}: {} of {} agree, {} out of scope",
            t.agree,
            t.agree + t.disagree.len(),
            t.out_of_scope
        );
    }
    let disagree: Vec<&String> = tallies.iter().flat_map(|(_, t)| &t.disagree).collect();
    assert!(disagree.is_empty(), "{disagree:#?}");
    // docs/drill.md states these counts.
    let counts: Vec<(usize, usize)> = tallies
        .iter()
        .map(|(_, t)| (t.agree, t.out_of_scope))
        .collect();
    assert_eq!(counts, [(145, 29), (19, 5), (18, 0)]);
}
