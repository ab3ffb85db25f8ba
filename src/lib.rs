//! helm-ha: a Helm post-renderer that hardens every workload of a release for node and zone loss.
//!
//! The pipeline ([`pipeline`]): [`stream`] cuts the input into documents and [`yaml`] reads them
//! as Kubernetes does; [`workload`] finds and names workloads and [`classify`] sorts them into
//! tiers; every rule in [`rules`] runs over the documents in turn; the writer splices the edits
//! into the original bytes.
//!
//! [`drill`] (`helm-ha drill`) simulates a stream on a simulated cluster: zone loss, drains and
//! rollouts, judged per service.

pub mod app;
mod classify;
pub mod cli;
pub mod drill;
pub mod error;
#[doc(hidden)]
pub mod gen_stream;
pub mod output_dir;
pub mod pipeline;
pub mod policy;
mod report;
pub mod rules;
mod selector;
pub mod stream;
pub mod templates;
mod workload;
pub mod yaml;

/// Helm 4 annotates every document it sends with its template path and strips it afterwards.
pub const HELM4_FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// What to print for a failure: `(stdout, stderr lines, exit code)`.
///
/// Helm 4 throws a post-renderer's stderr away, so under a Helm 4 plugin (`HELM_PLUGIN_NAME`
/// set) the message also goes to stdout as one double-quoted YAML string with exit 0: Helm
/// cannot read a scalar as an object, aborts with exit 1 and shows the message
/// (Helm 4.1; `tests/helm_e2e.rs` holds it). Nothing is applied either way.
pub fn failure_output(failure: &error::Failure, helm4_plugin: bool) -> (String, Vec<String>, i32) {
    let message = format!("helm-ha: error: {failure}");
    if helm4_plugin {
        let quoted = serde_json::to_string(&message).expect("a string serialises");
        (format!("{quoted}\n"), vec![message], 0)
    } else {
        (String::new(), vec![message], failure.exit_code())
    }
}
