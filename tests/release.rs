//! What the release ships, built and checked here as far as it can be without the CI that
//! publishes it: the Helm 4 plugin archive (one binary and one `platformCommand` per OS/arch)
//! installed into a real Helm 4 and rendering a chart; the Dockerfile, the release workflow,
//! the GitHub Action and the pre-commit hooks read as what they claim to be, and agreeing on
//! the binary's name and the release's file names.

mod common;

use common::helm::{chart, fails_showing, hardened, helm4, ok, Sandbox};
use common::{root, step_script, Run, BIN};
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> serde_json::Value {
    serde_saphyr::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

/// This machine as Helm names platforms (Go's GOOS/GOARCH).
fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}/{arch}")
}

/// The `plugin.yaml` inside a plugin archive.
fn plugin_manifest(sb: &Sandbox, tgz: &str) -> serde_json::Value {
    let run = sb.run(
        Path::new("tar"),
        &["-xzOf", tgz, "helm-ha/plugin.yaml"],
        None,
        &[],
        b"",
    );
    ok(&run, "tar -xzOf");
    serde_saphyr::from_str(&run.stdout).unwrap_or_else(|e| panic!("plugin.yaml: {e}"))
}

/// `os/arch` of each entry of `list` that names an OS (a build matrix, a plugin's
/// `platformCommand`), sorted.
fn platforms(list: &serde_json::Value) -> Vec<String> {
    let mut platforms: Vec<String> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| Some(format!("{}/{}", e["os"].as_str()?, e["arch"].as_str()?)))
        .collect();
    platforms.sort();
    platforms
}

/// `helm template` of the test chart with the plugin as the post-renderer.
fn template(sb: &Sandbox, helm: &Path, args: &[&str]) -> Run {
    let mut all = vec!["-n", "ns", "--post-renderer", "helm-ha"];
    all.extend(args);
    sb.template(helm, &chart("tchart"), &all)
}

#[test]
fn the_release_plugin_archive_installs_into_helm4_and_runs_its_platforms_binary() {
    let Some(helm) = helm4() else { return };
    let sb = Sandbox::new("plugin");
    // This machine's binary and a foreign platform's (any file stands in for it).
    let host = host_platform();
    let other = if host == "darwin/arm64" {
        "linux/arm64"
    } else {
        "darwin/arm64"
    };
    let tgz = sb.package_plugin(
        &helm,
        &[&format!("{host}={BIN}"), &format!("{other}={BIN}")],
    );
    assert!(tgz.ends_with("/helm-ha-0.1.0.tgz"), "{tgz}");

    let listing = sb.run(Path::new("tar"), &["-tzf", &tgz], None, &[], b"");
    let mut files: Vec<&str> = listing
        .stdout
        .lines()
        .map(|l| l.trim_end_matches('/'))
        .collect();
    files.sort();
    let (h, o) = (host.replace('/', "-"), other.replace('/', "-"));
    let mut want = vec![
        "helm-ha".to_string(),
        "helm-ha/bin".to_string(),
        format!("helm-ha/bin/helm-ha-{h}"),
        format!("helm-ha/bin/helm-ha-{o}"),
        "helm-ha/helm-ha.sh".to_string(),
        "helm-ha/plugin.yaml".to_string(),
    ];
    want.sort();
    assert_eq!(files, want);
    let manifest = plugin_manifest(&sb, &tgz);
    let commands = manifest["runtimeConfig"]["platformCommand"]
        .as_array()
        .unwrap();
    let entry = |os: &str, arch: &str| {
        commands
            .iter()
            .find(|c| c["os"] == os && c["arch"] == arch)
            .unwrap_or_else(|| panic!("no platformCommand for {os}/{arch}: {manifest}"))["command"]
            .clone()
    };
    let (os, arch) = host.split_once('/').unwrap();
    assert_eq!(
        entry(os, arch),
        format!("${{HELM_PLUGIN_DIR}}/bin/helm-ha-{h}")
    );
    assert_eq!(
        commands.last().unwrap(),
        &serde_json::json!({"command": "${HELM_PLUGIN_DIR}/helm-ha.sh"}),
        "the last entry, for every other platform, has no os/arch"
    );
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));

    let install = sb.helm(&helm, &["plugin", "install", &tgz, "--verify=false"]);
    ok(&install, "helm4 plugin install --verify=false");
    // No helm-ha on PATH: Helm must run the binary of its own platform from the archive.
    let run = template(&sb, &helm, &["--post-renderer-args=--profile=generic"]);
    hardened(&run, "helm4 template");
    assert!(
        run.stdout.contains("kind: PodDisruptionBudget"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_platform_the_archive_lacks_falls_back_to_the_script_which_says_what_is_missing() {
    let Some(helm) = helm4() else { return };
    let sb = Sandbox::new("foreign");
    let tgz = sb.package_plugin(&helm, &[&format!("plan9/amd64={BIN}")]);
    let install = sb.helm(&helm, &["plugin", "install", &tgz, "--verify=false"]);
    ok(&install, "helm4 plugin install --verify=false");
    let run = template(&sb, &helm, &[]);
    fails_showing(&run, "helm4 template", "the helm-ha binary was not found");
}

/// The release workflow's own steps, run here on the four archives its build job would upload
/// (this machine's binary standing in for the others): the plugin archive they make installs
/// into Helm 4 and runs, and the checksums cover every file published.
#[test]
fn the_workflows_publish_steps_package_the_plugin_and_checksum_everything() {
    let Some(helm) = helm4() else { return };
    let sb = Sandbox::new("publish");
    let wf = yaml(".github/workflows/release.yml");
    // A checkout with the build job's artefacts in dist/.
    let repo = sb.path("repo");
    std::fs::create_dir_all(repo.join("dist")).unwrap();
    for link in ["scripts", "plugin"] {
        std::os::unix::fs::symlink(root().join(link), repo.join(link)).unwrap();
    }
    let version = env!("CARGO_PKG_VERSION");
    for platform in ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"] {
        let name = format!("helm-ha-{version}-{platform}");
        let dir = sb.path("build").join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(BIN, dir.join("helm-ha")).unwrap();
        let tar = sb.run(
            Path::new("tar"),
            &[
                "-C",
                sb.path("build").to_str().unwrap(),
                "-czf",
                repo.join(format!("dist/{name}.tar.gz")).to_str().unwrap(),
                &name,
            ],
            None,
            &[],
            b"",
        );
        ok(&tar, "tar");
    }
    sb.link("helm", &helm);
    for name in ["Helm 4 plugin archive", "Checksums"] {
        let script = step_script(&wf["jobs"]["publish"]["steps"], name);
        ok(&sb.bash(script, &repo, &[]), &format!("step {name}"));
    }
    let sums = std::fs::read_to_string(repo.join("dist/sha256sums.txt")).unwrap();
    let mut named: Vec<&str> = sums
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    named.sort();
    let mut want: Vec<String> = ["darwin-amd64", "darwin-arm64", "linux-amd64", "linux-arm64"]
        .iter()
        .map(|p| format!("helm-ha-{version}-{p}.tar.gz"))
        .collect();
    want.insert(0, format!("helm-ha-{version}.tgz"));
    want.sort();
    assert_eq!(named, want);

    // The image job puts each Linux binary where the Dockerfile copies it from.
    let stage = step_script(
        &wf["jobs"]["image"]["steps"],
        "Stage the binaries where the Dockerfile copies them from",
    );
    ok(&sb.bash(stage, &repo, &[]), "the image job's staging step");
    for arch in ["amd64", "arm64"] {
        let staged = repo.join(format!("dist/linux-{arch}/helm-ha"));
        assert_eq!(
            std::fs::read(&staged).unwrap(),
            std::fs::read(BIN).unwrap(),
            "{}",
            staged.display()
        );
    }

    let tgz = repo.join(format!("dist/helm-ha-{version}.tgz"));
    let manifest = plugin_manifest(&sb, tgz.to_str().unwrap());
    assert_eq!(
        platforms(&manifest["runtimeConfig"]["platformCommand"]),
        ["darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"]
    );
    let install = sb.helm(
        &helm,
        &["plugin", "install", tgz.to_str().unwrap(), "--verify=false"],
    );
    ok(&install, "helm4 plugin install --verify=false");
    let run = template(&sb, &helm, &[]);
    ok(&run, "helm4 template");
    assert!(
        run.stdout.contains("kind: PodDisruptionBudget"),
        "{}",
        run.stdout
    );
}

/// `(instruction, arguments)` of each Dockerfile line, continuation lines joined, comments and
/// parser directives dropped.
fn dockerfile(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut line = String::new();
    for raw in text.lines() {
        let t = raw.trim();
        if line.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => line.push_str(part),
            None => {
                line.push_str(t);
                let (op, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
                out.push((op.to_ascii_uppercase(), args.trim().to_string()));
                line.clear();
            }
        }
    }
    assert!(line.is_empty(), "the Dockerfile ends in a continuation");
    out
}

#[test]
fn the_dockerfile_copies_the_release_binary_and_runs_it() {
    let lines = dockerfile(&read("Dockerfile"));
    const KNOWN: &[&str] = &[
        "FROM",
        "ARG",
        "RUN",
        "COPY",
        "USER",
        "WORKDIR",
        "ENTRYPOINT",
        "CMD",
        "ENV",
        "LABEL",
    ];
    for (op, _) in &lines {
        assert!(KNOWN.contains(&op.as_str()), "unknown instruction {op}");
    }
    let stages: Vec<&str> = lines
        .iter()
        .filter(|(op, _)| op == "FROM")
        .map(|(_, args)| args.rsplit_once(" AS ").expect("every stage is named").1)
        .collect();
    assert_eq!(
        stages,
        ["argocd-cmp", "helm-ha"],
        "the last stage is the default target"
    );

    let binary = Path::new(BIN).file_name().unwrap().to_str().unwrap();
    let copies: Vec<&str> = lines
        .iter()
        .filter(|(op, _)| op == "COPY")
        .map(|(_, a)| a.as_str())
        .collect();
    let from = format!("dist/linux-${{TARGETARCH}}/{binary}");
    let to = format!("/usr/local/bin/{binary}");
    assert_eq!(copies.len(), 2);
    for copy in &copies {
        let words: Vec<&str> = copy
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        assert_eq!(words, [from.as_str(), to.as_str()], "COPY {copy}");
    }
    let entrypoint = &lines.last().unwrap();
    assert_eq!(entrypoint.0, "ENTRYPOINT");
    let exec: Vec<String> = serde_json::from_str(&entrypoint.1).expect("exec form");
    assert_eq!(exec, std::slice::from_ref(&to));
    // The build context holds only what the images copy; the workflow stages it there.
    let ignore = read(".dockerignore");
    assert!(
        ignore.lines().any(|l| l == "*")
            && ignore
                .lines()
                .any(|l| l == format!("!dist/linux-*/{binary}"))
    );
    let release = read(".github/workflows/release.yml");
    assert!(
        release.contains("dist/linux-$arch"),
        "the workflow stages dist/linux-<arch>/"
    );
    // The Argo CD sidecar example runs the image this target builds.
    let patch = yaml("examples/argocd/repo-server-patch.yaml");
    assert_eq!(
        patch["spec"]["template"]["spec"]["containers"][0]["image"],
        format!(
            "ghcr.io/helm-ha/helm-ha-argocd-cmp:{}",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn the_release_workflow_builds_every_platform_and_publishes_what_the_action_downloads() {
    let wf = yaml(".github/workflows/release.yml");
    assert_eq!(wf["on"]["push"]["tags"][0], "v*.*.*");
    assert_eq!(
        platforms(&wf["jobs"]["build"]["strategy"]["matrix"]["include"]),
        ["darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"]
    );
    let runs = |job: &str| -> String {
        wf["jobs"][job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .collect()
    };
    assert!(runs("build").contains("bash scripts/build-release.sh"));
    assert!(runs("build").contains("helm-ha-${VERSION}-${{ matrix.os }}-${{ matrix.arch }}"));
    assert!(runs("publish").contains("scripts/package-plugin.sh dist"));
    assert!(runs("publish").contains("sha256sums.txt"));
    let images: Vec<&str> = wf["jobs"]["image"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["helm-ha", "argocd-cmp"]);

    // The action downloads exactly those names.
    let action = read("action.yml");
    assert!(action.contains(r#"name="helm-ha-${VERSION}-${platform}""#));
    assert!(action.contains("sha256sums.txt"));
    // And the versions the workflow compares agree today.
    let plugin = yaml("plugin/helm-ha/plugin.yaml");
    assert_eq!(plugin["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn ci_runs_the_test_command() {
    let ci = yaml(".github/workflows/ci.yml");
    let runs: Vec<&str> = ci["jobs"]["test"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert_eq!(runs, ["bash .ci/run"]);
    assert!(read(".ci/run").contains("exec bash scripts/test.sh"));
}

#[test]
fn the_action_runs_check_with_sarif_and_uploads_it() {
    let action = yaml("action.yml");
    for key in ["name", "description"] {
        assert!(action[key].is_string(), "{key}");
    }
    assert_eq!(action["inputs"]["files"]["required"], true);
    assert_eq!(action["runs"]["using"], "composite");
    let steps = &action["runs"]["steps"];
    let upload = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("a SARIF upload step");
    assert_eq!(upload["with"]["sarif_file"], "${{ inputs.sarif-file }}");

    // The check step, run as the runner would, against the hardened example.
    let sb = Sandbox::new("action");
    sb.link("helm-ha", Path::new(BIN));
    let work = sb.path("repo/rendered");
    std::fs::create_dir_all(&work).unwrap();
    let hardened = common::helm_ha(
        &[
            "--profile=plane-enterprise",
            root()
                .join("examples/plane-enterprise/rendered.yaml")
                .to_str()
                .unwrap(),
        ],
        b"",
    );
    assert_eq!(hardened.code, 0, "{}", hardened.stderr);
    std::fs::write(work.join("plane.yaml"), &hardened.stdout).unwrap();
    let output = sb.path("github_output");
    std::fs::write(&output, "").unwrap();
    let script = step_script(steps, "helm-ha check");
    let run = sb.bash(
        script,
        &sb.path("repo"),
        &[
            ("GITHUB_OUTPUT", output.to_str().unwrap()),
            ("FILES", "rendered/**/*.yaml"),
            ("PROFILE", "plane-enterprise"),
            ("POLICY", ""),
            ("FAIL_ON", "error"),
            ("ARGS", "--no-manual"),
            ("SARIF", "helm-ha.sarif"),
        ],
    );
    ok(&run, "the action's check step");
    assert_eq!(
        std::fs::read_to_string(&output).unwrap().trim(),
        "exit-code=0"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.path("repo/helm-ha.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty(), "the in-chart databases are reported");
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "rendered/plane.yaml"
    ));
}

#[test]
fn the_pre_commit_hooks_run_helm_ha_check_on_rendered_manifests() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["helm-ha-check", "helm-ha-check-system"]);
    for hook in hooks {
        for key in ["id", "name", "entry", "language", "files"] {
            assert!(hook[key].is_string(), "{key} in {hook}");
        }
        assert!(hook["entry"].as_str().unwrap().starts_with("helm-ha check"));
    }
    assert_eq!(
        hooks[0]["language"], "rust",
        "pre-commit builds the crate itself"
    );
    assert_eq!(hooks[1]["language"], "system");
}
