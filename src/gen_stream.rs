//! Deterministic generator of a large, varied manifest stream for benchmarks, the memory tests
//! and the pipeline's own tests: Deployments, StatefulSets, DaemonSets, Jobs, ConfigMaps with
//! `|` blocks, Secrets and Services, shaped like `helm template` output (`---`, `# Source:`
//! comments). The `gen-stream` example (a dev tool, not installed) writes it:
//!
//! ```sh
//! cargo run --release --example gen-stream -- --mb 20 --seed 1 --out /tmp/stream-20.yaml
//! ```
//!
//! The same size and seed always give the same bytes.

use std::fmt::Write as _;

/// splitmix64: tiny, deterministic, good enough for shaping test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const WORDS: &[&str] = &[
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar",
];
const IMAGES: &[&str] = &[
    "nginx:1.27",
    "example/api:2.4.1",
    "example/worker:2.4.1",
    "ghcr.io/acme/web:v3",
    "busybox:1.36",
    "example/live:1.0",
];
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn header(out: &mut String, file: &str) {
    let _ = write!(out, "---\n# Source: bench/templates/{file}\n");
}

fn labels(out: &mut String, rng: &mut Rng, name: &str, indent: usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}app.kubernetes.io/name: bench");
    let _ = writeln!(out, "{pad}app.kubernetes.io/instance: bench");
    let _ = writeln!(out, "{pad}app.kubernetes.io/component: {name}");
    if rng.chance(50) {
        let _ = writeln!(
            out,
            "{pad}tier: \"{}\"",
            rng.pick(&["frontend", "backend", "on", "yes"])
        );
    }
}

fn containers(out: &mut String, rng: &mut Rng, name: &str, indent: usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}containers:");
    for c in 0..1 + rng.below(2) {
        let _ = writeln!(out, "{pad}- name: {name}-{c}");
        let _ = writeln!(out, "{pad}  image: {}", rng.pick(IMAGES));
        if rng.chance(40) {
            let _ = writeln!(
                out,
                "{pad}  args: [\"--port\", \"8080\", \"--log-level\", \"info\"]"
            );
        }
        let _ = writeln!(out, "{pad}  env:");
        for e in 0..2 + rng.below(8) {
            let _ = writeln!(
                out,
                "{pad}  - name: VAR_{}_{e}",
                rng.pick(WORDS).to_uppercase()
            );
            let _ = writeln!(
                out,
                "{pad}    value: \"{}\"",
                rng.pick(&["on", "0755", "1e3", "plain value", "12:30", "yes", "~"])
            );
        }
        let _ = writeln!(
            out,
            "{pad}  ports:\n{pad}  - containerPort: {}\n{pad}    protocol: TCP",
            8000 + rng.below(1000)
        );
        let _ = writeln!(
            out,
            "{pad}  resources:\n{pad}    requests:\n{pad}      cpu: {}m\n{pad}      memory: {}Mi",
            50 + rng.below(950),
            64 + rng.below(960)
        );
        let _ = writeln!(out, "{pad}  readinessProbe:\n{pad}    httpGet:\n{pad}      path: /healthz\n{pad}      port: 8080\n{pad}    periodSeconds: 10");
    }
    if rng.chance(30) {
        let _ = writeln!(out, "{pad}volumes:\n{pad}- name: config\n{pad}  configMap:\n{pad}    name: {name}-config\n{pad}    defaultMode: 0644");
    }
}

fn workload(out: &mut String, rng: &mut Rng, kind: &str, name: &str) {
    let file = format!("{}.{}.yaml", name, kind.to_lowercase());
    header(out, &file);
    let api = if kind == "Job" { "batch/v1" } else { "apps/v1" };
    let _ = write!(out, "apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: bench\n  labels:\n");
    labels(out, rng, name, 4);
    out.push_str("spec:\n");
    if matches!(kind, "Deployment" | "StatefulSet") {
        let _ = writeln!(out, "  replicas: {}", 1 + rng.below(3));
    }
    if kind == "StatefulSet" {
        let _ = writeln!(out, "  serviceName: {name}");
    }
    if kind != "Job" {
        let _ = write!(out, "  selector:\n    matchLabels:\n      app.kubernetes.io/instance: bench\n      app.kubernetes.io/component: {name}\n");
    }
    out.push_str("  template:\n    metadata:\n      labels:\n");
    labels(out, rng, name, 8);
    out.push_str("    spec:\n");
    if kind == "Job" {
        out.push_str("      restartPolicy: Never\n");
    }
    if rng.chance(25) {
        let _ = write!(out, "      affinity:\n        nodeAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n          - weight: 50\n            preference:\n              matchExpressions:\n              - key: node.kubernetes.io/instance-type\n                operator: In\n                values: [m5.large, m6i.large]\n");
    }
    containers(out, rng, name, 6);
    if kind == "StatefulSet" {
        let _ = write!(out, "  volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n        requests:\n          storage: {}Gi\n", 1 + rng.below(50));
    }
}

fn config_map(out: &mut String, rng: &mut Rng, name: &str) {
    header(out, &format!("{name}.configmap.yaml"));
    let _ = write!(out, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\n  namespace: bench\ndata:\n  mode: \"0755\"\n  enabled: \"yes\"\n  app.conf: |\n");
    for i in 0..40 + rng.below(51) {
        let _ = writeln!(
            out,
            "    {}.{} = {} # line {i}",
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.below(100_000)
        );
    }
    out.push_str("  script.sh: |-\n    #!/bin/sh\n    set -eu\n    ---\n    echo \"not a document marker: indented\"\n");
}

fn secret(out: &mut String, rng: &mut Rng, name: &str) {
    header(out, &format!("{name}.secret.yaml"));
    let _ = write!(out, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}-secret\n  namespace: bench\ntype: Opaque\ndata:\n");
    for k in 0..1 + rng.below(4) {
        let len = 4 * (4 + rng.below(40)) as usize;
        let value: String = (0..len)
            .map(|_| B64[rng.below(64) as usize] as char)
            .collect();
        let _ = writeln!(out, "  key-{k}: {value}");
    }
}

fn service(out: &mut String, rng: &mut Rng, name: &str) {
    header(out, &format!("{name}.service.yaml"));
    let _ = write!(
        out,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: bench\nspec:\n  type: {}\n  selector:\n    app.kubernetes.io/instance: bench\n    app.kubernetes.io/component: {name}\n  ports:\n  - name: http\n    port: 80\n    targetPort: {}\n",
        rng.pick(&["ClusterIP", "ClusterIP", "NodePort"]),
        8000 + rng.below(1000)
    );
}

/// About `bytes` of stream (it stops after the first document that reaches the size).
pub fn generate(bytes: usize, seed: u64) -> String {
    let mut rng = Rng(seed);
    let mut out = String::with_capacity(bytes + 8192);
    let mut i = 0usize;
    while out.len() < bytes {
        let name = format!("{}-{i}", rng.pick(WORDS));
        match rng.below(20) {
            0..=5 => workload(&mut out, &mut rng, "Deployment", &name),
            6..=7 => workload(&mut out, &mut rng, "StatefulSet", &name),
            8 => workload(&mut out, &mut rng, "DaemonSet", &name),
            9 => workload(&mut out, &mut rng, "Job", &name),
            10..=13 => config_map(&mut out, &mut rng, &name),
            14..=16 => secret(&mut out, &mut rng, &name),
            _ => service(&mut out, &mut rng, &name),
        }
        i += 1;
    }
    out
}
