//! What the release ships, built and checked here as far as it can be without the CI that
//! publishes it: the Helm 4 plugin archive (one binary and one `platformCommand` per OS/arch)
//! installed into a real Helm 4 and rendering a chart; the Dockerfile, the release workflow,
//! the GitHub Action and the pre-commit hooks read as what they claim to be, and agreeing on
//! the binary's name and the release's file names.

mod common;

use common::{root, run_command, Run};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_helm-ha");

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml(rel: &str) -> serde_json::Value {
    serde_saphyr::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

fn helm4() -> Option<PathBuf> {
    let path = std::env::var_os("HELM4")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/tools/bin/helm4"));
    if path.is_file() {
        Some(path)
    } else {
        common::missing(&format!(
            "HELM4={} (scripts/fetch-tools.sh)",
            path.display()
        ))
    }
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

/// A temp dir with its own Helm homes and a PATH without helm-ha; removed on drop.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let dir =
            std::env::temp_dir().join(format!("helm-ha-release-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data/plugins")).unwrap();
        Sandbox(dir)
    }

    fn run(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_remove("HELM_PLUGIN_NAME")
            .env_remove("HELM_PLUGIN_DIR")
            .env("PATH", "/usr/bin:/bin")
            .env("HELM_DATA_HOME", self.0.join("data"))
            .env("HELM_CONFIG_HOME", self.0.join("config"))
            .env("HELM_CACHE_HOME", self.0.join("cache"))
            .env("HELM_PLUGINS", self.0.join("data/plugins"))
            .env("KUBECONFIG", self.0.join("kubeconfig"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        run_command(cmd, b"")
    }

    /// `scripts/package-plugin.sh` with these `OS/ARCH=BINARY` specs; the archive's path.
    fn package(&self, helm: &Path, specs: &[String]) -> String {
        let out = self.0.join("dist");
        let script = root().join("scripts/package-plugin.sh");
        let mut args = vec![script.to_str().unwrap(), out.to_str().unwrap()];
        args.extend(specs.iter().map(String::as_str));
        let run = self.run(
            Path::new("bash"),
            &args,
            &[("HELM4", helm.to_str().unwrap())],
        );
        assert_eq!(run.code, 0, "package-plugin.sh: {}", run.stderr);
        run.stdout.trim().to_string()
    }

    fn template(&self, helm: &Path, args: &[&str]) -> Run {
        let chart = root().join("tests/charts/tchart");
        let mut all = vec!["template", "rel", chart.to_str().unwrap(), "-n", "ns"];
        all.extend(["--post-renderer", "helm-ha"]);
        all.extend(args);
        self.run(helm, &all, &[])
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
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
    let tgz = sb.package(&helm, &[format!("{host}={BIN}"), format!("{other}={BIN}")]);
    assert!(tgz.ends_with("/helm-ha-0.1.0.tgz"), "{tgz}");

    let listing = sb.run(Path::new("tar"), &["-tzf", &tgz], &[]);
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
    let manifest = sb.run(
        Path::new("tar"),
        &["-xzOf", &tgz, "helm-ha/plugin.yaml"],
        &[],
    );
    let manifest: serde_json::Value = serde_saphyr::from_str(&manifest.stdout).unwrap();
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

    let install = sb.run(&helm, &["plugin", "install", &tgz, "--verify=false"], &[]);
    assert_eq!(install.code, 0, "{}{}", install.stdout, install.stderr);
    // No helm-ha on PATH: Helm must run the binary of its own platform from the archive.
    let run = sb.template(&helm, &["--post-renderer-args=--profile=generic"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("kind: PodDisruptionBudget"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("topologySpreadConstraints"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_platform_the_archive_lacks_falls_back_to_the_script_which_says_what_is_missing() {
    let Some(helm) = helm4() else { return };
    let sb = Sandbox::new("foreign");
    let tgz = sb.package(&helm, &[format!("plan9/amd64={BIN}")]);
    let install = sb.run(&helm, &["plugin", "install", &tgz, "--verify=false"], &[]);
    assert_eq!(install.code, 0, "{}", install.stderr);
    let run = sb.template(&helm, &[]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("the helm-ha binary was not found"),
        "{}",
        run.stderr
    );
}

/// The release workflow's own steps, run here on the four archives its build job would upload
/// (this machine's binary standing in for the others): the plugin archive they make installs
/// into Helm 4 and runs, and the checksums cover every file published.
#[test]
fn the_workflows_publish_steps_package_the_plugin_and_checksum_everything() {
    let Some(helm) = helm4() else { return };
    let sb = Sandbox::new("publish");
    let wf = yaml(".github/workflows/release.yml");
    let step = |name: &str| -> String {
        wf["jobs"]["publish"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .and_then(|s| s["run"].as_str())
            .unwrap_or_else(|| panic!("no step {name}"))
            .to_string()
    };
    // A checkout with the build job's artefacts in dist/.
    let repo = sb.0.join("repo");
    std::fs::create_dir_all(repo.join("dist")).unwrap();
    for link in ["scripts", "plugin"] {
        std::os::unix::fs::symlink(root().join(link), repo.join(link)).unwrap();
    }
    let version = env!("CARGO_PKG_VERSION");
    for platform in ["linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64"] {
        let name = format!("helm-ha-{version}-{platform}");
        let dir = sb.0.join("build").join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(BIN, dir.join("helm-ha")).unwrap();
        let tar = sb.run(
            Path::new("tar"),
            &[
                "-C",
                sb.0.join("build").to_str().unwrap(),
                "-czf",
                repo.join(format!("dist/{name}.tar.gz")).to_str().unwrap(),
                &name,
            ],
            &[],
        );
        assert_eq!(tar.code, 0, "{}", tar.stderr);
    }
    let bin = sb.0.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&helm, bin.join("helm")).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    for name in ["Helm 4 plugin archive", "Checksums"] {
        let mut cmd = Command::new("bash");
        cmd.args(["-c", &step(name)])
            .current_dir(&repo)
            .env("PATH", &path)
            .env("HELM_DATA_HOME", sb.0.join("data"))
            .env("HELM_CONFIG_HOME", sb.0.join("config"))
            .env("HELM_CACHE_HOME", sb.0.join("cache"));
        let run = run_command(cmd, b"");
        assert_eq!(run.code, 0, "step {name}: {}{}", run.stdout, run.stderr);
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
    let stage = wf["jobs"]["image"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Stage the binaries where the Dockerfile copies them from")
        .and_then(|s| s["run"].as_str())
        .expect("the image job's staging step");
    let mut cmd = Command::new("bash");
    cmd.args(["-c", stage])
        .current_dir(&repo)
        .env("PATH", &path);
    let run = run_command(cmd, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
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
    let manifest = sb.run(
        Path::new("tar"),
        &["-xzOf", tgz.to_str().unwrap(), "helm-ha/plugin.yaml"],
        &[],
    );
    let manifest: serde_json::Value = serde_saphyr::from_str(&manifest.stdout).unwrap();
    let mut platforms: Vec<String> = manifest["runtimeConfig"]["platformCommand"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["os"].is_string())
        .map(|c| {
            format!(
                "{}/{}",
                c["os"].as_str().unwrap(),
                c["arch"].as_str().unwrap()
            )
        })
        .collect();
    platforms.sort();
    assert_eq!(
        platforms,
        ["darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64"]
    );
    let install = sb.run(
        &helm,
        &["plugin", "install", tgz.to_str().unwrap(), "--verify=false"],
        &[],
    );
    assert_eq!(install.code, 0, "{}", install.stderr);
    let run = sb.template(&helm, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
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
    let mut platforms: Vec<String> = wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["os"].as_str().unwrap(),
                m["arch"].as_str().unwrap()
            )
        })
        .collect();
    platforms.sort();
    assert_eq!(
        platforms,
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
    let steps = action["runs"]["steps"].as_array().unwrap();
    let step = |name: &str| {
        steps
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no step {name}"))
    };
    let upload = steps
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
    let bin = sb.0.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("helm-ha")).unwrap();
    let work = sb.0.join("repo/rendered");
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
    let output = sb.0.join("github_output");
    std::fs::write(&output, "").unwrap();
    let script = step("helm-ha check")["run"].as_str().unwrap();
    let mut cmd = Command::new("bash");
    cmd.args(["-c", script])
        .current_dir(sb.0.join("repo"))
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("GITHUB_OUTPUT", &output)
        .env("FILES", "rendered/**/*.yaml")
        .env("PROFILE", "plane-enterprise")
        .env("POLICY", "")
        .env("FAIL_ON", "error")
        .env("ARGS", "--no-manual")
        .env("SARIF", "helm-ha.sarif");
    let run = run_command(cmd, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&output).unwrap().trim(),
        "exit-code=0"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.0.join("repo/helm-ha.sarif")).unwrap())
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
