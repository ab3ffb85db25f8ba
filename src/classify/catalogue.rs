//! Well-known apps whose images say what a second copy does, and the settings that decide it.
//! Each entry names the rendered fact it rests on; an app the catalogue does not know is left
//! to the general evidence.

use super::facts::Facts;
use super::pod::{image_name, image_path, Pod};
use crate::policy::Tier;

/// What the catalogue knows about a workload's app: a stateless verdict means copies are safe.
pub struct Known {
    pub tier: Tier,
    pub why: String,
}

/// Web servers and proxies: a second copy behind the same Service serves the same content.
const WEB_SERVERS: &[&str] = &[
    "nginx",
    "nginx-unprivileged",
    "openresty",
    "httpd",
    "caddy",
    "envoy",
    "haproxy",
    "traefik",
    "oauth2-proxy",
    "ingress-nginx/controller",
    "metrics-server",
    "harbor-portal",
];

/// Servers whose state is all outside the pod, which their projects run replicated behind a
/// Service, and why.
const APP_SERVERS: &[(&str, &str)] = &[
    ("harbor-core", "keeps its state in its database and cache and shares its keys through the stream's Secrets (Harbor docs, \"Deploying Harbor with High Availability via Helm\")"),
    ("cert-manager-webhook", "serves admission requests with a CA it reads from a shared Secret (cert-manager docs, \"Best Practice: High Availability\")"),
];

/// `-target=` values of the Grafana Mimir, Loki, Tempo and Cortex binaries whose instances are
/// stateless and interchangeable (their docs run each with two or more replicas).
const STATELESS_TARGETS: &[&str] = &[
    "distributor",
    "querier",
    "query-frontend",
    "query-scheduler",
    "gateway",
];
const RING_IMAGES: &[&str] = &["mimir", "grafana-mimir", "loki", "tempo", "cortex"];

/// What the catalogue says about `pod`, or None when it knows none of its images.
pub fn lookup(pod: &Pod<'_, '_>, facts: &Facts, service: Option<&str>) -> Option<Known> {
    let images: Vec<&str> = pod.images().collect();
    let words: Vec<&str> = pod.words().collect();
    let named = |names: &[&str]| {
        images
            .iter()
            .find(|i| names.contains(&image_name(i)) || names.contains(&image_path(i).as_str()))
            .copied()
    };
    let known = |tier, why: String| Some(Known { tier, why });
    let stateless = |why: String| known(Tier::Stateless, why);
    let singleton = |why: String| known(Tier::Singleton, why);
    if let Some(image) = named(&["grafana"]) {
        return grafana(pod, facts, image, service);
    }
    if let Some(image) = named(&["kube-state-metrics"]) {
        let name = image_name(image);
        // kube-state-metrics README, "Horizontal sharding" and "Automated sharding".
        if let Some(w) = words.iter().find(|w| w.starts_with("--pod=")) {
            return stateless(format!("`{name}` shards itself by its StatefulSet ordinal (`{w}`): copies split the series"));
        }
        if let Some(w) = words
            .iter()
            .find(|w| w.starts_with("--total-shards") || w.starts_with("--shard"))
        {
            return known(Tier::Skip, format!("`{name}` sharded by hand (`{w}`): the shard count is tied to the replica count; keep both together"));
        }
        return singleton(format!("`{name}` without sharding flags: every copy exports every series, so a second copy doubles them all"));
    }
    if let Some(image) = named(&["prometheus-operator"]) {
        return singleton(format!("`{}` elects no leader: two copies reconcile the same Prometheus objects (prometheus-operator/prometheus-operator#2491)", image_name(image)));
    }
    if let Some(image) = named(&["dex"]) {
        return dex(pod, facts, image);
    }
    if let Some(image) = named(&["argocd"]) {
        for (command, tier) in [
            ("argocd-server", Tier::Stateless),
            ("argocd-repo-server", Tier::Stateless),
        ] {
            if words.iter().any(|w| w.ends_with(command)) {
                let service = service?;
                return known(tier, format!("`{}` runs `{command}`, a stateless Argo CD server behind Service {service}", image_name(image)));
            }
        }
        return None;
    }
    if let Some(image) = named(RING_IMAGES) {
        let target = words
            .iter()
            .find_map(|w| w.trim_start_matches('-').strip_prefix("target="))?;
        if target == "overrides-exporter" {
            return singleton(format!("`{}` with `-target=overrides-exporter`: every copy exports every tenant's limits, so a second copy doubles those series", image_name(image)));
        }
        if STATELESS_TARGETS.contains(&target) {
            let service = service?;
            return stateless(format!(
                "`{}` with `-target={target}`: a stateless component behind Service {service}",
                image_name(image)
            ));
        }
        return None;
    }
    let servers: Vec<&str> = APP_SERVERS.iter().map(|(name, _)| *name).collect();
    if let Some(image) = named(&servers) {
        let service = service?;
        let name = image_name(image);
        let why = APP_SERVERS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, why)| why);
        return stateless(format!("`{name}` {why}; behind Service {service}"));
    }
    if let Some(image) = named(WEB_SERVERS) {
        let service = service?;
        return stateless(format!(
            "`{}` is a web server or proxy behind Service {service}",
            image_name(image)
        ));
    }
    None
}

/// Grafana keeps users, sessions and dashboards in its database: SQLite in the pod unless the
/// configuration names MySQL or PostgreSQL (Grafana docs, "Set up Grafana for high availability").
fn grafana(pod: &Pod<'_, '_>, facts: &Facts, image: &str, service: Option<&str>) -> Option<Known> {
    let from_env = pod
        .env(facts)
        .into_iter()
        .find(|e| e.name == "GF_DATABASE_TYPE")
        .and_then(|e| Some((e.value?, e.shown)));
    let from_ini = || {
        config_files(pod, facts)
            .into_iter()
            .filter(|(file, _, _)| file.ends_with(".ini"))
            .find_map(|(file, text, from)| {
                let t = ini_value(&text, "database", "type")?;
                let shown = format!("`[database] type = {t}` in {from} ({file})");
                Some((t, shown))
            })
    };
    let (db, shown) = from_env.or_else(from_ini).unwrap_or_else(|| {
        (
            "sqlite3".to_string(),
            "no `[database] type` in its configuration (SQLite by default)".to_string(),
        )
    });
    let name = image_name(image);
    if matches!(db.as_str(), "mysql" | "postgres" | "postgresql") {
        let service = service?;
        return Some(Known {
            tier: Tier::Stateless,
            why: format!(
                "`{name}` with a shared {db} database ({shown}), behind Service {service}"
            ),
        });
    }
    Some(Known {
        tier: Tier::Singleton,
        why: format!("`{name}` on SQLite in the pod ({shown}): a second copy would have its own users, sessions and dashboards; point `[database]` at MySQL or PostgreSQL to scale it"),
    })
}

/// Dex keeps sessions and keys in its storage; `memory` and `sqlite3` live in the pod (Dex
/// docs, "Storage options").
fn dex(pod: &Pod<'_, '_>, facts: &Facts, image: &str) -> Option<Known> {
    let name = image_name(image);
    if pod.words().any(|w| w == "rundex") {
        return Some(Known {
            tier: Tier::Singleton,
            why: format!("`{name}` run by Argo CD (`rundex`) keeps its data in memory: two copies would have inconsistent data (Argo CD docs, \"High Availability\")"),
        });
    }
    let (storage, from) = config_files(pod, facts)
        .into_iter()
        .find_map(|(_, text, from)| {
            let doc = crate::yaml::parse(&text).ok()?;
            let storage = doc.value.as_object()?.get("storage");
            let kind = storage.and_then(|s| s.get("type")).and_then(|t| t.as_str());
            Some((kind.map(str::to_string), from))
        })?;
    Some(match storage.as_deref() {
        None => Known {
            tier: Tier::Unverified,
            why: format!("`{name}` with no `storage` in its configuration ({from}): nothing shows a second copy would share its sessions and keys"),
        },
        Some(kind @ ("memory" | "sqlite3")) => Known {
            tier: Tier::Singleton,
            why: format!("`{name}` with `storage.type: {kind}` ({from}): its sessions and signing keys live in the pod, so a second copy would reject the first one's tokens"),
        },
        Some(kind) => Known {
            tier: Tier::Stateless,
            why: format!("`{name}` with shared `storage.type: {kind}` ({from})"),
        },
    })
}

/// Files mounted into the pod from ConfigMaps and Secrets of the stream: (file name, text,
/// `ConfigMap x` / `Secret x`).
fn config_files(pod: &Pod<'_, '_>, facts: &Facts) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let volumes = pod
        .spec
        .get("volumes")
        .and_then(crate::yaml::Json::as_array);
    for v in volumes.into_iter().flatten() {
        let sources = [
            (v.get("configMap"), "name", false),
            (v.get("secret"), "secretName", true),
        ];
        for (source, key, secret) in sources {
            let Some(name) = source
                .and_then(|s| s.get(key))
                .and_then(crate::yaml::Json::as_str)
            else {
                continue;
            };
            let what = if secret { "Secret" } else { "ConfigMap" };
            for (file, text) in facts
                .files(&pod.namespace, name, secret)
                .into_iter()
                .flatten()
            {
                out.push((file.clone(), text.clone(), format!("{what} {name}")));
            }
        }
    }
    out
}

/// `key` in `[section]` of an INI text.
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = "";
    for line in text.lines().map(str::trim) {
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = s.trim();
        } else if current == section {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == key {
                    return Some(v.trim().trim_matches('"').to_string());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_values_by_section() {
        let ini = "[server]\ntype = x\n[database]\n type = postgres \n";
        assert_eq!(
            ini_value(ini, "database", "type").as_deref(),
            Some("postgres")
        );
        assert_eq!(ini_value(ini, "paths", "type"), None);
    }
}
