use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::Decision;
use crate::policy::Tier;
use crate::workload::Workload;

rule! {
    /// HA001 stateful-in-chart: an in-chart database, queue, search engine or object store.
    ///
    /// ## What it does
    /// Reports every workload in the stateful tier: an in-chart Postgres, Redis, RabbitMQ,
    /// OpenSearch, MinIO (or any image the policy's `detect.statefulImages` names, or a
    /// single-replica StatefulSet with volumeClaimTemplates). helm-ha leaves them untouched.
    ///
    /// ## Why it matters
    /// A single copy runs on one ReadWriteOnce disk in one zone, with no replication,
    /// failover or quorum: losing that zone loses the service and possibly its data. Scaling
    /// them would not help; two copies of a database on two disks are two databases. Where the
    /// chart already runs several copies (a Raft or Sentinel cluster, a KRaft quorum), the
    /// message says so (a note, not a warning): helm-ha keeps the count and cannot see from the
    /// manifest whether the quorum survives a zone.
    ///
    /// ## Example
    /// `postgres` (label `pgdb`) in the Plane chart with `services.postgres.local_setup: true`.
    ///
    /// ## Fix
    /// Point the chart at a managed multi-AZ service (the message names one) and turn the
    /// in-chart one off. With `--strict` (or `strict: true`) helm-ha refuses the stream (exit 1).
    /// Source: the Plane Commercial Edition: High Availability guide, "Tier 3 - Local stateful (not HA)".
    pub struct StatefulInChart("HA001", "stateful-in-chart", "warns about in-chart stateful services, with their copies and disk (error with `--strict`)");
}

impl Rule for StatefulInChart {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if d.tier != Tier::Stateful {
            return Vec::new();
        }
        let severity = if cx.policy.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        let managed = d
            .policy_key
            .as_deref()
            .and_then(|k| cx.policy.services.get(k))
            .and_then(|s| s.managed.clone());
        let instead = managed.unwrap_or_else(|| "a managed, multi-AZ equivalent".to_string());
        if d.copies >= 2 {
            // Replicated by the chart: whether that survives a zone is the app's clustering,
            // which a manifest does not show.
            let severity = if cx.policy.strict {
                Severity::Error
            } else {
                Severity::Info
            };
            return vec![Finding::on(&Self::META, severity, w, format!("in-chart stateful service `{}` runs {} copies ({}): their replication or quorum is the chart's; check it survives losing a zone, or use {instead}", w.service, d.copies, d.why))];
        }
        vec![Finding::on(&Self::META, severity, w, format!("in-chart stateful service `{}` is not HA: one copy ({}); losing its node or zone takes it down; use {instead}", w.service, d.why))]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;

    fn redis() -> crate::yaml::Json<'static> {
        deployment(
            "cache",
            1,
            json!({"containers": [{"name": "r", "image": "docker.io/library/redis:7"}]}),
        )
    }

    #[test]
    fn in_chart_databases_are_reported_and_left_alone() {
        let found = run(
            &[&StatefulInChart],
            &policy(),
            vec![redis(), deployment("web", 1, json!({"containers": []}))],
        );
        assert_eq!(found.len(), 1);
        assert_eq!(
            (
                found[0].severity,
                found[0].object.as_str(),
                found[0].fix.is_none()
            ),
            (Severity::Warning, "Deployment/cache", true)
        );
        assert!(
            found[0]
                .message
                .contains("use a managed, multi-AZ equivalent"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn strict_makes_it_an_error_and_the_policy_names_the_replacement() {
        let mut p = policy();
        p.strict = true;
        p.services.insert(
            "cache".into(),
            crate::policy::Service {
                tier: Some(Tier::Stateful),
                managed: Some("ElastiCache Multi-AZ".into()),
                ..Default::default()
            },
        );
        let found = run(&[&StatefulInChart], &p, vec![redis()]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.ends_with("use ElastiCache Multi-AZ"),
            "{}",
            found[0].message
        );
    }
}
