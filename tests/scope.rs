//! No rule touches a Helm hook (helm test pods included) or an object the policy excludes: a
//! stream of such objects of every kind a rule acts on, under every policy switch a rule acts
//! on, comes out byte for byte (what helm-ha adds follows it).

mod common;

use pretty_assertions::assert_eq;

#[test]
fn hooks_and_excluded_objects_of_every_kind_come_out_untouched_under_every_switch() {
    let dir = common::data().join("scope");
    let input = std::fs::read_to_string(dir.join("hooks.yaml")).unwrap();
    let policy = dir.join("every-switch.yaml");
    let policy = policy.to_str().unwrap();
    for profile in ["generic", "plane-enterprise"] {
        let run = common::helm_ha(
            &["--profile", profile, "--policy", policy],
            input.as_bytes(),
        );
        assert_eq!(run.code, 0, "{profile}: {}", run.stderr);
        let kept = run.stdout.get(..input.len()).unwrap_or(&run.stdout);
        assert_eq!(
            kept, input,
            "{profile}: a hook or excluded object was changed"
        );
        // The switches are on: helm-ha still adds what the policy asks of the cluster.
        assert!(
            run.stdout[input.len()..].contains("kind: NodePool"),
            "{profile}: the switches did not act"
        );
    }
}
