//! The real clients (Helm 3, Helm 4, kubectl) and a sandbox to run them in.
//!
//! The binaries come from `HELM3` / `HELM4` / `KUBECTL`, defaulting to `target/tools/bin/*`
//! (scripts/fetch-tools.sh); a missing one fails the test under `CI=true` and is a visible skip
//! elsewhere.
//!
//! Every sandbox has its own HELM_DATA_HOME / HELM_CONFIG_HOME / HELM_CACHE_HOME and
//! HELM_PLUGINS (= $HELM_DATA_HOME/plugins, where Helm 4's local installer puts plugins whatever
//! HELM_PLUGINS says, helm/helm#32646) in a fresh temp dir, and a PATH of its own `bin/` and the
//! system's directories only, so nothing leaks between tests or from the developer's own set-up
//! (a helm-ha installed with `cargo install` cannot stand in for the one under test).

use super::{root, run_command, Run, BIN};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

fn tool(var: &str, default: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/tools/bin").join(default));
    if path.is_file() {
        Some(path)
    } else {
        super::missing(&format!(
            "{var}={} (scripts/fetch-tools.sh fetches it)",
            path.display()
        ))
    }
}

pub fn helm3() -> Option<PathBuf> {
    tool("HELM3", "helm3")
}

pub fn helm4() -> Option<PathBuf> {
    tool("HELM4", "helm4")
}

pub fn kubectl() -> Option<PathBuf> {
    tool("KUBECTL", "kubectl")
}

/// A test chart of `tests/charts`.
pub fn chart(name: &str) -> PathBuf {
    root().join("tests/charts").join(name)
}

/// The example chart, for which the plane-enterprise profile is written.
pub fn plane_chart() -> PathBuf {
    root().join("examples/plane-enterprise/chart")
}

/// The run succeeded; otherwise fail showing what it printed.
pub fn ok(run: &Run, what: &str) {
    assert_eq!(
        run.code, 0,
        "{what}: exit {}\nstderr:\n{}\nstdout:\n{}",
        run.code, run.stderr, run.stdout
    );
}

/// The run succeeded and hardened the test chart's Deployment (helm-ha gave it spread
/// constraints).
pub fn hardened(run: &Run, what: &str) {
    ok(run, what);
    assert!(
        run.stdout.contains("topologySpreadConstraints"),
        "{what}: not hardened:\n{}",
        run.stdout
    );
}

/// The run failed and its stderr shows the user `text`.
pub fn fails_showing(run: &Run, what: &str, text: &str) {
    assert_ne!(run.code, 0, "{what} must fail:\n{}", run.stdout);
    assert!(
        run.stderr.contains(text),
        "{what}: the user must see `{text}`:\n{}",
        run.stderr
    );
}

/// A temp dir with isolated Helm homes and a `bin/` first on PATH; removed on drop.
pub struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "helm-ha-sandbox-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["data/plugins", "config", "cache", "bin"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        Sandbox { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Run `program` with the isolated Helm environment, no HELM_PLUGIN_* or namespace/context
    /// from outside, a kubeconfig that points nowhere, and `bin/` first on PATH; `env` comes
    /// last, so it may override any of these.
    pub fn run(
        &self,
        program: &Path,
        args: &[&str],
        cwd: Option<&Path>,
        env: &[(&str, &str)],
        stdin: &[u8],
    ) -> Run {
        let mut cmd = Command::new(program);
        cmd.args(args);
        for k in [
            "HELM_PLUGIN_NAME",
            "HELM_PLUGIN_DIR",
            "HELM_DRIVER",
            "HELM_NAMESPACE",
            "HELM_KUBECONTEXT",
        ] {
            cmd.env_remove(k);
        }
        cmd.env(
            "PATH",
            format!("{}:/usr/bin:/bin", self.path("bin").display()),
        )
        .env("HELM_DATA_HOME", self.path("data"))
        .env("HELM_CONFIG_HOME", self.path("config"))
        .env("HELM_CACHE_HOME", self.path("cache"))
        .env("HELM_PLUGINS", self.path("data/plugins"))
        .env("KUBECONFIG", self.path("kubeconfig"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        run_command(cmd, stdin)
    }

    pub fn helm(&self, helm: &Path, args: &[&str]) -> Run {
        self.run(helm, args, None, &[], b"")
    }

    /// `helm template rel CHART` and then `args` (namespace, post-renderer, flags).
    pub fn template(&self, helm: &Path, chart: &Path, args: &[&str]) -> Run {
        let mut all = vec!["template", "rel", chart.to_str().unwrap()];
        all.extend(args);
        self.helm(helm, &all)
    }

    /// `bash -c script` in `cwd`, as a CI runner runs a workflow step.
    pub fn bash(&self, script: &str, cwd: &Path, env: &[(&str, &str)]) -> Run {
        self.run(Path::new("bash"), &["-c", script], Some(cwd), env, b"")
    }

    /// `bin/NAME` → `target`, so NAME is found on PATH.
    pub fn link(&self, name: &str, target: &Path) {
        std::os::unix::fs::symlink(target, self.path("bin").join(name)).unwrap();
    }

    /// A copy of plugin/helm-ha with the real binary as bin/helm-ha.
    pub fn plugin_copy(&self) -> PathBuf {
        let dir = self.path("src/helm-ha");
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        for entry in std::fs::read_dir(root().join("plugin/helm-ha")).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
            }
        }
        std::fs::copy(BIN, dir.join("bin/helm-ha")).unwrap();
        dir
    }

    /// `scripts/package-plugin.sh` with these `OS/ARCH=BINARY` specs (a lone BINARY is this
    /// machine's) into `dist/`: the archive's path.
    pub fn package_plugin(&self, helm4: &Path, specs: &[&str]) -> String {
        let script = root().join("scripts/package-plugin.sh");
        let out = self.path("dist");
        let mut args = vec![script.to_str().unwrap(), out.to_str().unwrap()];
        args.extend(specs);
        let run = self.run(
            Path::new("bash"),
            &args,
            None,
            &[("HELM4", helm4.to_str().unwrap())],
            b"",
        );
        ok(&run, "scripts/package-plugin.sh");
        run.stdout.trim().to_string()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
