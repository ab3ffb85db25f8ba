use super::ingress_controller::ingress_controller_image;
use super::readiness_probe::containers;
use super::{rule, Cx, Finding, Rule, Severity};
use crate::classify::{mentions_election, words, Decision};
use crate::policy::Tier;
use crate::workload::Workload;
use crate::yaml::Json;

rule! {
    /// HA203 leader-election: several copies of a controller that may all act at once.
    ///
    /// ## What it does
    /// Looks at stateless and leader-elected workloads that run (or, after the replica floor,
    /// will run) more than one copy:
    /// - a **warning** when a container argument turns leader election *off*
    ///   (`--leader-elect=false`, `--leader-election false`, … for every flag in the policy's
    ///   `detect.leaderElectionArgs`): the chart says the software can elect a leader, and every
    ///   copy will act;
    /// - a **note** when the workload looks like a Kubernetes controller (a container or image
    ///   named `*-controller`, `controller-manager`, `*-operator`, or a kubebuilder `manager`
    ///   container) and no argument or environment variable mentions leader election at all.
    ///   Many controllers elect by default or read it from a config file, which a manifest does
    ///   not show, so this is only a prompt to verify.
    ///
    /// Ingress controllers are left out (many active copies is their normal mode), and so are
    /// hooks, singletons and excluded services. The note is not given where the classifier
    /// found election by other evidence (RBAC that lets the pods write a Lease). (A workload the classifier took for
    /// leader-elected because of `--leader-elect` followed by a separate `false` argument is
    /// caught by the first check.)
    /// It never changes anything: turning election on needs RBAC for Leases and the right
    /// namespace, which only the chart knows.
    ///
    /// ## Why it matters
    /// Two controllers reconciling the same objects fight: duplicated work, conflicting writes,
    /// double-sent notifications. Scaling a controller for availability is only safe when one
    /// copy is active through a Lease and the others stand by.
    ///
    /// ## Example
    /// `controller` with `replicas: 2` and `args: [--leader-elect=false]` (warning).
    ///
    /// ## Fix
    /// Turn leader election on in the chart (`--leader-elect=true`, or the chart's
    /// `leaderElection.enabled`), or declare the service `tier: singleton` in the policy so
    /// helm-ha keeps it at one copy. Source: the Laminar High Availability documentation, "Controller HA" and the HA checklist
    /// ("Multiple controller replicas with leader election"); the PgDog control plane
    /// documentation, "High availability".
    pub struct LeaderElection("HA203", "leader-election",
        "check only: several copies with leader election explicitly off (warning); a controller-looking workload with no election setting at all (note)");
}

impl Rule for LeaderElection {
    fn meta(&self) -> &'static super::Meta {
        &Self::META
    }

    fn workload(&self, cx: &Cx, w: &Workload, d: &Decision) -> Vec<Finding> {
        if !matches!(d.tier, Tier::Stateless | Tier::LeaderElected) || !w.kind.scalable() {
            return Vec::new();
        }
        let flags = &cx.policy.detect.leader_election_args;
        let obj = cx.obj(w);
        let mut copies = obj.at("spec.replicas").and_then(Json::as_u64).unwrap_or(1);
        if cx.autoscaled(w, d) {
            copies = copies.max(cx.floor(w, d).map_or(1, u64::from));
        }
        if copies < 2 {
            return Vec::new();
        }
        let cs: Vec<&Json> = containers(obj, w).collect();
        if let Some(arg) = cs
            .iter()
            .find_map(|c| disabled(&words(c).collect::<Vec<_>>(), flags))
        {
            return vec![Finding::on(&Self::META, Severity::Warning, w, format!("{copies} copies of `{}` with leader election turned off (`{arg}`): every copy acts on the same objects", w.service))];
        }
        fn image<'j>(c: &&'j Json) -> &'j str {
            c.get("image").and_then(Json::as_str).unwrap_or("")
        }
        if cs.iter().any(|c| ingress_controller_image(image(c))) {
            return Vec::new();
        }
        let controller = cs.iter().find(|c| {
            controller_like(c.get("name").and_then(Json::as_str).unwrap_or(""), image(c))
        });
        let mentions = cs.iter().any(|c| {
            let env_names = c
                .get("env")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("name").and_then(Json::as_str));
            words(c).chain(env_names).any(mentions_election)
        });
        match (controller, mentions) {
            // A leader-elected workload was classified on evidence (a flag, an env var, Lease
            // RBAC) the note would contradict.
            (Some(c), false) if d.tier != Tier::LeaderElected => {
                let name = c.get("name").and_then(Json::as_str).unwrap_or("?");
                vec![Finding::on(&Self::META, Severity::Info, w, format!("{copies} copies of `{}` (container `{name}` looks like a controller) and no argument or env var mentions leader election: verify only one copy acts", w.service))]
            }
            _ => Vec::new(),
        }
    }
}

/// The argument that turns a known leader-election flag off: `--flag=false` or `--flag false`.
fn disabled(args: &[&str], flags: &[String]) -> Option<String> {
    args.iter().enumerate().find_map(|(i, a)| {
        if let Some((flag, value)) = a.split_once('=') {
            return (flags.iter().any(|f| f == flag) && value.trim().eq_ignore_ascii_case("false"))
                .then(|| a.to_string());
        }
        let next = args.get(i + 1)?;
        (flags.iter().any(|f| f == a) && next.eq_ignore_ascii_case("false"))
            .then(|| format!("{a} {next}"))
    })
}

/// `*-controller`, `*controller-manager`, `*-operator` (container or image name), or the
/// kubebuilder scaffold's `manager` container.
fn controller_like(container: &str, image: &str) -> bool {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    let image_name = last.split(':').next().unwrap_or(last);
    let looks = |n: &str| {
        let n = n.to_ascii_lowercase();
        n.ends_with("-controller")
            || n.ends_with("controller-manager")
            || n.ends_with("-operator")
            || n == "controller"
            || n == "operator"
    };
    looks(container) || looks(image_name) || container == "manager"
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{deployment, policy, run};
    use super::*;
    use crate::json;

    fn dep(name: &str, replicas: u32, container: Json<'static>) -> Json<'static> {
        deployment(name, replicas, json!({"containers": [container]}))
    }

    #[test]
    fn explicitly_disabled_election_with_several_copies_warns() {
        let found = run(
            &[&LeaderElection],
            &policy(),
            vec![dep(
                "ctl",
                2,
                json!({"name": "ctl", "image": "x/ctl:1", "args": ["--leader-elect=false"]}),
            )],
        );
        assert_eq!((found.len(), found[0].severity), (1, Severity::Warning));
        assert!(found[0].message.contains("--leader-elect=false"));
        let found = run(
            &[&LeaderElection],
            &policy(),
            vec![dep(
                "ctl",
                3,
                json!({"name": "ctl", "image": "x/ctl:1", "args": ["--leader-election", "false"]}),
            )],
        );
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found.iter().all(|f| f.fix.is_none()));
    }

    #[test]
    fn controller_without_any_election_setting_gets_a_note() {
        let found = run(
            &[&LeaderElection],
            &policy(),
            vec![dep(
                "ops",
                2,
                json!({"name": "manager", "image": "example/foo-operator:1", "args": ["--metrics-bind-address=:8080"]}),
            )],
        );
        assert_eq!((found.len(), found[0].severity), (1, Severity::Info));
    }

    #[test]
    fn no_false_positives() {
        let quiet = vec![
            // one copy
            dep(
                "a",
                1,
                json!({"name": "a", "image": "x/a-controller:1", "args": ["--leader-elect=false"]}),
            ),
            // a web app with two copies
            dep("web", 2, json!({"name": "web", "image": "x/web:1"})),
            // election configured another way
            dep(
                "b",
                2,
                json!({"name": "b-controller", "image": "x/b:1", "args": ["--leader-election-namespace=kube-system"]}),
            ),
            dep(
                "c",
                2,
                json!({"name": "c-controller", "image": "x/c:1", "env": [{"name": "ENABLE_LEADER_ELECTION", "value": "true"}]}),
            ),
            // ingress controllers run many active copies
            dep(
                "ing",
                2,
                json!({"name": "controller", "image": "registry.k8s.io/ingress-nginx/controller:v1.12.0"}),
            ),
            // recognised as leader-elected by the classifier
            dep(
                "d",
                2,
                json!({"name": "d-controller", "image": "x/d:1", "args": ["--leader-elect"]}),
            ),
        ];
        assert_eq!(run(&[&LeaderElection], &policy(), quiet), vec![]);
    }

    #[test]
    fn flags_and_names() {
        let flags = vec!["--leader-elect".to_string()];
        assert_eq!(
            disabled(&["--leader-elect=False"], &flags),
            Some("--leader-elect=False".into())
        );
        assert_eq!(disabled(&["--leader-elect=true"], &flags), None);
        assert_eq!(disabled(&["--leader-elect"], &flags), None);
        assert!(controller_like(
            "x",
            "quay.io/jetstack/cert-manager-controller:v1.15.0"
        ));
        assert!(controller_like("kube-controller-manager", "x:1"));
        assert!(!controller_like("api", "makeplane/backend:1"));
    }
}
