//! What each command does, from parsed arguments to the text it prints.

use crate::cli::{CheckArgs, Cli, Command, DrillArgs, Format, PolicyArgs, RenderArgs, StreamArgs};
use crate::error::Failure;
use crate::pipeline::{self, Analysis};
use crate::policy::{self, Policy};
use crate::{report, rules};
use std::io::Read;

/// What a command produced: stdout text, stderr lines, exit code.
pub struct Output {
    pub stdout: String,
    pub stderr: Vec<String>,
    pub code: i32,
}

pub fn run(cli: Cli, stdin: &mut dyn Read) -> Result<Output, Failure> {
    match cli.command {
        None => render(cli.render, stdin),
        Some(Command::Render(args)) => render(args, stdin),
        Some(Command::Check(args)) => check(args, stdin),
        Some(Command::Policy(args)) => {
            let policy = load_policy(&args)?;
            Ok(Output { stdout: policy_yaml(&policy), stderr: Vec::new(), code: 0 })
        }
        Some(Command::Explain { code }) => explain(code.as_deref()),
        Some(Command::Drill(args)) => drill(args, stdin),
    }
}

/// `helm-ha drill`: simulate the stream as it is (no hardening applied) on a simulated cluster.
fn drill(args: DrillArgs, stdin: &mut dyn Read) -> Result<Output, Failure> {
    use crate::drill::{self, cluster::Shape, Cluster};
    let policy = load_policy(&args.stream.policy)?;
    let shape = Shape::parse(&args.node_cpu, &args.node_memory).map_err(Failure::Usage)?;
    let cluster = match &args.cluster {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
            Cluster::from_file(&path.display().to_string(), &text, args.zones as usize, &shape)?
        }
        None if args.karpenter => {
            let none = crate::policy::Karpenter::default();
            Cluster::karpenter(policy.karpenter.as_ref().unwrap_or(&none), args.zones as usize, args.nodes_per_zone as usize, &shape).map_err(Failure::Usage)?
        }
        None => Cluster::uniform(args.zones as usize, args.nodes_per_zone as usize, &shape),
    };
    let input = read_input(&args.stream.files, stdin)?;
    let docs = crate::stream::read(&input)?;
    let model = drill::pods::model(&docs, &policy, args.stream.namespace.clone(), args.stream.release.clone());
    let report = drill::run(&model, &cluster);
    let stdout = match args.format {
        Format::Text => {
            use std::io::IsTerminal;
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            drill::report::text(&report, colour)
        }
        Format::Json => drill::report::json(&report),
    };
    Ok(Output { stdout, stderr: Vec::new(), code: i32::from(report.failed) })
}

fn render(args: RenderArgs, stdin: &mut dyn Read) -> Result<Output, Failure> {
    let analysis = analyze(&args.stream, stdin)?;
    let mut stderr = analysis.warnings.clone();
    if let Some(f) = analysis.refusals().next() {
        let at = crate::error::Located { doc: f.doc.unwrap_or(0), line: f.doc.map_or(1, |d| analysis.docs[d].line), object: f.object.clone() };
        return Err(Failure::refused(at, format!("{} {}: {}", f.rule.code, f.rule.name, f.message), format!("see `helm-ha explain {}`", f.rule.code)));
    }
    let (stdout, notes) = analysis.write()?;
    if args.explain {
        stderr.extend(report::explain(&analysis));
    }
    stderr.extend(notes);
    stderr.extend(
        analysis.findings.iter().filter(|f| f.fix.is_none()).map(|f| format!("warning: {} {} {}: {}", f.rule.code, f.object, f.rule.name, f.message)),
    );
    // The process ends right after printing: freeing every document's tree one by one took
    // about a tenth of the run on large streams (docs/benchmarks.md), and the OS frees it at once.
    std::mem::forget(analysis);
    Ok(Output { stdout, stderr, code: 0 })
}

fn check(args: CheckArgs, stdin: &mut dyn Read) -> Result<Output, Failure> {
    let analysis = analyze(&args.stream, stdin)?;
    let failing = analysis.findings.iter().any(|f| f.severity >= args.fail_on);
    let stdout = match args.format {
        Format::Text => report::text(&analysis),
        Format::Json => report::json(&analysis),
    };
    Ok(Output { stdout, stderr: analysis.warnings.clone(), code: i32::from(failing) })
}

fn explain(code: Option<&str>) -> Result<Output, Failure> {
    let stdout = match code {
        Some(code) => {
            let rule = rules::by_code(code).ok_or_else(|| Failure::Usage(format!("no rule `{code}`; `helm-ha explain` lists them")))?;
            let m = rule.meta();
            let body: String = m.doc.lines().map(|l| l.strip_prefix(' ').unwrap_or(l)).collect::<Vec<_>>().join("\n");
            format!("{} {}\n\n{}\n", m.code, m.name, body.trim())
        }
        None => rules::all().iter().map(|r| format!("{:<6} {:<25} {}\n", r.meta().code, r.meta().name, r.meta().summary())).collect(),
    };
    Ok(Output { stdout, stderr: Vec::new(), code: 0 })
}

fn analyze(args: &StreamArgs, stdin: &mut dyn Read) -> Result<Analysis, Failure> {
    let mut policy = load_policy(&args.policy)?;
    policy.strict |= args.strict;
    let templates = crate::templates::Templates::load(args.templates.as_deref())?;
    let input = read_input(&args.files, stdin)?;
    pipeline::analyze_with(&input, &policy, args.namespace.clone(), args.release.clone(), &templates)
}

fn load_policy(args: &PolicyArgs) -> Result<Policy, Failure> {
    let file = match &args.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::policy(&path.display().to_string(), None, "", format!("cannot read it: {e}"), "pass a readable YAML file to --policy")
            })?;
            Some((path.display().to_string(), text))
        }
        None => None,
    };
    policy::load(args.profile.as_deref(), file.as_ref().map(|(n, t)| (n.as_str(), t.as_str())))
}

/// The largest input stream helm-ha reads (all files and stdin together), in bytes, unless
/// `HELM_HA_MAX_INPUT_MIB` says otherwise. helm-ha holds every document's meaning in memory
/// (rules look across documents), about 17x the input at peak (docs/benchmarks.md), so the limit
/// bounds a run to about 1.1 GiB. A Helm release is far smaller: Helm stores it in one Secret of
/// at most 1 MiB, compressed.
pub const MAX_INPUT_BYTES: usize = 64 << 20;

fn max_input() -> Result<usize, Failure> {
    match std::env::var("HELM_HA_MAX_INPUT_MIB") {
        Err(_) => Ok(MAX_INPUT_BYTES),
        Ok(v) => v.trim().parse::<usize>().ok().filter(|&m| m > 0).map(|m| m.saturating_mul(1 << 20)).ok_or_else(|| {
            Failure::Usage(format!("HELM_HA_MAX_INPUT_MIB=`{v}` is not a positive whole number of MiB; unset it or set e.g. 512"))
        }),
    }
}

/// All inputs, in order, as one stream. Files that do not end a line get one, so a document never
/// runs into the next file's first line. Reading stops one byte past the size limit.
fn read_input(files: &[std::path::PathBuf], stdin: &mut dyn Read) -> Result<Vec<u8>, Failure> {
    let limit = max_input()?;
    let too_big = || {
        Failure::Usage(format!(
            "the input is larger than the {} MiB limit; split the release into smaller ones, or raise the limit with HELM_HA_MAX_INPUT_MIB (peak memory is about 17x the input)",
            limit >> 20
        ))
    };
    let mut out = Vec::new();
    let stdin_only = files.is_empty();
    for source in if stdin_only { vec![None] } else { files.iter().map(Some).collect() } {
        let mut buf = Vec::new();
        let room = (limit + 1).saturating_sub(out.len()) as u64;
        let result = match source.filter(|p| p.as_os_str() != "-") {
            Some(path) => std::fs::File::open(path).and_then(|f| f.take(room).read_to_end(&mut buf)).map_err(|e| format!("cannot read {}: {e}", path.display())),
            None => stdin.take(room).read_to_end(&mut buf).map_err(|e| format!("cannot read stdin: {e}")),
        };
        result.map_err(Failure::Usage)?;
        if out.len() + buf.len() > limit {
            return Err(too_big());
        }
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        if !out.is_empty() && !buf.is_empty() && !buf.starts_with(b"---") {
            out.extend_from_slice(b"---\n");
        }
        out.extend_from_slice(&buf);
    }
    Ok(out)
}

fn policy_yaml(policy: &Policy) -> String {
    let value = serde_json::to_value(policy).expect("a policy serialises");
    format!(
        "# helm-ha effective policy (profile {}); pass an edited copy with --policy FILE\n{}",
        policy.profile.as_deref().unwrap_or("generic"),
        crate::yaml::to_yaml(&value)
    )
}
