//! Sorting workloads into tiers. Every decision carries the reason `--explain` prints.

use crate::policy::{glob, Policy, Tier};
use crate::workload::{at, Kind, Workload};
use crate::yaml::Json;
use crate::yaml::Lookup as _;

/// A workload's tier and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub tier: Tier,
    pub why: String,
    /// The policy's key for this service, when it names it.
    pub policy_key: Option<String>,
}

/// The access modes of each PersistentVolumeClaim in the stream, by name.
pub type Claims = std::collections::BTreeMap<String, Vec<String>>;

pub fn classify(w: &Workload, obj: &Json<'_>, policy: &Policy, claims: &Claims) -> Decision {
    let named = policy.service(&w.service);
    let policy_key = named.map(|(k, _)| k.to_string());
    let decide = |tier, why: String| Decision {
        tier,
        why,
        policy_key: policy_key.clone(),
    };
    if let Some(hook) = &w.hook {
        return decide(
            Tier::Skip,
            format!("Helm hook (`helm.sh/hook: {hook}`): hooks pass through untouched"),
        );
    }
    if policy.excluded(&w.service, &w.name) {
        return decide(Tier::Skip, "excluded by the policy's `exclude` list".into());
    }
    if w.kind == Kind::DaemonSet {
        return decide(
            Tier::Skip,
            "DaemonSet: already one pod per node; nothing to scale or spread".into(),
        );
    }
    if let Some((key, tier)) = named.and_then(|(k, s)| Some((k, s.tier?))) {
        return decide(
            tier,
            format!("policy `services.{key}` says {}", tier.as_str()),
        );
    }
    let unnamed = if named.is_none() && policy.profile.as_deref() != Some("generic") {
        format!(
            " (service `{}` is not named by profile {}: generic rules)",
            w.service,
            policy.profile.as_deref().unwrap_or("?")
        )
    } else {
        String::new()
    };
    let (tier, why) = heuristics(w, obj, policy, claims);
    decide(tier, format!("{why}{unnamed}"))
}

fn heuristics(w: &Workload, obj: &Json<'_>, policy: &Policy, claims: &Claims) -> (Tier, String) {
    let null = Json::Null;
    let pod = at(obj, &format!("{}.spec", w.template_path())).unwrap_or(&null);
    let containers: Vec<&Json> = ["containers", "initContainers"]
        .iter()
        .filter_map(|k| pod.get(*k).and_then(Json::as_array))
        .flatten()
        .collect();
    if w.kind.runs_to_completion() {
        return (
            Tier::Singleton,
            format!(
                "{}: runs to completion; two copies must not run at once",
                w.kind.as_str()
            ),
        );
    }
    if let Some(arg) = containers
        .iter()
        .flat_map(|c| args(c))
        .find(|a| leader_election_arg(a, &policy.detect.leader_election_args))
    {
        return (
            Tier::LeaderElected,
            format!("container argument `{arg}`: one active copy through a Lease"),
        );
    }
    if let Some(image) = containers
        .iter()
        .filter_map(|c| c.get("image").and_then(Json::as_str))
        .find(|i| stateful_image(i, &policy.detect.stateful_images))
    {
        return (
            Tier::Stateful,
            format!(
                "image `{}` is a database, broker or search engine",
                image_name(image)
            ),
        );
    }
    if policy
        .detect
        .stateful_images
        .iter()
        .any(|n| n.eq_ignore_ascii_case(&w.service))
    {
        return (
            Tier::Stateful,
            format!(
                "service `{}` is a database, broker or search engine",
                w.service
            ),
        );
    }
    let replicas = obj.at("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
    let claim_templates = obj
        .at("/spec/volumeClaimTemplates")
        .and_then(Json::as_array)
        .is_some_and(|v| !v.is_empty());
    if w.kind == Kind::StatefulSet && claim_templates && replicas <= 1 {
        return (
            Tier::Stateful,
            "single-replica StatefulSet with volumeClaimTemplates: its state lives on one disk"
                .into(),
        );
    }
    if let Some(g) = policy
        .detect
        .singleton_names
        .iter()
        .find(|g| glob(g, &w.service))
    {
        return (
            Tier::Singleton,
            format!("service name matches `{g}` (scheduler, beat, migration): exactly one copy"),
        );
    }
    if w.kind == Kind::Deployment
        && obj.at("/spec/strategy/type").and_then(Json::as_str) == Some("Recreate")
    {
        return (
            Tier::Skip,
            "`strategy: Recreate`: the chart says two copies must never run at once; not scaled"
                .into(),
        );
    }
    for claim in pod
        .get("volumes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v.at("/persistentVolumeClaim/claimName")
                .and_then(Json::as_str)
        })
    {
        match claims.get(claim) {
            Some(modes) if modes.iter().all(|m| m == "ReadWriteMany" || m == "ReadOnlyMany") => {}
            Some(_) => return (Tier::Skip, format!("mounts ReadWriteOnce claim `{claim}`: a second copy could not attach it; not scaled")),
            None => return (Tier::Skip, format!("mounts claim `{claim}`, which is not in the stream (its access mode is unknown); not scaled")),
        }
    }
    (
        Tier::Stateless,
        format!(
            "{} with no local state found: scale out and spread",
            w.kind.as_str()
        ),
    )
}

fn args<'v>(container: &'v Json<'_>) -> impl Iterator<Item = &'v str> {
    ["command", "args"]
        .into_iter()
        .filter_map(|k| container.get(k).and_then(Json::as_array))
        .flatten()
        .filter_map(Json::as_str)
}

/// `--leader-elect`, `--leader-elect=true`; not `--leader-elect=false`.
fn leader_election_arg(arg: &str, known: &[String]) -> bool {
    let (flag, value) = arg.split_once('=').unwrap_or((arg, "true"));
    known.iter().any(|k| k == flag) && !value.eq_ignore_ascii_case("false")
}

/// `docker.io/bitnami/postgresql:16` → `postgresql`.
fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

fn stateful_image(image: &str, known: &[String]) -> bool {
    let name = image_name(image).to_ascii_lowercase();
    known.iter().any(|k| {
        name == *k
            || name
                .strip_prefix(k.as_str())
                .is_some_and(|r| r.starts_with('-'))
    })
}

/// Access modes of every PVC in the stream.
pub fn claims(values: &[&Json<'_>]) -> Claims {
    values
        .iter()
        .filter(|v| v.get("kind").and_then(Json::as_str) == Some("PersistentVolumeClaim"))
        .filter_map(|v| {
            let name = v.at("/metadata/name")?.as_str()?.to_string();
            let modes = v
                .at("/spec/accessModes")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect();
            Some((name, modes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_ignore_registry_tag_and_digest() {
        assert_eq!(
            image_name("docker.io/bitnami/postgresql:16.2"),
            "postgresql"
        );
        assert_eq!(image_name("redis@sha256:abc"), "redis");
        assert_eq!(image_name("localhost:5000/minio/minio:latest"), "minio");
    }

    #[test]
    fn stateful_images_match_whole_names_or_dash_suffixes() {
        let known = vec!["redis".to_string(), "postgres".to_string()];
        assert!(stateful_image("redis:7", &known));
        assert!(stateful_image("bitnami/redis-cluster:7", &known));
        assert!(!stateful_image("myorg/redisinsight:1", &known));
        assert!(!stateful_image("makeplane/backend:1", &known));
    }

    #[test]
    fn leader_election_flags() {
        let known = vec!["--leader-elect".to_string()];
        assert!(leader_election_arg("--leader-elect", &known));
        assert!(leader_election_arg("--leader-elect=true", &known));
        assert!(!leader_election_arg("--leader-elect=false", &known));
        assert!(!leader_election_arg(
            "--leader-elect-lease-duration=15s",
            &known
        ));
    }
}
