use super::{generated, generated_labels, rule, shorten, Budgets, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::json;
use crate::policy::{Budget, IntOrPercent, Tier};
use crate::workload::Workload;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget as Pdb, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

rule! {
    /// HA107 pod-disruption-budget: a replicated workload has no PodDisruptionBudget.
    ///
    /// ## What it does
    /// Adds one `policy/v1` PodDisruptionBudget per stateless and leader-elected Deployment,
    /// StatefulSet or ReplicaSet whose replica floor is 2 or more. Never for singletons, in-chart
    /// stateful services, DaemonSets, Jobs, CronJobs or Helm hooks.
    /// - Selector: the workload's own `spec.selector`, so it counts exactly its pods.
    /// - Budget: `services.<name>.pdb`, else `tiers.<tier>.pdb` (default `maxUnavailable: 1`,
    ///   which stays drainable at any replica count; plane-enterprise uses the guide's
    ///   `minAvailable: 1`). Every owner here has a scale subresource, which `maxUnavailable` and
    ///   percentages need.
    /// - `unhealthyPodEvictionPolicy: AlwaysAllow`, so a crash-looping pod never blocks a drain.
    /// - Name `<workload>-pdb` (shortened with a hash past 253 characters), the workload's
    ///   namespace (else the release's), labels `app.kubernetes.io/managed-by: helm-ha` and
    ///   `helm-ha.io/for: <workload>`. Rendered from the `pdb.yaml` template.
    ///
    /// It adds nothing when a PDB in the stream (same namespace; an absent namespace is the
    /// release's) already selects the pod template's labels, with the API server's selector
    /// semantics (matchLabels AND matchExpressions; `{}` selects every pod). A second PDB over
    /// the same pods makes every eviction fail. Whether that chart PDB lets a drain through is
    /// HA207's question, asked of every workload.
    ///
    /// It refuses (error, `render` exits 1) a budget that allows 0 disruptions at the floor:
    /// percentages round up, as the disruption controller does, and `minAvailable` equal to the
    /// replica count blocks.
    ///
    /// Leader-elected workloads get no PDB unless the policy says their standbys report Ready
    /// (`tiers.leaderElected.standbysReady: true`): when only the leader is Ready, the budget
    /// is always used up by the standbys and the leader can never be evicted.
    ///
    /// ## Why it matters
    /// Without a budget a node drain or a cluster upgrade may evict every replica at once. With a
    /// budget that allows no disruption, the drain never ends.
    ///
    /// ## Example
    /// `api` (floor 3) under plane-enterprise gets `plane-api-wl-pdb` with `minAvailable: 1` and
    /// `selector.matchLabels: {app.name: plane-plane-api}`.
    ///
    /// ## Fix
    /// The PodDisruptionBudget above. Source: the Plane Commercial Edition: High Availability guide, "PodDisruptionBudgets"; the
    /// Kubernetes disruption controller (percentages round up); kubernetes/kubernetes#75957
    /// (two budgets over one pod), #72320 (`unhealthyPodEvictionPolicy`); helm/helm#13154 (hooks).
    pub struct PodDisruptionBudget("HA107", "pod-disruption-budget", "a `policy/v1` PDB per replicated Tier-1 workload (its own selector, `unhealthyPodEvictionPolicy: AlwaysAllow`), never over pods a chart PDB already selects; refuses a policy budget that blocks drains at the floor");
}

impl Rule for PodDisruptionBudget {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if !matches!(d.tier, Tier::Stateless | Tier::LeaderElected)
            || !w.kind.scalable()
        {
            return Vec::new();
        }
        let Some(floor) = cx.floor(w, d).filter(|f| *f >= 2) else {
            return Vec::new();
        };
        self.one(cx, w, d, floor).into_iter().collect()
    }
}

impl PodDisruptionBudget {
    fn one(&self, cx: &Cx, w: &Workload, d: &Decision, floor: u32) -> Option<Finding> {
        let obj = cx.obj(w);
        let selector = obj.at("spec.selector").filter(|s| s.is_object())?;
        let ns = cx.namespace_of(w);
        if let Some(pdb) = cx.budgets_of(w, Budgets::Every).next() {
            if generated(pdb.json) {
                return None;
            }
            let name = pdb.name();
            return Some(Finding::on(&Self::META, Severity::Info, w, format!("PodDisruptionBudget/{name} from the chart already selects these pods; not adding a second one (evictions fail with two)")));
        }
        let scaled = cx.policy.scaled(d.tier)?;
        if d.tier == Tier::LeaderElected && !scaled.standbys_ready {
            return Some(Finding::on(
                &Self::META,
                Severity::Info,
                w,
                format!("no PDB for leader-elected `{}`: its standbys are not Ready, so a budget would block evicting the leader forever (set tiers.leaderElected.standbysReady: true if they are)", w.service),
            ));
        }
        let svc = d
            .policy_key
            .as_deref()
            .and_then(|k| cx.policy.services.get(k));
        let budget = svc
            .and_then(|s| s.pdb.clone())
            .unwrap_or_else(|| scaled.pdb.clone());
        match allowed(&budget, floor) {
            Some(n) if n > 0 => {}
            _ => {
                let shown = serde_json::to_string(&budget).unwrap_or_default();
                return Some(Finding::on(
                    &Self::META,
                    Severity::Error,
                    w,
                    format!("the policy's budget {shown} allows 0 disruptions at the floor of {floor} replicas (percentages round up; minAvailable equal to the replicas blocks): every node drain would hang"),
                ));
            }
        }
        let name = shorten(&w.name, "-pdb", 253);
        if cx.exists("PodDisruptionBudget", ns.as_deref(), &name) {
            return Some(Finding::on(&Self::META, Severity::Warning, w, format!("PodDisruptionBudget/{name} exists in the stream but does not select these pods; not adding one")));
        }
        let ctx = json!({
            "name": name,
            "namespace": ns,
            "labels": generated_labels(Some(&w.name)),
            "selector": selector,
            "max_unavailable": budget.max_unavailable,
            "min_available": budget.min_available,
            "unhealthy_pod_eviction_policy": "AlwaysAllow",
        });
        let new = cx.render::<Pdb>("pdb.yaml", &ctx, w.doc)?;
        let what = match (&budget.max_unavailable, &budget.min_available) {
            (Some(m), _) => format!("maxUnavailable {}", show(m)),
            (_, Some(m)) => format!("minAvailable {}", show(m)),
            _ => String::new(),
        };
        Some(Finding::on(&Self::META, Severity::Warning, w, format!("no PodDisruptionBudget: a drain may evict all {floor} replicas of `{}` at once; adds {name} ({what})", w.service)).adding(new))
    }
}

fn show(v: &IntOrPercent) -> String {
    match v {
        IntOrPercent::Int(n) => n.to_string(),
        IntOrPercent::Percent(p) => p.clone(),
    }
}

/// The budget of a PodDisruptionBudget.
pub(super) fn budget_of(spec: &PodDisruptionBudgetSpec) -> Budget {
    let read = |v: &Option<IntOrString>| match v.as_ref()? {
        IntOrString::Int(n) => u32::try_from(*n).ok().map(IntOrPercent::Int),
        IntOrString::String(s) => Some(IntOrPercent::Percent(s.clone())),
    };
    Budget {
        max_unavailable: read(&spec.max_unavailable),
        min_available: read(&spec.min_available),
    }
}

/// Disruptions a budget allows with `pods` healthy pods (both fields round up, as the disruption
/// controller does). `None` for a malformed budget.
pub fn allowed(b: &Budget, pods: u32) -> Option<u32> {
    match (&b.max_unavailable, &b.min_available) {
        (Some(m), None) => m.scaled(pods).map(|n| n.min(pods)),
        (None, Some(m)) => m.scaled(pods).map(|n| pods.saturating_sub(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(max: Option<IntOrPercent>, min: Option<IntOrPercent>) -> Budget {
        Budget {
            max_unavailable: max,
            min_available: min,
        }
    }

    #[test]
    fn budgets_are_counted_like_the_disruption_controller() {
        use IntOrPercent::{Int, Percent};
        assert_eq!(allowed(&b(Some(Int(1)), None), 2), Some(1));
        assert_eq!(allowed(&b(None, Some(Int(1))), 2), Some(1));
        // equality blocks
        assert_eq!(allowed(&b(None, Some(Int(2))), 2), Some(0));
        // 51% of 2 rounds up to 2: blocks
        assert_eq!(allowed(&b(None, Some(Percent("51%".into()))), 2), Some(0));
        assert_eq!(allowed(&b(None, Some(Percent("50%".into()))), 2), Some(1));
        // maxUnavailable 10% of 3 rounds up to 1
        assert_eq!(allowed(&b(Some(Percent("10%".into())), None), 3), Some(1));
        assert_eq!(allowed(&b(Some(Percent("0%".into())), None), 3), Some(0));
        assert_eq!(allowed(&b(None, None), 3), None);
    }

    const STREAM: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: beat, annotations: {}}
spec:
  selector: {matchLabels: {app: beat}}
  template: {metadata: {labels: {app: beat}}, spec: {containers: [{name: beat, image: beat}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hooked, annotations: {helm.sh/hook: pre-install}}
spec:
  replicas: 2
  selector: {matchLabels: {app: hooked}}
  template: {metadata: {labels: {app: hooked}}, spec: {containers: [{name: h, image: h}]}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: a, image: a}]}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template: {metadata: {labels: {app: migrate}}, spec: {restartPolicy: Never, containers: [{name: m, image: m}]}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: postgres:16}]}}
";

    /// The analysis of `input` released into namespace `ns`.
    fn in_ns<'a>(input: &'a str, policy: &crate::policy::Policy) -> crate::pipeline::Analysis<'a> {
        super::super::testkit::analyze(input, policy, Some("ns"))
    }

    #[test]
    fn only_replicated_stateless_workloads_get_a_budget() {
        let policy = crate::policy::load(
            Some("generic"),
            Some(("p.yaml", "services: {beat: {tier: singleton}}\n")),
        )
        .unwrap();
        let a = in_ns(STREAM, &policy);
        let added: Vec<(&str, &str)> = a
            .added
            .iter()
            .map(|d| (d.kind.as_str(), d.name.as_str()))
            .collect();
        // Not the singleton, the hook, the DaemonSet, the Job or the database.
        assert_eq!(added, [("PodDisruptionBudget", "web-pdb")]);
        let pdb = &a.added[0].value;
        assert_eq!(
            pdb["metadata"]["namespace"], "ns",
            "an absent namespace is the release's"
        );
        assert_eq!(
            pdb["spec"]["selector"],
            json!({"matchLabels": {"app": "web"}})
        );
        assert_eq!(pdb["spec"]["unhealthyPodEvictionPolicy"], "AlwaysAllow");
        assert_eq!(
            pdb["metadata"]["labels"],
            json!({"app.kubernetes.io/managed-by": "helm-ha", "helm-ha.io/for": "web"})
        );
    }

    #[test]
    fn an_empty_chart_selector_covers_every_pod_of_its_namespace_only() {
        let policy = crate::policy::load(Some("generic"), None).unwrap();
        let all = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: all}\nspec: {maxUnavailable: 1, selector: {}}\n";
        let input = format!("{STREAM}{all}");
        let a = in_ns(&input, &policy);
        assert!(a.added.iter().all(|d| d.kind != "PodDisruptionBudget"));
        let elsewhere = all.replace("{name: all}", "{name: all, namespace: other}");
        let input = format!("{STREAM}{elsewhere}");
        let a = in_ns(&input, &policy);
        assert_eq!(a.added.len(), 1);
        // A null selector selects nothing in policy/v1.
        let null = all.replace(", selector: {}", "");
        let input = format!("{STREAM}{null}");
        let a = in_ns(&input, &policy);
        assert_eq!(a.added.len(), 1);
    }

    #[test]
    fn a_chart_budget_no_rule_may_touch_still_counts_against_a_second_one() {
        // Excluded by name or a hook, it is left alone, but it is in the cluster all the same and
        // a second budget over the same pods would make every eviction fail.
        let chart = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web-budget}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}\n";
        let mut policy = crate::policy::load(Some("generic"), None).unwrap();
        policy.exclude = vec!["web-budget".into()];
        let input = format!("{STREAM}{chart}");
        let a = in_ns(&input, &policy);
        assert!(a.added.iter().all(|d| d.kind != "PodDisruptionBudget"));
        let hook = chart.replace(
            "{name: web-budget}",
            "{name: web-budget, annotations: {helm.sh/hook: post-install}}",
        );
        let policy = crate::policy::load(Some("generic"), None).unwrap();
        let input = format!("{STREAM}{hook}");
        let a = in_ns(&input, &policy);
        assert!(a.added.iter().all(|d| d.kind != "PodDisruptionBudget"));
        let a = in_ns(STREAM, &policy);
        assert_eq!(a.added.len(), 1, "without it, web gets one");
    }

    #[test]
    fn names_are_bounded_and_deterministic() {
        let long = "a".repeat(260);
        let n = shorten(&long, "-pdb", 253);
        assert_eq!(n.len(), 253);
        assert!(n.ends_with("-pdb"));
        assert_eq!(n, shorten(&long, "-pdb", 253));
        assert_eq!(shorten("api", "-pdb", 253), "api-pdb");
    }
}
