//! The go-live checklist items no manifest can show. Each is a rule with a stable code (the
//! HA900 series) whose `check` lists it as a note with no object, so `helm-ha check` prints the
//! whole checklist and `helm-ha explain HA90x` tells how to verify the item. `check --no-manual`
//! leaves them out; `render` never prints them.

use super::{rule, Cx, Finding, Rule, Severity};

/// A manual item: one note, no object, no fix.
macro_rules! manual {
    ($ty:ident, $message:literal) => {
        impl Rule for $ty {
            fn meta(&self) -> &'static super::Meta {
                &Self::META
            }

            fn stream(&self, _cx: &Cx) -> Vec<Finding> {
                vec![Finding {
                    rule: &Self::META,
                    severity: Severity::Info,
                    doc: None,
                    object: String::new(),
                    service: None,
                    message: concat!("manual: ", $message).to_string(),
                    fix: None,
                }]
            }
        }
    };
}

rule! {
    /// HA901 three-zones: worker nodes in at least three availability zones.
    ///
    /// ## What it does
    /// Lists the item; a manifest cannot show the cluster's nodes.
    ///
    /// ## Why it matters
    /// Spreading over zones needs zones. Two zones survive the loss of one for stateless
    /// services but cannot keep a quorum (etcd, synchronous Postgres replicas, OpenSearch
    /// masters); three is the minimum. The scheduler only knows a node's zone from its
    /// `topology.kubernetes.io/zone` label.
    ///
    /// ## Example
    /// `kubectl get nodes -L topology.kubernetes.io/zone` shows nodes in `eu-west-1a` only.
    ///
    /// ## Fix
    /// Node groups (or Karpenter NodePools) in three zones; check that every node carries
    /// `topology.kubernetes.io/zone` (managed clusters set it; self-managed ones may not).
    /// Source: the Plane Commercial Edition: High Availability guide, "Cluster prerequisites" (1, 5); go-live checklist.
    pub struct ThreeZones("HA901", "three-zones", "manual checklist items (`check` lists them as notes; `render` never prints them)");
}
manual!(ThreeZones, "worker nodes run in at least 3 availability zones and carry `topology.kubernetes.io/zone` (`kubectl get nodes -L topology.kubernetes.io/zone`)");

rule! {
    /// HA902 managed-services-ha: the managed data services are themselves highly available.
    ///
    /// ## What it does
    /// Lists the item; the managed services live outside the manifest. (In-chart databases,
    /// queues and object stores, which a manifest does show, are HA001.)
    ///
    /// ## Why it matters
    /// Replacing an in-chart database with a managed one only helps if the managed one survives
    /// a zone loss: a single-AZ RDS instance or a single-node RabbitMQ is the same single point
    /// of failure, one level down.
    ///
    /// ## Example
    /// Postgres on RDS without Multi-AZ; a one-node Amazon MQ broker.
    ///
    /// ## Fix
    /// Postgres: multi-AZ primary with a synchronous replica and automatic failover (RDS
    /// Multi-AZ, Cloud SQL HA, Azure Flexible Server zone-redundant, Patroni). Redis: a replica
    /// group with automatic failover. RabbitMQ: a cluster with quorum queues on 3 or more nodes
    /// in 3 or more zones. OpenSearch: 3 or more master-eligible nodes across 3 zones. Object
    /// storage: S3, GCS or Blob (multi-AZ by design) with versioning on.
    /// Source: the Plane Commercial Edition: High Availability guide, "External managed services" and the go-live checklist; the Prisme.ai
    /// high availability documentation.
    pub struct ManagedServicesHa("HA902", "managed-services-ha", "manual checklist items (`check` lists them as notes; `render` never prints them)");
}
manual!(ManagedServicesHa, "managed Postgres is multi-AZ with a synchronous replica, Redis has a replica with automatic failover, RabbitMQ and OpenSearch run 3+ nodes across 3+ zones, object storage is multi-AZ with versioning");

rule! {
    /// HA903 backups: backups are configured for every piece of state.
    ///
    /// ## What it does
    /// Lists the item; backup configuration lives outside the manifest.
    ///
    /// ## Why it matters
    /// High availability protects against node and zone loss; it replicates a `DROP TABLE`,
    /// an accidental deletion or ransomware to every replica at once. Only backups protect
    /// against those.
    ///
    /// ## Example
    /// A multi-AZ RDS instance with automated backups turned off.
    ///
    /// ## Fix
    /// Postgres: automated backups and point-in-time recovery (30 days, PITR at least 7).
    /// Object storage: versioning, and cross-region replication for regional failures.
    /// OpenSearch: snapshots to object storage. RabbitMQ: scheduled definitions export.
    /// Kubernetes objects: Velero, namespace-scoped, daily. Source: the Plane Commercial Edition: High Availability guide, "Backup and
    /// disaster recovery"; the Laminar High Availability documentation, "Disaster Recovery".
    pub struct Backups("HA903", "backups", "manual checklist items (`check` lists them as notes; `render` never prints them)");
}
manual!(Backups, "backups are configured: database PITR, object-storage versioning, search snapshots, Kubernetes objects (e.g. Velero)");

rule! {
    /// HA904 restore-drill: a restore from backup has been done and has worked.
    ///
    /// ## What it does
    /// Lists the item; only people can do it.
    ///
    /// ## Why it matters
    /// A backup that has never been restored is an assumption, not a guarantee: missing
    /// permissions, an unreadable format or an hour-long restore are found during the drill,
    /// or during the incident.
    ///
    /// ## Example
    /// Restore last night's database snapshot into a scratch instance and start the
    /// application against it.
    ///
    /// ## Fix
    /// Run a restore drill before go-live and at least once per quarter; write down how long it
    /// took. Source: the Plane Commercial Edition: High Availability guide, "Backup and disaster recovery" and the go-live checklist.
    pub struct RestoreDrill("HA904", "restore-drill", "manual checklist items (`check` lists them as notes; `render` never prints them)");
}
manual!(
    RestoreDrill,
    "a restore drill has succeeded before go-live (and runs at least once per quarter)"
);

rule! {
    /// HA905 failure-drill: the release has survived a zone being drained.
    ///
    /// ## What it does
    /// Lists the item; a manifest cannot prove that the hardening works on the real cluster.
    ///
    /// ## Why it matters
    /// Spread constraints the scheduler could not honour, a PodDisruptionBudget that blocks a
    /// drain, a readiness probe that never passes: each looks fine on paper and shows up only
    /// when a zone actually goes away.
    ///
    /// ## Example
    /// `kubectl cordon` and `kubectl drain` every node of one zone while a load test runs.
    ///
    /// ## Fix
    /// Before go-live: cordon and drain every node in one zone and check the application stays
    /// up; kill the active database node and check it recovers. `helm-ha drill` simulates zone
    /// loss, drains and rollouts on the manifest first (it finds unschedulable spreads and
    /// blocking budgets), but only the real cluster proves the rest. Source: the Plane Commercial Edition: High Availability guide, go-live
    /// checklist ("Failure drill").
    pub struct FailureDrill("HA905", "failure-drill", "manual checklist items (`check` lists them as notes; `render` never prints them)");
}
manual!(FailureDrill, "failure drills passed: drain every node of one zone (the application stays up) and kill the active database node (it recovers)");

rule! {
    /// HA906 monitoring: availability is monitored and alerts reach someone.
    ///
    /// ## What it does
    /// Lists the item; monitoring usually lives outside the release.
    ///
    /// ## Why it matters
    /// Redundancy hides failures: with three replicas, the first two can die unnoticed. Without
    /// alerts on unavailable replicas, Pending pods, PDBs that allow no disruption and failing
    /// probes, the third failure is the first one anybody sees.
    ///
    /// ## Example
    /// `kube_deployment_status_replicas_unavailable > 0` for 10 minutes pages nobody.
    ///
    /// ## Fix
    /// Alert on unavailable replicas, Pending pods, PDB `disruptionsAllowed == 0`, pods per zone,
    /// and the managed services' failover events. Source: the Laminar High Availability documentation, "Monitoring HA Status" and
    /// the HA checklist ("Monitoring and alerting enabled").
    pub struct Monitoring("HA906", "monitoring", "manual checklist items (`check` lists them as notes; `render` never prints them)");
}
manual!(
    Monitoring,
    "monitoring and alerting cover unavailable replicas, Pending pods, blocked PDBs and failovers"
);

rule! {
    /// HA907 cloud-load-balancer: the load balancer in front of the cluster serves every zone.
    ///
    /// ## What it does
    /// Lists the item. A `type: LoadBalancer` Service in the stream is checked by HA205, but the
    /// load balancer in front of the ingress controller is often created outside this release.
    ///
    /// ## Why it matters
    /// A load balancer that sends each zone's clients only to that zone's pods loses those
    /// clients with the zone. WebSocket connections (Plane's `live` service) also need an idle
    /// timeout longer than their keep-alive, or every connection drops every minute.
    ///
    /// ## Example
    /// An AWS NLB (cross-zone off by default) or an ALB with the default 60 s idle timeout.
    ///
    /// ## Fix
    /// AWS: NLB or ALB with cross-zone load balancing on, ALB idle timeout raised for
    /// WebSockets; GCP: the default global load balancer; Azure: Standard Load Balancer with
    /// zones 1, 2, 3; on-premises: MetalLB in BGP mode or an external load balancer.
    /// Source: the Plane Commercial Edition: High Availability guide, "Cluster prerequisites" (3) and "Ingress and load balancer".
    pub struct CloudLoadBalancer("HA907", "cloud-load-balancer", "manual checklist items (`check` lists them as notes; `render` never prints them)");
}
manual!(CloudLoadBalancer, "the cloud load balancer in front of the ingress controller balances across zones (and its idle timeout suits WebSockets)");

#[cfg(test)]
mod tests {
    use super::super::testkit::{policy, run};
    use super::*;

    #[test]
    fn each_item_is_one_note_without_an_object() {
        let rules: [&dyn Rule; 7] = [
            &ThreeZones,
            &ManagedServicesHa,
            &Backups,
            &RestoreDrill,
            &FailureDrill,
            &Monitoring,
            &CloudLoadBalancer,
        ];
        for rule in rules {
            let found = run(&[rule], &policy(), vec![]);
            assert_eq!(found.len(), 1);
            let f = &found[0];
            assert_eq!(
                (f.severity, f.doc, f.object.as_str(), f.fix.is_none()),
                (Severity::Info, None, "", true)
            );
            assert!(f.message.starts_with("manual: "));
            assert!(rule.meta().code.starts_with("HA90"));
        }
    }
}
