//! The command line. `helm-ha [FILE…]` is `helm-ha render [FILE…]`, so Helm can call the bare
//! binary as a post-renderer.

use crate::rules::Severity;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "helm-ha",
    version,
    about = "Make any Helm release survive the loss of a node or an availability zone",
    long_about = "helm-ha reads a rendered manifest stream (a Helm post-renderer's stdin, or files), \
recognises every workload, sorts it into a tier, hardens it and writes the stream back to stdout. \
Documents no rule touches come out byte for byte.",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  helm template plane ./chart -n plane | helm-ha --profile plane-enterprise\n  \
helm install plane ./chart -n plane --post-renderer helm-ha --post-renderer-args=--profile=plane-enterprise\n  \
helm-ha check --format sarif rendered.yaml > helm-ha.sarif\n  helm-ha policy --profile plane-enterprise > policy.yaml\n  \
helm template plane ./chart -n plane | helm-ha --output-dir manifests/\n  helm-ha completions bash > /etc/bash_completion.d/helm-ha"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Harden a manifest stream and write it to stdout (the default command).
    #[command(
        after_help = "Examples:\n  helm-ha render --profile plane-enterprise rendered.yaml\n  helm template rel ./chart | helm-ha render --explain > out.yaml\n  helm template rel ./chart | helm-ha render --output-dir manifests/\n  helm template rel ./chart | helm-ha render --diff"
    )]
    Render(RenderArgs),
    /// Audit a stream against the HA go-live checklist; exit 1 on findings at or above --fail-on.
    #[command(
        after_help = "Examples:\n  helm template rel ./chart | helm-ha check\n  helm-ha check --format json --fail-on error rendered.yaml\n  helm-ha check --format sarif --no-manual rendered.yaml > helm-ha.sarif\n\nItems no manifest can show (backups, restore drill, zones, managed services) are listed as\nmanual checks; they never change the exit code."
    )]
    Check(CheckArgs),
    /// Print the effective policy (a profile plus a policy file) as YAML.
    #[command(
        after_help = "Examples:\n  helm-ha policy --profile plane-enterprise > my-policy.yaml\n  helm-ha policy --policy my-policy.yaml"
    )]
    Policy(PolicyArgs),
    /// Simulate losing each zone, draining each node and zone, and rolling out each Deployment;
    /// exit 1 when a Tier-1 service would reach 0 ready or a drill cannot finish.
    #[command(
        after_help = "Examples:\n  helm template plane ./chart -n plane | helm-ha drill --profile plane-enterprise\n  \
helm template plane ./chart -n plane | helm-ha --profile plane-enterprise | helm-ha drill --profile plane-enterprise\n  \
helm-ha drill --zones 2 --nodes-per-zone 3 --node-cpu 2 --node-memory 8Gi --format json rendered.yaml"
    )]
    Drill(DrillArgs),
    /// Show what render would change: a unified diff of the input vs the output.
    #[command(
        after_help = "Examples:\n  helm template plane ./chart -n plane | helm-ha diff --profile plane-enterprise\n  helm-ha diff --profile plane-enterprise rendered.yaml | less\n\nThe same as `helm-ha render --diff`. Exit 0 whether or not anything changes."
    )]
    Diff(StreamArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  helm-ha completions bash > /etc/bash_completion.d/helm-ha\n  helm-ha completions zsh > \"${fpath[1]}/_helm-ha\"\n  helm-ha completions fish > ~/.config/fish/completions/helm-ha.fish"
    )]
    Completions {
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), generated from this command line definition.
    #[command(
        after_help = "Examples:\n  helm-ha man > helm-ha.1 && man ./helm-ha.1\n  helm-ha man | gzip > /usr/local/share/man/man1/helm-ha.1.gz"
    )]
    Man,
    /// Print the full documentation of a rule (code like HA101, or its name).
    #[command(
        after_help = "Examples:\n  helm-ha explain HA103\n  helm-ha explain pod-spread\n  helm-ha explain   # list every rule"
    )]
    Explain {
        /// Rule code or name; lists every rule when omitted.
        code: Option<String>,
    },
}

#[derive(Args, Debug, Default, Clone)]
pub struct PolicyArgs {
    /// Built-in profile (`generic`, `plane-enterprise`); default: the policy file's, else generic.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// A YAML policy that extends or overrides the profile.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Args, Debug, Default, Clone)]
pub struct StreamArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Release namespace (Helm does not tell post-renderers); inferred from the stream if absent.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Release name; inferred from `app.kubernetes.io/instance` labels if absent.
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// Refuse (exit 1) streams with in-chart stateful services.
    #[arg(long)]
    pub strict: bool,
    /// Directory of templates (`pdb.yaml`, `hpa.yaml`, `storageclass.yaml`, `ec2nodeclass.yaml`,
    /// `nodepool.yaml`) that replace the built-ins of the same name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Manifest files; stdin when none or `-`.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Args, Debug, Default, Clone)]
pub struct RenderArgs {
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Print every decision and change, per object, with the rule that made it, to stderr.
    #[arg(long)]
    pub explain: bool,
    /// Print each finding render does not fix (what `helm-ha check` lists) instead of one
    /// summary line.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Print nothing on stderr unless the run fails.
    #[arg(long, short = 'q', conflicts_with_all = ["explain", "verbose"])]
    pub quiet: bool,
    /// Write one file per template to DIR (`DIR/<chart>/templates/<file>.yaml`, like
    /// `helm template --output-dir`) instead of stdout; files a previous run wrote and this one
    /// does not are removed.
    #[arg(long, value_name = "DIR", conflicts_with = "diff")]
    pub output_dir: Option<PathBuf>,
    /// Print a unified diff of the input vs the output instead of the output.
    #[arg(long)]
    pub diff: bool,
}

#[derive(Copy, Clone, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// `check --format`.
#[derive(Copy, Clone, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    /// A table (colour on a terminal).
    #[default]
    Text,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// When `check --format text` colours its output.
#[derive(Copy, Clone, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum Color {
    /// When stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Report format: a table, JSON, or SARIF 2.1.0 (GitHub code scanning).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Exit 1 when a finding has at least this severity (manual checklist items never count);
    /// default `warning`. Given explicitly, an empty input is an error too.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Leave out the manual checklist items (HA9xx, and others with no object).
    #[arg(long)]
    pub no_manual: bool,
    /// Colour the text report.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Args, Debug, Clone)]
pub struct DrillArgs {
    #[command(flatten)]
    pub stream: StreamArgs,
    /// Number of zones (`zone-a`, `zone-b`, …).
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub zones: u32,
    /// Nodes in each zone.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub nodes_per_zone: u32,
    /// Allocatable CPU of each node (a Kubernetes quantity).
    #[arg(long, default_value = "4", value_name = "QUANTITY")]
    pub node_cpu: String,
    /// Allocatable memory of each node (a Kubernetes quantity).
    #[arg(long, default_value = "16Gi", value_name = "QUANTITY")]
    pub node_memory: String,
    /// A YAML file listing node pools (name, count per zone, cpu, memory, labels, taints, zones)
    /// instead of identical nodes.
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// Build the nodes from the policy's Karpenter NodePools (labels, taints, zones), with
    /// --nodes-per-zone nodes of each pool per zone.
    #[arg(long, conflicts_with = "cluster")]
    pub karpenter: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}
