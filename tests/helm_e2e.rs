//! End-to-end tests against the REAL clients: Helm v3.18.0 (`HELM3`), Helm v4.1.4 (`HELM4`) and
//! kubectl v1.35.2 (`KUBECTL`), each run in a sandbox of its own (tests/common/helm.rs).
//!
//! What both Helms must do alike is one body run once per Helm (`BODY::helm3`, `BODY::helm4`),
//! with helm-ha as each Helm's users install it: Helm 3 runs the binary as the post-renderer,
//! Helm 4 runs the plugin.

mod common;

use common::helm::{
    chart, fails_showing, hardened, helm3, helm4, kubectl, ok, plane_chart, Sandbox,
};
use common::{root, step_script, BIN};
use std::path::{Path, PathBuf};

/// The test charts, and the example chart with the profile written for it.
const CHARTS: &[&str] = &["tchart", "existing", "dupname", "edge", "empty"];

#[derive(Clone, Copy)]
enum Helm {
    /// Helm 3: the binary is the post-renderer, by path.
    V3,
    /// Helm 4: the plugin, installed from a dev-mode directory copy.
    V4,
}

impl Helm {
    fn name(self) -> &'static str {
        match self {
            Helm::V3 => "helm3",
            Helm::V4 => "helm4",
        }
    }

    /// What `--post-renderer` names to run helm-ha.
    fn post_renderer(self) -> &'static str {
        match self {
            Helm::V3 => BIN,
            Helm::V4 => "helm-ha",
        }
    }

    /// This Helm's binary and a sandbox in which `post_renderer()` runs helm-ha.
    fn sandbox(self, name: &str) -> Option<(Sandbox, PathBuf)> {
        let helm = match self {
            Helm::V3 => helm3(),
            Helm::V4 => helm4(),
        }?;
        let sb = Sandbox::new(&format!("{}-{name}", self.name()));
        if let Helm::V4 = self {
            install_dev_plugin(&sb, &helm);
        }
        Some((sb, helm))
    }

    /// The commands that render without a cluster: Helm 3's `install --dry-run=client` still
    /// asks the cluster for its version, Helm 4's does not.
    fn offline_renders(self) -> &'static [&'static str] {
        match self {
            Helm::V3 => &["template"],
            Helm::V4 => &["template", "install"],
        }
    }

    /// A do-nothing post-renderer to compare with (Helm 3 runs any program on PATH, Helm 4 only
    /// a plugin): what `--post-renderer` names to run it.
    fn passthru(self, sb: &Sandbox, helm: &Path) -> &'static str {
        match self {
            Helm::V3 => "cat",
            Helm::V4 => {
                let dir = sb.path("src/passthru");
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(
                    dir.join("plugin.yaml"),
                    "apiVersion: v1\ntype: postrenderer/v1\nname: passthru\nversion: 0.1.0\nruntime: subprocess\nruntimeConfig:\n  platformCommand:\n    - command: cat\n",
                )
                .unwrap();
                ok(
                    &sb.helm(helm, &["plugin", "install", dir.to_str().unwrap()]),
                    "helm4 plugin install passthru",
                );
                "passthru"
            }
        }
    }
}

/// `for_each_helm!(body, …)`: tests `body::helm3` and `body::helm4` run `body` with that Helm.
macro_rules! for_each_helm {
    ($($body:ident),* $(,)?) => {$(
        mod $body {
            #[test]
            fn helm3() {
                super::$body(super::Helm::V3)
            }
            #[test]
            fn helm4() {
                super::$body(super::Helm::V4)
            }
        }
    )*};
}

for_each_helm!(
    post_renderer_on_every_chart_leaves_hooks_alone,
    hardens_the_example_chart_and_output_passes_the_validator,
    show_only_works_because_source_comments_survive,
    failure_aborts_and_shows_helm_has_message,
    empty_chart_does_not_fail,
);

fn kinds(stream: &str) -> usize {
    stream.lines().filter(|l| l.starts_with("kind:")).count()
}

/// The documents of a `helm template` output, keyed by their `# Source:`.
fn docs(stream: &str) -> Vec<String> {
    stream
        .split("\n---\n")
        .map(|d| d.trim_start_matches("---\n").trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// The hooks of a stream, by meaning (Helm 4 re-serialises every document when a
/// post-renderer runs: block sequences become compact), with their `# Source:`.
fn hooks(stream: &str) -> Vec<(Option<String>, serde_json::Value)> {
    let mut h: Vec<_> = docs(stream)
        .into_iter()
        .filter(|d| d.contains("helm.sh/hook:"))
        .map(|d| {
            let value = helm_ha::yaml::parse(&d)
                .unwrap_or_else(|e| panic!("hook does not parse: {e:?}\n{d}"))
                .value
                .to_serde();
            (
                helm_ha::stream::source_comment(&d).map(str::to_string),
                value,
            )
        })
        .collect();
    h.sort_by_key(|(s, v)| (s.clone(), v.to_string()));
    h
}

/// The files below `dir`, as sorted paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    files.sort();
    files
}

/// Install the plugin from a dev-mode directory copy (with the real binary in bin/).
fn install_dev_plugin(sb: &Sandbox, helm: &Path) {
    let src = sb.plugin_copy();
    let run = sb.helm(helm, &["plugin", "install", src.to_str().unwrap()]);
    ok(&run, "helm4 plugin install <dir>");
    assert!(
        run.stdout.contains("Installed plugin: helm-ha"),
        "{}",
        run.stdout
    );
    let list = sb.helm(helm, &["plugin", "list"]);
    ok(&list, "helm4 plugin list");
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with("helm-ha") && l.contains("postrenderer/v1")),
        "{}",
        list.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Both Helms.
// ---------------------------------------------------------------------------------------------

fn post_renderer_on_every_chart_leaves_hooks_alone(v: Helm) {
    let Some((sb, helm)) = v.sandbox("all") else {
        return;
    };
    let passthru = v.passthru(&sb, &helm);
    let mut cases: Vec<(String, PathBuf, &str)> = CHARTS
        .iter()
        .map(|c| (c.to_string(), chart(c), "generic"))
        .collect();
    cases.push(("plane-enterprise".into(), plane_chart(), "plane-enterprise"));
    for (name, dir, profile) in cases {
        let template = |post_renderer: &[&str]| {
            let mut args = vec!["-n", "ns"];
            args.extend(post_renderer);
            sb.template(&helm, &dir, &args)
        };
        let plain = template(&[]);
        ok(&plain, &format!("{} template {name}", v.name()));
        let profile_arg = format!("--post-renderer-args=--profile={profile}");
        let run = template(&["--post-renderer", v.post_renderer(), &profile_arg]);
        ok(
            &run,
            &format!("{} template {name} --post-renderer helm-ha", v.name()),
        );
        assert!(
            kinds(&run.stdout) >= kinds(&plain.stdout),
            "{name}: objects lost:\n{}",
            run.stdout
        );
        // Helm 3 never sends hooks to a post-renderer (it appends them untouched); Helm 4 sends
        // hooks and test pods to it, and helm-ha must leave them alone.
        assert_eq!(
            hooks(&run.stdout),
            hooks(&plain.stdout),
            "{name}: hooks changed"
        );
        // Byte for byte, too, compared with a do-nothing post-renderer (Helm 4 re-serialises
        // every document a post-renderer returns, so plain `helm template` differs in layout).
        if !hooks(&plain.stdout).is_empty() {
            let cat = template(&["--post-renderer", passthru]);
            ok(
                &cat,
                &format!("{} template {name} --post-renderer {passthru}", v.name()),
            );
            let raw_hooks = |out: &str| -> Vec<String> {
                let mut h: Vec<String> = docs(out)
                    .into_iter()
                    .filter(|d| d.contains("helm.sh/hook:"))
                    .collect();
                h.sort();
                h
            };
            assert_eq!(
                raw_hooks(&run.stdout),
                raw_hooks(&cat.stdout),
                "{name}: hooks not byte-identical to a pass-through"
            );
        }
        for doc in docs(&run.stdout)
            .iter()
            .filter(|d| d.contains("\nkind:") || d.starts_with("kind:"))
        {
            assert!(
                doc.starts_with("# Source: "),
                "{name}: a document lost its # Source: comment:\n{doc}"
            );
        }
        assert!(
            !run.stdout.contains(helm_ha::HELM4_FILENAME_ANNOTATION),
            "{name}: Helm strips the filename annotation"
        );
        if name == "tchart" {
            assert!(
                run.stdout.contains("topologySpreadConstraints"),
                "tchart was not hardened:\n{}",
                run.stdout
            );
        }
        if name == "dupname" {
            // A hook and a regular ServiceAccount with the same name: both survive.
            let sas = docs(&run.stdout)
                .into_iter()
                .filter(|d| d.contains("kind: ServiceAccount"))
                .count();
            assert_eq!(sas, 2, "dupname: {}", run.stdout);
        }
    }
}

fn hardens_the_example_chart_and_output_passes_the_validator(v: Helm) {
    let Some((sb, helm)) = v.sandbox("plane") else {
        return;
    };
    let chart = plane_chart();
    let run = sb.helm(
        &helm,
        &[
            "template",
            "plane",
            chart.to_str().unwrap(),
            "-n",
            "plane",
            "--post-renderer",
            v.post_renderer(),
            "--post-renderer-args=--profile=plane-enterprise",
        ],
    );
    ok(&run, &format!("{} template plane", v.name()));
    assert!(
        run.stdout.contains("podAntiAffinity"),
        "the Tier-1 services got no anti-affinity"
    );
    let Some((valid, report)) = common::validate(&run.stdout) else {
        return;
    };
    assert!(valid, "validator:\n{report}");
}

fn show_only_works_because_source_comments_survive(v: Helm) {
    let Some((sb, helm)) = v.sandbox("show-only") else {
        return;
    };
    let dir = chart("tchart");
    let template = |show: &[&str]| {
        let mut args = vec!["-n", "ns", "--post-renderer", v.post_renderer()];
        args.extend(show);
        sb.template(&helm, &dir, &args)
    };
    let run = template(&["--show-only", "templates/deployment.yaml"]);
    ok(
        &run,
        &format!(
            "{} template --show-only templates/deployment.yaml",
            v.name()
        ),
    );
    assert!(
        run.stdout
            .contains("# Source: tchart/templates/deployment.yaml"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("kind: Deployment") && !run.stdout.contains("kind: Secret"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("topologySpreadConstraints"),
        "the shown template is the hardened one:\n{}",
        run.stdout
    );
    // A multi-document template keeps all its documents.
    let run = template(&["-s", "templates/multi.yaml"]);
    ok(
        &run,
        &format!("{} template -s templates/multi.yaml", v.name()),
    );
    assert!(
        run.stdout.contains("kind: ConfigMap") && run.stdout.contains("kind: Service"),
        "{}",
        run.stdout
    );
}

/// Helm 4 discards a post-renderer's stderr: helm-ha must get its message to the user anyway.
fn failure_aborts_and_shows_helm_has_message(v: Helm) {
    let Some((sb, helm)) = v.sandbox("fail") else {
        return;
    };
    let dir = chart("tchart");
    for &cmd in v.offline_renders() {
        let mut args = vec![
            cmd,
            "rel",
            dir.to_str().unwrap(),
            "--post-renderer",
            v.post_renderer(),
            "--post-renderer-args=--profile=nope",
        ];
        if cmd == "install" {
            args.push("--dry-run=client");
        }
        let run = sb.helm(&helm, &args);
        let helm_cmd = format!("{} {cmd}", v.name());
        fails_showing(&run, &helm_cmd, "unknown profile `nope`");
        assert!(
            !run.stdout.contains("kind:"),
            "{helm_cmd}: nothing may be printed as output:\n{}",
            run.stdout
        );
    }
}

fn empty_chart_does_not_fail(v: Helm) {
    let Some((sb, helm)) = v.sandbox("empty") else {
        return;
    };
    // 0 bytes in: a pure pass-through would make Helm 4 fail with "produced empty output".
    let run = sb.template(
        &helm,
        &chart("empty"),
        &["--post-renderer", v.post_renderer()],
    );
    ok(&run, &format!("{} template empty", v.name()));
    assert_eq!(kinds(&run.stdout), 0);
}

// ---------------------------------------------------------------------------------------------
// Helm 3 only: the binary found on PATH, and `--output-dir`.
// ---------------------------------------------------------------------------------------------

#[test]
fn helm3_output_dir_sends_an_empty_stream_which_helm_ha_accepts() {
    // Helm 3 `template --output-dir` runs the post-renderer on EMPTY stdin and writes the files
    // un-post-rendered: helm-ha must not fail the command, and the README tells users to pipe
    // into `helm-ha --output-dir` instead.
    let Some(helm) = helm3() else { return };
    let sb = Sandbox::new("h3-outdir");
    let out = sb.path("out");
    let run = sb.template(
        &helm,
        &chart("tchart"),
        &[
            "-n",
            "ns",
            "--post-renderer",
            BIN,
            "--output-dir",
            out.to_str().unwrap(),
        ],
    );
    ok(&run, "helm3 template --output-dir --post-renderer helm-ha");
    let dep = std::fs::read_to_string(out.join("tchart/templates/deployment.yaml")).unwrap();
    assert!(
        !dep.contains("topologySpreadConstraints"),
        "Helm 3 writes these files without post-rendering them"
    );
}

#[test]
fn helm3_post_renderer_by_name_on_path() {
    let Some(helm) = helm3() else { return };
    let sb = Sandbox::new("h3-path");
    sb.link("helm-ha", Path::new(BIN));
    let run = sb.template(
        &helm,
        &chart("tchart"),
        &[
            "--post-renderer",
            "helm-ha",
            "--post-renderer-args=--namespace=ns",
        ],
    );
    hardened(&run, "helm3 --post-renderer helm-ha (PATH)");
}

// ---------------------------------------------------------------------------------------------
// Helm 4 only: `install` offline, clap's own output, and the plugin's packaging.
// ---------------------------------------------------------------------------------------------

#[test]
fn helm4_install_dry_run_client_works_offline() {
    let Some((sb, helm)) = Helm::V4.sandbox("install") else {
        return;
    };
    let run = sb.helm(
        &helm,
        &[
            "install",
            "rel",
            chart("tchart").to_str().unwrap(),
            "-n",
            "ns",
            "--dry-run=client",
            "--post-renderer",
            "helm-ha",
        ],
    );
    hardened(&run, "helm4 install --dry-run=client");
    assert!(
        run.stdout.contains("HOOKS:") && run.stdout.contains("helm.sh/hook: pre-install"),
        "{}",
        run.stdout
    );
}

/// Argument errors, `--help` and `--version` are clap's own output, which Helm 4 would discard
/// with the rest of stderr: each must reach the user, and abort the render.
#[test]
fn helm4_shows_argument_errors_help_and_version() {
    let Some((sb, helm)) = Helm::V4.sandbox("args") else {
        return;
    };
    let dir = chart("tchart");
    let cases: &[(&str, &[&str])] = &[
        (
            "--post-renderer-args=--profil=x",
            &[
                "unexpected argument '--profil'",
                "a similar argument exists: '--profile'",
            ],
        ),
        // The README's warning: a space instead of `=` makes one argument of both words.
        (
            "--post-renderer-args=--profile plane-enterprise",
            &["unexpected argument '--profile plane-enterprise'"],
        ),
        (
            "--post-renderer-args=--help",
            &["Usage: helm-ha [OPTIONS] [FILE]...", "  -q, --quiet"],
        ),
        ("--post-renderer-args=--version", &["helm-ha 0.1.0"]),
    ];
    for (arg, shown) in cases {
        let run = sb.template(&helm, &dir, &["--post-renderer", "helm-ha", arg]);
        for text in *shown {
            fails_showing(&run, arg, text);
        }
        assert!(!run.stdout.contains("kind: Deployment"), "{}", run.stdout);
    }
}

#[test]
fn helm4_packaged_plugin_installs_with_verify_false() {
    let Some(helm) = helm4() else { return };
    let sb = Sandbox::new("h4-tgz");
    let tgz = sb.package_plugin(&helm, &[BIN]);
    assert!(tgz.ends_with(".tgz") && Path::new(&tgz).is_file(), "{tgz}");
    // Unsigned: the default install refuses it.
    let refused = sb.helm(&helm, &["plugin", "install", &tgz]);
    assert_ne!(
        refused.code, 0,
        "an unsigned plugin must need --verify=false"
    );
    let run = sb.helm(&helm, &["plugin", "install", &tgz, "--verify=false"]);
    ok(&run, "helm4 plugin install helm-ha.tgz --verify=false");
    // The packaged plugin ships its own binary: nothing on PATH.
    let run = sb.template(
        &helm,
        &chart("tchart"),
        &["-n", "ns", "--post-renderer", "helm-ha"],
    );
    hardened(&run, "helm4 template with the packaged plugin");
}

#[test]
fn helm4_plugin_without_a_binary_says_so() {
    let Some(helm) = helm4() else { return };
    let sb = Sandbox::new("h4-nobin");
    let src = sb.plugin_copy();
    std::fs::remove_file(src.join("bin/helm-ha")).unwrap();
    ok(
        &sb.helm(&helm, &["plugin", "install", src.to_str().unwrap()]),
        "helm4 plugin install",
    );
    // No helm-ha on the sandbox's PATH either.
    let run = sb.template(&helm, &chart("tchart"), &["--post-renderer", "helm-ha"]);
    fails_showing(&run, "helm4 template", "the helm-ha binary was not found");
}

// ---------------------------------------------------------------------------------------------
// Pipes and GitOps.
// ---------------------------------------------------------------------------------------------

#[test]
fn pipe_helm_template_helm_ha_kubectl() {
    let (Some(helm), Some(kubectl)) = (helm3(), kubectl()) else {
        return;
    };
    let sb = Sandbox::new("pipe");
    let rendered = sb.helm(
        &helm,
        &[
            "template",
            "plane",
            plane_chart().to_str().unwrap(),
            "-n",
            "plane",
        ],
    );
    ok(&rendered, "helm3 template");
    let hardened = sb.run(
        Path::new(BIN),
        &["--profile=plane-enterprise"],
        None,
        &[],
        rendered.stdout.as_bytes(),
    );
    ok(&hardened, "helm-ha");
    // `kubectl apply --dry-run=client` still needs API discovery (a cluster): checked here, so
    // the day it works offline this test uses it. Until then the manifest validator (tests/validate) stands in.
    let apply = sb.run(
        &kubectl,
        &["apply", "--dry-run=client", "-f", "-"],
        None,
        &[],
        hardened.stdout.as_bytes(),
    );
    if apply.code == 0 {
        assert!(
            apply.stdout.contains("created (dry run)"),
            "{}",
            apply.stdout
        );
    } else {
        assert!(
            apply.stderr.contains("connection refused") || apply.stderr.contains("unreachable"),
            "kubectl failed for another reason:\n{}",
            apply.stderr
        );
        let Some((valid, report)) = common::validate(&hardened.stdout) else {
            return;
        };
        assert!(valid, "validator:\n{report}");
    }
}

#[test]
fn argocd_generate_script_with_helm3_and_the_real_binary() {
    let Some(helm) = helm3() else { return };
    let sb = Sandbox::new("argo");
    sb.link("helm", &helm);
    sb.link("helm-ha", Path::new(BIN));
    let script = root().join("examples/argocd/generate.sh");
    let env = [
        ("ARGOCD_APP_NAME", "plane"),
        ("ARGOCD_APP_NAMESPACE", "plane"),
        ("KUBE_VERSION", "1.35.0"),
        (
            "KUBE_API_VERSIONS",
            "v1,apps/v1,batch/v1,policy/v1,autoscaling/v2,networking.k8s.io/v1",
        ),
        ("ARGOCD_ENV_HELM_VALUES_FILES", "values.yaml"),
        ("ARGOCD_ENV_HELM_HA_ARGS", "--profile=plane-enterprise"),
    ];
    // Argo CD runs the generate command in the application's source directory.
    let generate = |env: &[(&str, &str)]| {
        sb.run(
            Path::new("bash"),
            &[script.to_str().unwrap()],
            Some(&plane_chart()),
            env,
            b"",
        )
    };
    let run = generate(&env);
    ok(&run, "examples/argocd/generate.sh");
    assert!(
        kinds(&run.stdout) > 20 && run.stdout.contains("podAntiAffinity"),
        "{}",
        run.stdout
    );
    if let Some((valid, report)) = common::validate(&run.stdout) {
        assert!(valid, "validator:\n{report}");
    }
    // A helm-ha failure fails the generate step (pipefail) and prints no manifests.
    let mut bad = env.to_vec();
    bad[5] = ("ARGOCD_ENV_HELM_HA_ARGS", "--profile=nope");
    let run = generate(&bad);
    // Argo CD shows stderr.
    fails_showing(&run, "generate.sh", "unknown profile `nope`");
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    // A helm failure too, although helm-ha would have succeeded on empty input.
    let mut bad = env.to_vec();
    bad[4] = ("ARGOCD_ENV_HELM_VALUES_FILES", "does-not-exist.yaml");
    let run = generate(&bad);
    assert_ne!(run.code, 0);
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
}

#[test]
fn argocd_plugin_yaml_runs_the_same_generate_body() {
    let script = std::fs::read_to_string(root().join("examples/argocd/generate.sh")).unwrap();
    let body = script
        .split("# ---- generate body ----\n")
        .nth(1)
        .expect("generate.sh marks its body");
    let plugin = std::fs::read_to_string(root().join("examples/argocd/plugin.yaml")).unwrap();
    let generate = plugin
        .split("  generate:\n")
        .nth(1)
        .expect("plugin.yaml has a generate block");
    let indented: String = body
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("        {l}\n")
            }
        })
        .collect();
    assert!(
        generate.contains(&indented),
        "examples/argocd/plugin.yaml's generate body differs from generate.sh"
    );
}

#[test]
fn flux_render_script_output_builds_with_kubectl_kustomize() {
    let (Some(helm), Some(kubectl)) = (helm3(), kubectl()) else {
        return;
    };
    let sb = Sandbox::new("flux");
    // The committed example builds as it is.
    let committed = sb.run(
        &kubectl,
        &["kustomize", root().join("examples/flux").to_str().unwrap()],
        None,
        &[],
        b"",
    );
    ok(&committed, "kubectl kustomize examples/flux");
    assert!(kinds(&committed.stdout) > 20);
    // A fresh render (into a copy of the directory) builds too.
    let copy = sb.path("flux");
    std::fs::create_dir_all(copy.join("rendered")).unwrap();
    std::fs::copy(
        root().join("examples/flux/kustomization.yaml"),
        copy.join("kustomization.yaml"),
    )
    .unwrap();
    let out = copy.join("rendered/plane.yaml");
    let render = |helm_ha: &str| {
        sb.run(
            Path::new("bash"),
            &[
                root().join("examples/flux/render.sh").to_str().unwrap(),
                out.to_str().unwrap(),
            ],
            None,
            &[("HELM", helm.to_str().unwrap()), ("HELM_HA", helm_ha)],
            b"",
        )
    };
    let run = render(BIN);
    ok(&run, "examples/flux/render.sh");
    let built = sb.run(
        &kubectl,
        &["kustomize", copy.to_str().unwrap()],
        None,
        &[],
        b"",
    );
    ok(&built, "kubectl kustomize (fresh render)");
    assert!(
        built.stdout.contains("podAntiAffinity") && built.stdout.contains("namespace: plane"),
        "{}",
        built.stdout
    );
    // A failing render leaves the previous file alone.
    let before = std::fs::read(&out).unwrap();
    let run = render("/nonexistent/helm-ha");
    assert_ne!(run.code, 0);
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

#[test]
fn output_dir_matches_helm_template_output_dir_layout() {
    let Some(helm) = helm3() else { return };
    let sb = Sandbox::new("outdir");
    let rendered = sb.template(&helm, &chart("tchart"), &["-n", "ns"]);
    ok(&rendered, "helm3 template");
    let helm_dir = sb.path("helm-out");
    ok(
        &sb.template(
            &helm,
            &chart("tchart"),
            &["-n", "ns", "--output-dir", helm_dir.to_str().unwrap()],
        ),
        "helm3 --output-dir",
    );
    let ours = sb.path("ours");
    let run = sb.run(
        Path::new(BIN),
        &["--output-dir", ours.to_str().unwrap()],
        None,
        &[],
        rendered.stdout.as_bytes(),
    );
    ok(&run, "helm-ha --output-dir");
    let theirs: Vec<String> = files_under(&helm_dir);
    let mine: Vec<String> = files_under(&ours)
        .into_iter()
        .filter(|f| f != helm_ha::output_dir::MANIFEST && !f.contains("/helm-ha/"))
        .collect();
    // helm writes CRDs under crds/ and hooks too; every template file helm writes, we write.
    let theirs_templates: Vec<String> = theirs
        .into_iter()
        .filter(|f| !f.contains("/crds/"))
        .collect();
    assert_eq!(
        mine, theirs_templates,
        "same files as helm template --output-dir"
    );
    // Each file is the hardened version of the template.
    let dep = std::fs::read_to_string(ours.join("tchart/templates/deployment.yaml")).unwrap();
    assert!(
        dep.starts_with("---\n# Source: tchart/templates/deployment.yaml\n")
            && dep.contains("topologySpreadConstraints"),
        "{dep}"
    );
}

#[test]
fn github_actions_render_and_check_steps_run() {
    let Some(helm) = helm3() else { return };
    let sb = Sandbox::new("gha");
    sb.link("helm", &helm);
    sb.link("helm-ha", Path::new(BIN));
    let workflow =
        std::fs::read_to_string(root().join("examples/github-actions/render.yml")).unwrap();
    let parsed = helm_ha::yaml::parse(&workflow)
        .expect("the workflow is YAML")
        .value
        .to_serde();
    let step = |name: &str| step_script(&parsed["jobs"]["render"]["steps"], name);
    // A copy of the example chart stands in for the repository's chart.
    let work = sb.path("repo");
    std::fs::create_dir_all(&work).unwrap();
    let copy = sb.run(
        Path::new("cp"),
        &[
            "-r",
            plane_chart().to_str().unwrap(),
            work.join("chart").to_str().unwrap(),
        ],
        None,
        &[],
        b"",
    );
    ok(&copy, "cp chart");
    let output = sb.path("github_output");
    std::fs::write(&output, "").unwrap();
    let env = [
        ("RELEASE", "plane"),
        ("NAMESPACE", "plane"),
        ("CHART", "chart"),
        ("VALUES", "chart/values.yaml"),
        ("PROFILE", "plane-enterprise"),
        ("OUT_DIR", "rendered/plane"),
        ("GITHUB_OUTPUT", output.to_str().unwrap()),
    ];
    let render = sb.bash(step("Render"), &work, &env);
    ok(&render, "workflow step Render");
    assert!(work
        .join("rendered/plane/plane-enterprise-example/templates/workloads/api.deployment.yaml")
        .is_file());
    let check = sb.bash(step("Check (SARIF)"), &work, &env);
    ok(&check, "workflow step Check (SARIF)");
    let rc = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        rc.trim(),
        "rc=1",
        "the rendered example still has findings helm-ha cannot fix (in-chart databases)"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("helm-ha.sarif")).unwrap())
            .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["ruleId"]
            .as_str()
            .is_some_and(|id| !id.starts_with("HA9"))),
        "--no-manual"
    );
    assert!(
        results.iter().all(|r| r["message"]["text"]
            .as_str()
            .is_some_and(|m| !m.contains("(fixable"))),
        "check on helm-ha's output finds nothing fixable"
    );
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("rendered/plane/"))
    ));
}

#[test]
fn generated_objects_have_a_template_path_under_both_helms() {
    let (Some(h3), Some(h4)) = (helm3(), helm4()) else {
        return;
    };
    let sb = Sandbox::new("generated");
    let chart = plane_chart();
    let chart = chart.to_str().unwrap();
    // Helm 3: generated documents carry `# Source: <chart>/templates/helm-ha/…`, so --show-only
    // finds them like any template.
    let run = sb.helm(
        &h3,
        &[
            "template",
            "plane",
            chart,
            "-n",
            "plane",
            "--post-renderer",
            BIN,
            "--post-renderer-args=--profile=plane-enterprise",
        ],
    );
    ok(&run, "helm3 template plane");
    let generated: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .filter(|s| s.contains("/templates/helm-ha/"))
        .map(str::to_string)
        .collect();
    if let Some(source) = generated.first() {
        let template = source.split_once('/').unwrap().1;
        let shown = sb.helm(
            &h3,
            &[
                "template",
                "plane",
                chart,
                "-n",
                "plane",
                "--post-renderer",
                BIN,
                "--post-renderer-args=--profile=plane-enterprise",
                "-s",
                template,
            ],
        );
        ok(&shown, &format!("helm3 --show-only {template}"));
        assert!(
            shown.stdout.contains(&format!("# Source: {source}")),
            "{}",
            shown.stdout
        );
    }
    // Helm 4: the filename annotation places them; nothing lands in generated-by-postrender-N.yaml.
    install_dev_plugin(&sb, &h4);
    let out = sb.path("h4-out");
    let run = sb.helm(
        &h4,
        &[
            "template",
            "plane",
            chart,
            "-n",
            "plane",
            "--post-renderer",
            "helm-ha",
            "--post-renderer-args=--profile=plane-enterprise",
            "--output-dir",
            out.to_str().unwrap(),
        ],
    );
    ok(&run, "helm4 template --output-dir");
    let files = files_under(&out);
    assert!(
        files.iter().all(|f| !f.contains("generated-by-postrender")),
        "{files:?}"
    );
    let chart_name = "plane-enterprise-example";
    for source in &generated {
        assert!(
            files.contains(source),
            "helm4 did not write {source} (got {files:?})"
        );
    }
    assert!(
        files
            .iter()
            .any(|f| f.starts_with(&format!("{chart_name}/templates/workloads/"))),
        "{files:?}"
    );
}

#[test]
fn a_helm4_plugin_in_helm3s_plugin_dir_breaks_helm3_and_separate_dirs_do_not() {
    let (Some(h3), Some(h4)) = (helm3(), helm4()) else {
        return;
    };
    let shared = Sandbox::new("shared-plugins");
    install_dev_plugin(&shared, &h4);
    // Helm 3 reading the same plugin directory cannot load any plugin.
    let broken = shared.helm(&h3, &["plugin", "list"]);
    fails_showing(&broken, "helm3 plugin list", "apiVersion");
    // Its own directory (as README recommends) is fine, with the post-renderer by path.
    let own = Sandbox::new("own-plugins");
    ok(
        &own.helm(&h3, &["plugin", "list"]),
        "helm3 plugin list with its own HELM_PLUGINS",
    );
    let run = own.template(&h3, &chart("tchart"), &["--post-renderer", BIN]);
    ok(&run, "helm3 template with its own plugin dir");
}
