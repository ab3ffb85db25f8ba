//! Loading a policy: built-in profile, user file merged over it, then contradictions refused.
//!
//! The user file is first read with serde-saphyr into the typed [`Policy`], so an unknown key or
//! a wrong type is reported with its line (and the closest valid key); the merge itself works
//! on the go-yaml meaning of both files.

use super::{IntOrPercent, Policy, Problem, Tier};
use crate::error::Failure;
use crate::yaml::{self, Json, Path};

const PROFILES: &[(&str, &str)] = &[
    ("generic", include_str!("../../profiles/generic.yaml")),
    (
        "plane-enterprise",
        include_str!("../../profiles/plane-enterprise.yaml"),
    ),
];

pub fn profile_names() -> Vec<&'static str> {
    PROFILES.iter().map(|(n, _)| *n).collect()
}

/// The effective policy: `profile` (or the file's `profile:`, or `generic`) with `file` over it.
pub fn load(profile: Option<&str>, file: Option<(&str, &str)>) -> Result<Policy, Failure> {
    let user = match file {
        Some((name, text)) => Some((name, text, typed(name, text)?)),
        None => None,
    };
    let wanted = profile
        .or(user.as_ref().and_then(|(_, _, p)| p.profile.as_deref()))
        .unwrap_or("generic");
    let (_, base) = PROFILES.iter().find(|(n, _)| *n == wanted).ok_or_else(|| {
        Failure::Usage(format!(
            "unknown profile `{wanted}`; built-in profiles: {}",
            profile_names().join(", ")
        ))
    })?;
    // Every built-in profile is layered over `generic`, so services a profile does not name
    // still get the generic rules.
    let mut merged = builtin(PROFILES[0].1);
    if wanted != PROFILES[0].0 {
        merge(&mut merged, builtin(base));
    }
    let mut located = None;
    if let Some((name, text, _)) = &user {
        let parsed = yaml::parse(text).map_err(|e| {
            Failure::policy(
                name,
                Some(e.line),
                "",
                format!("invalid YAML: {}", e.message),
                "fix the YAML syntax",
            )
        })?;
        if let Some(d) = parsed.duplicates.first() {
            return Err(Failure::policy(
                name,
                Some(d.line),
                &d.path,
                format!("duplicate key (also on line {})", d.first_line),
                "keep one",
            ));
        }
        merge(&mut merged, parsed.value.clone());
        located = Some((*name, parsed));
    }
    if let Some(obj) = merged.as_object_mut() {
        obj.insert("profile", Json::from(wanted));
    }
    let mut policy: Policy = yaml::from_json(&merged).map_err(|e| {
        Failure::policy(
            file.map_or(wanted, |f| f.0),
            None,
            "",
            e.to_string(),
            "fix the value's type",
        )
    })?;
    validate(&policy).map_err(|Problem { key, what, fix }| {
        let (name, line) = match &located {
            Some((name, parsed)) => (*name, parsed.line_of(&Path::dotted(&key))),
            None => (wanted, None),
        };
        Failure::policy(name, line, &key, what, fix)
    })?;
    if let Some((name, parsed)) = &located {
        let keys = parsed.value.get("services").and_then(Json::as_object);
        policy.user_services = keys
            .into_iter()
            .flatten()
            .map(|(k, _)| k.to_string())
            .collect();
        for key in &policy.user_services {
            if let Some((owner, _)) = policy.service(key).filter(|(owner, _)| owner != key) {
                return Err(Failure::policy(
                    name,
                    parsed.line_of(&Path::dotted("services").key(key.as_str())),
                    &format!("services.{key}"),
                    format!("`{key}` is another spelling of the profile's `services.{owner}`, which takes precedence: these settings would be ignored"),
                    format!("write them under `services.{owner}`"),
                ));
            }
        }
    }
    Ok(policy)
}

fn builtin(text: &'static str) -> Json<'static> {
    yaml::parse_value(text)
        .expect("built-in profiles are valid YAML")
        .value
}

/// Read the user file into the typed policy only to report unknown keys and wrong types early,
/// with lines.
fn typed(name: &str, text: &str) -> Result<Policy, Failure> {
    if text.trim().is_empty() {
        return Ok(Policy::default());
    }
    serde_saphyr::from_str::<Policy>(text).map_err(|e| {
        let line = e.location().map(|l| l.line() as usize);
        let first = e.to_string().lines().next().unwrap_or_default().to_string();
        let what = first
            .split_once(": ")
            .map(|(_, rest)| rest)
            .unwrap_or(&first);
        let what = what
            .split_once(": ")
            .filter(|(pre, _)| pre.starts_with("line "))
            .map_or(what, |(_, rest)| rest);
        let key = line.map(|l| key_path_at(text, l)).unwrap_or_default();
        let fix = match unknown_field(what) {
            Some((field, expected)) => match closest(&field, &expected) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("valid keys here: {}", expected.join(", ")),
            },
            None if what.starts_with("duplicate mapping key") => "keep one".to_string(),
            None => "see `helm-ha policy` for the format".to_string(),
        };
        // serde-saphyr's hint about its own options means nothing to a user.
        let what = what
            .split_once(", set DuplicateKeyPolicy")
            .map_or(what, |(w, _)| w);
        Failure::policy(name, line, &key, what.to_string(), fix)
    })
}

/// `unknown field `x`, expected one of a, b` → ("x", [a, b]).
fn unknown_field(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let list = rest.split_once("expected ").map(|(_, l)| l).unwrap_or("");
    let list = list.strip_prefix("one of ").unwrap_or(list);
    let expected = list
        .split(", ")
        .map(|s| s.trim_matches('`').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    Some((field.to_string(), expected))
}

fn closest(word: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

/// Dotted key path of the key on `line` (1-based), from indentation; good enough for messages.
fn key_path_at(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.get(line.saturating_sub(1)) else {
        return String::new();
    };
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let key_of = |l: &str| {
        l.trim_start()
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut path = vec![key_of(start)];
    let mut indent = indent_of(start);
    for l in lines[..line.saturating_sub(1)].iter().rev() {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if indent_of(l) < indent {
            indent = indent_of(l);
            path.push(key_of(l));
        }
    }
    path.reverse();
    path.retain(|k| !k.is_empty());
    path.join(".")
}

/// Mappings merge key by key; anything else replaces. A budget (`pdb`) is one choice between two
/// fields, so it replaces as a whole: merging `minAvailable` into `maxUnavailable` would ask for both.
fn merge<'a>(base: &mut Json<'a>, over: Json<'a>) {
    match (base, over) {
        (Json::Object(b), Json::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k.as_str()) {
                    Some(slot) if slot.is_object() && v.is_object() && k.as_str() != "pdb" => {
                        merge(slot, v)
                    }
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) if !v.is_null() => *slot = v,
        _ => {}
    }
}

/// Settings that cannot all be true at once.
fn validate(p: &Policy) -> Result<(), Problem> {
    let problem = |key: String, what: String, fix: &str| Err(Problem::new(key, what, fix));
    for (tier, scaled) in [
        ("stateless", &p.tiers.stateless),
        ("leaderElected", &p.tiers.leader_elected),
    ] {
        budget(&format!("tiers.{tier}.pdb"), &scaled.pdb, scaled.replicas)?;
        if scaled.replicas == 0 {
            return problem(
                format!("tiers.{tier}.replicas"),
                "a replica floor of 0".into(),
                "use 2 or more",
            );
        }
    }
    let pools: Vec<&String> = p.karpenter.iter().flat_map(|k| k.pools.keys()).collect();
    for (name, svc) in &p.services {
        let key = |k: &str| format!("services.{name}.{k}");
        let tier = svc.tier;
        let floor = svc
            .replicas
            .or_else(|| tier.and_then(|t| p.scaled(t)).map(|s| s.replicas))
            .unwrap_or(p.tiers.stateless.replicas);
        if let Some(hpa) = &svc.hpa {
            if matches!(tier, Some(Tier::Singleton | Tier::Stateful | Tier::Skip)) {
                return problem(key("hpa"), format!("an HPA on a {} service", tier.unwrap().as_str()), "remove the hpa: it would run several copies (a singleton's jobs would fire more than once)");
            }
            hpa.check(&key("hpa"))?;
            if floor > hpa.max_replicas {
                return problem(
                    key("hpa.maxReplicas"),
                    format!(
                        "the replica floor {floor} is above the HPA's maxReplicas {}",
                        hpa.max_replicas
                    ),
                    "raise maxReplicas or lower replicas",
                );
            }
        }
        if let Some(b) = &svc.pdb {
            if matches!(tier, Some(Tier::Singleton)) {
                return problem(
                    key("pdb"),
                    "a PDB on a singleton".into(),
                    "remove it: with one replica it blocks every node drain",
                );
            }
            budget(&key("pdb"), b, floor)?;
        }
        if let Some(pool) = &svc.pool {
            if !pools.contains(&pool) {
                return problem(
                    key("pool"),
                    format!("pool `{pool}` does not exist"),
                    &format!(
                        "define it under karpenter.pools (known: {})",
                        if pools.is_empty() {
                            "none".to_string()
                        } else {
                            pools
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                );
            }
        }
        if let Some(lb) = &svc.load_balancer {
            lb.check(&key("loadBalancer"))?;
        }
        if svc.allow_replicas.is_some() && tier != Some(Tier::Singleton) {
            return problem(
                key("allowReplicas"),
                "allowReplicas on a service that is not a singleton".into(),
                "set tier: singleton or remove it",
            );
        }
    }
    if let Some(sc) = &p.storage_class {
        sc.check()?;
    }
    if let Some(k) = &p.karpenter {
        k.check(p.cloud)?;
    }
    Ok(())
}

/// A budget must name exactly one field and leave at least one disruption at the floor.
fn budget(key: &str, b: &super::Budget, floor: u32) -> Result<(), Problem> {
    let fail = |what: String, fix: &str| Err(Problem::new(key, what, fix));
    for v in [&b.max_unavailable, &b.min_available].into_iter().flatten() {
        if let IntOrPercent::Percent(s) = v {
            if v.scaled(100).is_none_or(|n| n > 100) {
                return fail(
                    format!("`{s}` is not a percentage from 0% to 100%"),
                    "write e.g. \"50%\"",
                );
            }
        }
    }
    let allowed = match (&b.max_unavailable, &b.min_available) {
        (Some(_), Some(_)) => {
            return fail(
                "both maxUnavailable and minAvailable".into(),
                "keep one (the API rejects both)",
            )
        }
        (None, None) => {
            return fail(
                "neither maxUnavailable nor minAvailable".into(),
                "set one, e.g. maxUnavailable: 1",
            )
        }
        (Some(m), None) => m.scaled(floor).unwrap_or(0),
        (None, Some(m)) => floor.saturating_sub(m.scaled(floor).unwrap_or(floor)),
    };
    if allowed == 0 {
        return fail(format!("allows 0 disruptions at {floor} replicas (percentages round up; minAvailable equal to replicas blocks)"), "allow at least one: maxUnavailable: 1");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_message_is_parsed() {
        let (f, e) =
            unknown_field("unknown field `replcas`, expected one of replicas, spread").unwrap();
        assert_eq!(f, "replcas");
        assert_eq!(e, vec!["replicas", "spread"]);
        assert_eq!(closest(&f, &e).as_deref(), Some("replicas"));
    }

    #[test]
    fn key_path_follows_indentation() {
        let text = "tiers:\n  stateless:\n    # c\n    replicas: two\n";
        assert_eq!(key_path_at(text, 4), "tiers.stateless.replicas");
    }

    #[test]
    fn a_file_may_set_one_field_of_a_tier() {
        // Regression: the typed read of the file alone required every field of `tiers.stateless`.
        let p = load(
            None,
            Some(("p.yaml", "tiers:\n  stateless:\n    replicas: 3\n")),
        )
        .unwrap();
        assert_eq!(p.tiers.stateless.replicas, 3);
        assert_eq!(
            p.tiers.stateless.spread,
            load(None, None).unwrap().tiers.stateless.spread
        );
        let p = load(
            None,
            Some((
                "p.yaml",
                "tiers:\n  stateless:\n    spread: none\n  singleton: {}\n",
            )),
        )
        .unwrap();
        assert_eq!(
            (p.tiers.stateless.replicas, p.tiers.stateless.spread),
            (2, super::super::Spread::None)
        );
        assert!(p.tiers.singleton.do_not_disrupt);
    }

    fn with(over: &str) -> Result<Policy, Failure> {
        load(Some("plane-enterprise"), Some(("p.yaml", over)))
    }

    #[test]
    fn karpenter_needs_aws_a_cluster_and_valid_pools() {
        let err = |over: &str| with(over).unwrap_err().to_string();
        assert!(err("karpenter: {enabled: true, clusterName: c}\n").contains("cloud: aws"));
        assert!(err("cloud: aws\nkarpenter: {enabled: true}\n").contains("karpenter.clusterName"));
        assert!(err("cloud: aws\nkarpenter: {enabled: true, clusterName: c, pools: {plane-spot: {taint: nope}}}\n").contains("not a taint"));
        assert!(err("cloud: aws\nkarpenter: {enabled: true, clusterName: c, pools: {plane-spot: {expireAfter: 1d}}}\n").contains("not a duration"));
        assert!(err("services: {api: {pool: nowhere}}\n").contains("pool `nowhere` does not exist"));
        let ok = with("cloud: aws\nkarpenter: {enabled: true, clusterName: c}\n").unwrap();
        assert_eq!(ok.karpenter.unwrap().role(), "KarpenterNodeRole-c");
    }

    #[test]
    fn storage_class_and_load_balancer_values_are_checked() {
        let err = |over: &str| with(over).unwrap_err().to_string();
        assert!(err("storageClass: {preset: aws-ebs-gp4, name: gp3}\n").contains("unknown preset"));
        assert!(err("storageClass: {preset: aws-ebs-gp3, name: GP3}\n")
            .contains("not a valid object name"));
        assert!(
            err("services: {live: {loadBalancer: {idleTimeoutSeconds: 5000}}}\n")
                .contains("outside 60-4000")
        );
        assert!(
            err("services: {api: {hpa: {minReplicas: 3, maxReplicas: 6, cpu: 0}}}\n")
                .contains("utilisation of 0%")
        );
        assert!(
            err("services: {monitor: {hpa: {minReplicas: 1, maxReplicas: 2, cpu: 50}}}\n")
                .contains("an HPA on a singleton service")
        );
        assert!(
            with("storageClass: {preset: aws-ebs-gp3, name: gp3, assignToClaims: true}\n").is_ok()
        );
    }

    #[test]
    fn merge_replaces_lists_and_merges_maps() {
        let mut a = crate::json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        merge(&mut a, crate::json!({"a": {"c": [3]}, "e": 2}));
        assert_eq!(a, crate::json!({"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}));
    }
}

#[cfg(test)]
mod loading {
    use super::*;
    use crate::policy::{Spread, Tier};

    fn user(text: &str) -> Result<Policy, Failure> {
        load(None, Some(("p.yaml", text)))
    }

    #[test]
    fn an_entry_a_profile_alias_shadows_is_refused_with_the_key_to_use() {
        let err = user("profile: plane-enterprise\nservices:\n  email-app:\n    replicas: 4\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("p.yaml line 3, key `services.email-app`")
                && err.contains(
                    "`email-app` is another spelling of the profile's `services.email_service`"
                )
                && err.contains("write them under `services.email_service`"),
            "{err}"
        );
        let ok = user("profile: plane-enterprise\nservices:\n  email_service:\n    replicas: 4\n  extra: {tier: singleton}\n").unwrap();
        assert_eq!(ok.user_services, ["email_service", "extra"]);
    }

    #[test]
    fn a_partial_file_changes_only_what_it_names() {
        let p = user(
            "profile: plane-enterprise\ntiers:\n  stateless:\n    spread: soft-anti-affinity\n",
        )
        .unwrap();
        assert_eq!(p.tiers.stateless.spread, Spread::SoftAntiAffinity);
        assert_eq!(p.tiers.stateless.replicas, 2);
        assert_eq!(
            p.tiers.stateless.pdb.min_available,
            Some(IntOrPercent::Int(1))
        );
        assert_eq!(
            p.service("beat-worker").map(|(k, s)| (k, s.tier)),
            Some(("beatworker", Some(Tier::Singleton)))
        );
        assert!(
            !p.detect.stateful_images.is_empty(),
            "plane-enterprise is layered over generic"
        );
    }

    #[test]
    fn a_budget_replaces_instead_of_merging() {
        let p = user("tiers:\n  stateless:\n    pdb: {minAvailable: 1}\n").unwrap();
        assert_eq!(p.tiers.stateless.pdb.max_unavailable, None);
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        let e = user("tiers:\n  stateless:\n    replcas: 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.yaml line 3"), "{e}");
        assert!(e.contains("tiers.stateless.replcas"), "{e}");
        assert!(e.contains("did you mean `replicas`?"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_line_and_key() {
        let e = user("strict: maybe\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("`strict`"), "{e}");
    }

    #[test]
    fn contradictions_are_refused_with_their_line() {
        let cases = [
            ("services:\n  beat:\n    tier: singleton\n    hpa: {minReplicas: 1, maxReplicas: 2, cpu: 50}\n", "services.beat.hpa", "line 4"),
            ("services:\n  api:\n    replicas: 5\n    hpa: {minReplicas: 2, maxReplicas: 4, cpu: 50}\n", "services.api.hpa.maxReplicas", "line 4"),
            ("tiers:\n  stateless:\n    pdb: {minAvailable: 2}\n", "tiers.stateless.pdb", "line 3"),
            ("tiers:\n  stateless:\n    pdb: {maxUnavailable: \"0%\"}\n", "tiers.stateless.pdb", "line 3"),
            ("services:\n  web:\n    pool: spot\n", "services.web.pool", "line 3"),
            ("services:\n  m:\n    tier: singleton\n    pdb: {maxUnavailable: 1}\n", "services.m.pdb", "line 4"),
        ];
        for (text, key, line) in cases {
            let e = user(text).unwrap_err().to_string();
            assert!(
                e.contains(&format!("key `{key}`")) && e.contains(line),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn unknown_profiles_are_usage_errors() {
        assert!(matches!(load(Some("nope"), None), Err(Failure::Usage(_))));
    }
}
