use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::json;
use crate::policy::{Taint, Tier};
use crate::workload::Workload;
use crate::yaml::{Edit, Json};

pub const NODEPOOL_LABEL: &str = "karpenter.sh/nodepool";

rule! {
    /// HA109 node-pool: a service the policy puts in a Karpenter pool can land anywhere.
    ///
    /// ## What it does
    /// When `karpenter.enabled`, every workload of a service with `services.<name>.pool` gets
    /// `nodeSelector: {karpenter.sh/nodepool: <pool>}` on its pod template and, when the pool's
    /// nodes carry a taint (`karpenter.pools.<pool>.taint`), a toleration for it. Existing
    /// selectors and tolerations are kept; a toleration that already tolerates the taint (same
    /// key, or an empty key with `Exists`; `Exists` or the same value; the same or no effect) is
    /// not added again. A pod template that pins another pool is reported and left alone. Helm
    /// hooks, DaemonSets and excluded services are never touched.
    ///
    /// ## Why it matters
    /// A toleration alone lets a pod onto the tainted spot nodes, it does not keep it there; the
    /// selector alone leaves it Pending on tainted nodes. The guide's batch workers need both to
    /// run on the spot pool, and nothing else should.
    ///
    /// ## Example
    /// `worker` under plane-enterprise with Karpenter on: `nodeSelector: {karpenter.sh/nodepool:
    /// plane-spot}` and `{key: workload-class, operator: Equal, value: batch, effect: NoSchedule}`.
    ///
    /// ## Fix
    /// The selector and toleration above. Source: the Plane Commercial Edition: High Availability guide, "NodePools".
    pub struct NodePoolPlacement("HA109", "node-pool", "`nodeSelector` and toleration for the Karpenter pool the policy assigns");
}

impl Rule for NodePoolPlacement {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        let Some(k) = cx.policy.karpenter.as_ref().filter(|k| k.enabled) else {
            return Vec::new();
        };
        if d.tier == Tier::Skip {
            return Vec::new();
        }
        let Some((pool_name, pool)) = d
            .policy_key
            .as_deref()
            .and_then(|key| cx.policy.services.get(key))
            .and_then(|s| s.pool.as_deref())
            .and_then(|p| k.pools.get_key_value(p))
        else {
            return Vec::new();
        };
        let spec = w.in_template("spec");
        let null = Json::Null;
        let pod = cx.value(w.doc).at(&spec).unwrap_or(&null);
        let mut edits = Vec::new();
        let mut what = Vec::new();
        match pod
            .at("nodeSelector")
            .and_then(|s| s.get(NODEPOOL_LABEL))
            .and_then(Json::as_str)
        {
            Some(p) if p == pool_name => {}
            Some(other) => {
                return vec![Finding::on(&Self::META, Severity::Warning, w, format!("the pod template pins pool `{other}` but the policy assigns `{pool_name}`; left as the chart has it"))];
            }
            None => {
                let path = spec.clone().join("nodeSelector").key(NODEPOOL_LABEL);
                edits.push(Edit::Set(path, Json::from(pool_name.as_str())));
                what.push(format!("nodeSelector {NODEPOOL_LABEL}: {pool_name}"));
            }
        }
        if let Some(taint) = pool.taint.as_deref().and_then(Taint::parse) {
            let tolerations = pod
                .get("tolerations")
                .and_then(Json::as_array)
                .map_or(&[][..], Vec::as_slice);
            if !tolerations.iter().any(|t| tolerates(t, &taint)) {
                edits.push(Edit::Append(
                    spec.clone().join("tolerations"),
                    toleration(&taint),
                ));
                what.push(format!(
                    "a toleration for {}",
                    pool.taint.as_deref().unwrap_or_default()
                ));
            }
        }
        if edits.is_empty() {
            return Vec::new();
        }
        vec![Finding::on(
            &Self::META,
            Severity::Warning,
            w,
            format!(
                "policy puts `{}` in Karpenter pool {pool_name}: adds {}",
                w.service,
                what.join(" and ")
            ),
        )
        .edit(w, edits)]
    }
}

pub fn toleration(t: &Taint) -> Json<'static> {
    match &t.value {
        Some(v) => json!({"key": t.key, "operator": "Equal", "value": v, "effect": t.effect}),
        None => json!({"key": t.key, "operator": "Exists", "effect": t.effect}),
    }
}

/// The scheduler's `Toleration.ToleratesTaint`.
pub fn tolerates(toleration: &Json<'_>, taint: &Taint) -> bool {
    let s = |k: &str| toleration.get(k).and_then(Json::as_str).unwrap_or("");
    let effect_ok = s("effect").is_empty() || s("effect") == taint.effect;
    let key_ok = s("key") == taint.key || (s("key").is_empty() && s("operator") == "Exists");
    let value_ok = match s("operator") {
        "Exists" => true,
        "" | "Equal" => s("value") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    };
    effect_ok && key_ok && value_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toleration_matching_follows_the_scheduler() {
        let t = Taint::parse("workload-class=batch:NoSchedule").unwrap();
        assert!(tolerates(&toleration(&t), &t));
        assert!(tolerates(&json!({"operator": "Exists"}), &t));
        assert!(tolerates(
            &json!({"key": "workload-class", "operator": "Exists"}),
            &t
        ));
        assert!(tolerates(
            &json!({"key": "workload-class", "value": "batch"}),
            &t
        ));
        assert!(!tolerates(
            &json!({"key": "workload-class", "value": "other"}),
            &t
        ));
        assert!(!tolerates(
            &json!({"key": "workload-class", "operator": "Equal", "value": "batch", "effect": "NoExecute"}),
            &t
        ));
        assert!(!tolerates(
            &json!({"key": "other", "operator": "Exists"}),
            &t
        ));
        let bare = Taint::parse("dedicated:NoExecute").unwrap();
        assert_eq!(
            toleration(&bare),
            json!({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"})
        );
        assert!(Taint::parse("k=v:Sometimes").is_none());
    }
}
