//! helm-ha: a Helm post-renderer that hardens every workload of a release for node and zone loss.
pub mod yaml;
