//! `helm-ha drill`: simulate, before the release exists, whether it survives losing a zone,
//! draining nodes and a rollout.
//!
//! [`pods`] reads the stream's workloads and PDBs, [`cluster`] describes the nodes,
//! [`schedule`] places pods as kube-scheduler's filters would, [`disruption`] applies the
//! eviction API's budget rules, [`drills`] runs every drill from the same baseline and
//! [`report`] turns the runs into a verdict per service.

pub mod cluster;
pub mod disruption;
pub mod drills;
pub mod pods;
pub mod quantity;
pub mod report;
pub mod schedule;

#[cfg(test)]
mod tests;

pub use cluster::Cluster;
pub use pods::Model;
pub use report::Report;

/// Place the model's pods on the cluster, run every drill, and judge.
pub fn run(model: &Model, cluster: &Cluster) -> Report {
    let base = schedule::State::new(model, cluster.nodes.clone());
    let runs = drills::all(&base);
    report::build(&base, &runs, cluster.describe())
}
