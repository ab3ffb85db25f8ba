use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::json;
use crate::policy::{Spread, Tier};
use crate::selector;
use crate::workload::{Kind, Workload};
use crate::yaml::{Edit, Json, Map};

pub const HOSTNAME: &str = "kubernetes.io/hostname";
pub const ZONE: &str = "topology.kubernetes.io/zone";

rule! {
    /// HA103 pod-spread: replicas are not kept apart per node and per zone.
    ///
    /// ## What it does
    /// For every stateless and leader-elected workload with a floor of 2 or more, makes sure its
    /// pods are spread over nodes (`kubernetes.io/hostname`) and zones
    /// (`topology.kubernetes.io/zone`), in the way the policy picks per service:
    /// - `anti-affinity` (the HA guide's block): required pod anti-affinity per node plus
    ///   preferred (weight 100) per zone;
    /// - `soft-anti-affinity`: both preferred, for clusters with fewer nodes than replicas;
    /// - `topology-spread`: topologySpreadConstraints on zone and node, `maxSkew: 1`,
    ///   `whenUnsatisfiable` from the policy, `matchLabelKeys: [pod-template-hash]` on
    ///   Deployments so old-revision pods do not skew a rollout.
    ///
    /// Every term selects exactly the workload's own pods: its label selector is the workload's
    /// `spec.selector`, never a label other releases share. What the chart already has is kept: a
    /// topology already covered by an anti-affinity term or a spread constraint whose selector
    /// matches the pod's labels gets nothing more, and nothing is ever duplicated.
    ///
    /// ## Why it matters
    /// The scheduler packs replicas wherever they fit; three replicas on one node, or in one zone,
    /// fail together.
    ///
    /// ## Example
    /// `api` under plane-enterprise gains
    /// `podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution` on hostname and a
    /// weight-100 preferred term on zone, both selecting `app.name: plane-plane-api`.
    ///
    /// ## Fix
    /// The terms above, appended to what the pod template has. Source: the Plane Commercial Edition: High Availability guide, "Spreading pods
    /// across availability zones"; the Laminar High Availability documentation, "Multi-Zone Distribution"; kubernetes KEP-3243.
    pub struct PodSpread("HA103", "pod-spread", "anti-affinity or topology spread per node and zone, merged with what the chart has");
}

impl Rule for PodSpread {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        let mut out = Vec::new();
        if !matches!(d.tier, Tier::Stateless | Tier::LeaderElected) {
            return out;
        }
        let (Some(floor), Some(scaled)) = (cx.floor(w, d), cx.policy.scaled(d.tier)) else {
            return out;
        };
        let svc = d
            .policy_key
            .as_deref()
            .and_then(|k| cx.policy.services.get(k));
        let mode = svc.and_then(|s| s.spread).unwrap_or(scaled.spread);
        if floor < 2 || mode == Spread::None || !w.kind.scalable() {
            return out;
        }
        let obj = cx.obj(w);
        let Some(sel) = obj.at("spec.selector").filter(|s| s.is_object()) else {
            return out;
        };
        let pod = Pod::of(obj, w);
        let when = match scaled.when_unsatisfiable {
            crate::policy::WhenUnsatisfiable::ScheduleAnyway => "ScheduleAnyway",
            crate::policy::WhenUnsatisfiable::DoNotSchedule => "DoNotSchedule",
        };
        let mut edits = Vec::new();
        let mut added = Vec::new();
        for (key, what) in [(HOSTNAME, "node"), (ZONE, "zone")] {
            if pod.covers(key) {
                continue;
            }
            let term = json!({"labelSelector": sel, "topologyKey": key});
            let aa = w.in_template("spec.affinity.podAntiAffinity");
            let (path, item, how) = match (mode, key) {
                (Spread::AntiAffinity, HOSTNAME) => (
                    aa.join("requiredDuringSchedulingIgnoredDuringExecution"),
                    term,
                    "required anti-affinity",
                ),
                (Spread::AntiAffinity | Spread::SoftAntiAffinity, _) => (
                    aa.join("preferredDuringSchedulingIgnoredDuringExecution"),
                    json!({"weight": 100, "podAffinityTerm": term}),
                    "preferred anti-affinity",
                ),
                _ => {
                    if pod.has_constraint(key, when) {
                        out.push(Finding::on(&Self::META, Severity::Warning, w, format!("a {when} spread constraint on {key} exists but does not select the pod's own labels; not adding a second one (the API rejects duplicates)")));
                        continue;
                    }
                    let mut c = json!({"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": when, "labelSelector": sel});
                    if w.kind == Kind::Deployment {
                        c["matchLabelKeys"] = json!(["pod-template-hash"]);
                    }
                    (
                        w.in_template("spec.topologySpreadConstraints"),
                        c,
                        "topology spread constraint",
                    )
                }
            };
            edits.push(Edit::Append(path, item));
            added.push(format!("{how} per {what}"));
        }
        if !edits.is_empty() {
            let msg = format!(
                "replicas of `{}` may share a {}: adds {}",
                w.service,
                if added.len() == 2 {
                    "node or zone"
                } else if added[0].ends_with("node") {
                    "node"
                } else {
                    "zone"
                },
                added.join(" and ")
            );
            out.push(Finding::on(&Self::META, Severity::Warning, w, msg).edit(w, edits));
        }
        out
    }
}

/// The scheduling terms a pod template already has.
pub struct Pod<'p, 'a> {
    labels: &'p Map<'static>,
    spec: Option<&'p Json<'a>>,
}

impl<'p, 'a> Pod<'p, 'a> {
    pub fn of(obj: &'p Json<'a>, w: &'p Workload) -> Self {
        let spec = w.template_at(obj, "spec");
        Pod {
            labels: &w.pod_labels,
            spec,
        }
    }

    fn list(&self, path: &str) -> impl Iterator<Item = &'p Json<'a>> {
        self.spec
            .and_then(|s| s.at(path))
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
    }

    /// Anti-affinity terms (required and preferred) on `key` that select this pod's own labels.
    pub fn anti_affinity(&self, key: &str, required: bool) -> bool {
        let terms: Vec<&Json<'a>> = if required {
            self.list("affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution")
                .collect()
        } else {
            self.list("affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution")
                .filter_map(|t| t.get("podAffinityTerm"))
                .collect()
        };
        terms.into_iter().any(|t| self.own(t, key))
    }

    /// Is `key` already spread over, by anything that counts the pod's own replicas?
    pub fn covers(&self, key: &str) -> bool {
        self.anti_affinity(key, true)
            || self.anti_affinity(key, false)
            || self
                .list("topologySpreadConstraints")
                .any(|t| self.own(t, key))
    }

    fn has_constraint(&self, key: &str, when: &str) -> bool {
        self.list("topologySpreadConstraints").any(|t| {
            t.get("topologyKey").and_then(Json::as_str) == Some(key)
                && t.get("whenUnsatisfiable").and_then(Json::as_str) == Some(when)
        })
    }

    fn own(&self, term: &Json<'_>, key: &str) -> bool {
        term.get("topologyKey").and_then(Json::as_str) == Some(key)
            && term
                .get("labelSelector")
                .is_some_and(|s| selector::matches(s, self.labels))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::rules::Fix;

    fn edits(found: &[Finding]) -> Vec<Edit> {
        match &found[0].fix {
            Some(Fix::Edit { edits, .. }) => edits.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn topology_spread_selects_the_workloads_own_pods_and_skips_old_revisions() {
        let found = run(
            &[&PodSpread],
            &policy(),
            vec![deployment("web", 2, json!({"containers": []}))],
        );
        let e = edits(&found);
        assert_eq!(e.len(), 2);
        let Edit::Append(path, item) = &e[0] else {
            panic!()
        };
        assert_eq!(
            path,
            &crate::yaml::Path::dotted("spec.template.spec.topologySpreadConstraints")
        );
        assert_eq!(
            item,
            &json!({"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app": "web"}}, "matchLabelKeys": ["pod-template-hash"]})
        );
    }

    #[test]
    fn the_guides_block_is_required_per_node_and_preferred_per_zone() {
        let mut p = policy();
        p.tiers.stateless.spread = Spread::AntiAffinity;
        let e = edits(&run(
            &[&PodSpread],
            &p,
            vec![deployment("web", 2, json!({"containers": []}))],
        ));
        let aa = "spec.template.spec.affinity.podAntiAffinity";
        assert_eq!(
            e,
            vec![
                Edit::Append(
                    crate::yaml::Path::dotted(&format!(
                        "{aa}.requiredDuringSchedulingIgnoredDuringExecution"
                    )),
                    json!({"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOSTNAME})
                ),
                Edit::Append(
                    crate::yaml::Path::dotted(&format!(
                        "{aa}.preferredDuringSchedulingIgnoredDuringExecution"
                    )),
                    json!({"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": ZONE}})
                ),
            ]
        );
    }

    #[test]
    fn existing_terms_for_own_pods_are_kept_and_foreign_ones_do_not_count() {
        let own = json!({"containers": [], "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": HOSTNAME}]}}});
        let e = edits(&run(
            &[&PodSpread],
            &policy(),
            vec![deployment("web", 2, own)],
        ));
        assert_eq!(e.len(), 1, "only the zone is missing");
        let foreign = json!({"containers": [], "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "other"}}}]});
        let e = edits(&run(
            &[&PodSpread],
            &policy(),
            vec![deployment("web", 2, foreign)],
        ));
        assert_eq!(
            e.len(),
            2,
            "a constraint over other pods does not spread these"
        );
    }

    #[test]
    fn a_duplicate_constraint_key_is_reported_not_added() {
        let clash = json!({"containers": [], "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "other"}}}]});
        let found = run(&[&PodSpread], &policy(), vec![deployment("web", 2, clash)]);
        assert!(
            found
                .iter()
                .any(|f| f.fix.is_none() && f.message.contains("the API rejects duplicates")),
            "{found:?}"
        );
        assert_eq!(
            edits(&found[1..]).len(),
            1,
            "the hostname constraint is still added"
        );
    }
}
