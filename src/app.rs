//! What each command does, from parsed arguments to the text it prints.

use crate::cli::{
    CheckArgs, CheckFormat, Cli, Color, Command, DrillArgs, Format, PolicyArgs, RenderArgs,
    StreamArgs,
};
use crate::error::Failure;
use crate::pipeline::{self, Analysis};
use crate::policy::{self, Policy};
use crate::{output_dir, report, rules};
use std::borrow::Cow;
use std::io::Read;

/// What a command produced: stdout in pieces (a rendered stream is mostly the input's own
/// bytes, borrowed from `'i`), stderr lines, exit code.
pub struct Output<'i> {
    pub stdout: Vec<Cow<'i, str>>,
    pub stderr: Vec<String>,
    pub code: i32,
}

impl Output<'_> {
    fn text(stdout: String, stderr: Vec<String>, code: i32) -> Self {
        Output {
            stdout: vec![Cow::Owned(stdout)],
            stderr,
            code,
        }
    }
}

/// Write `pieces` to stdout, many per system call and none of them copied.
pub fn write_stdout(pieces: &[Cow<'_, str>]) -> std::io::Result<()> {
    use std::io::{IoSlice, Write};
    let mut out = std::io::stdout().lock();
    for batch in pieces.chunks(512) {
        let mut slices: Vec<IoSlice> = batch
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| IoSlice::new(p.as_bytes()))
            .collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match out.write_vectored(rest) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
    out.flush()
}

/// What to print when the command line does not parse, or asks for `--help` or `--version`,
/// under a Helm 4 plugin: `(stdout, stderr lines, exit code)`. Helm 4 throws a plugin's stderr
/// away, so clap's own printing would leave the user with `plugin "helm-ha" exited with error`.
/// As with [`crate::failure_output`], the text goes to stdout as one YAML string with exit 0:
/// Helm cannot read a string as an object, aborts, and shows it. Here it is a literal block
/// (`|2`), which Helm echoes line by line, so clap's help and usage keep their layout.
pub fn helm4_clap_output(e: &clap::Error) -> (String, Vec<String>, i32) {
    use clap::error::ErrorKind;
    let rendered = e.render().to_string();
    let (text, stderr) = match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => (rendered, Vec::new()),
        _ => {
            let text = rendered.trim_end();
            let text = format!(
                "helm-ha: error: {}",
                text.strip_prefix("error: ").unwrap_or(text)
            );
            let stderr = vec![text.clone()];
            (text, stderr)
        }
    };
    let mut block = String::from("|2\n");
    for line in text.trim_end().lines() {
        if !line.trim().is_empty() {
            block.push_str("  ");
            block.push_str(line);
        }
        block.push('\n');
    }
    (block, stderr, 0)
}

/// Run the command; the input it reads goes into `input`, which the output borrows from.
pub fn run<'i>(
    cli: Cli,
    stdin: &mut dyn Read,
    input: &'i mut Vec<u8>,
) -> Result<Output<'i>, Failure> {
    match cli.command {
        None => render(cli.render, stdin, input),
        Some(Command::Render(args)) => render(args, stdin, input),
        Some(Command::Check(args)) => check(args, stdin, input),
        Some(Command::Policy(args)) => {
            let policy = load_policy(&args)?;
            Ok(Output::text(policy_yaml(&policy), Vec::new(), 0))
        }
        Some(Command::Explain { code }) => explain(code.as_deref()),
        Some(Command::Drill(args)) => drill(args, stdin, input),
        Some(Command::Diff(stream)) => render(
            RenderArgs {
                stream,
                diff: true,
                ..RenderArgs::default()
            },
            stdin,
            input,
        ),
        Some(Command::Completions { shell }) => Ok(Output::text(completions(shell), Vec::new(), 0)),
        Some(Command::Man) => Ok(Output::text(man_page(), Vec::new(), 0)),
    }
}

/// `helm-ha drill`: simulate the stream as it is (no hardening applied) on a simulated cluster.
fn drill<'i>(
    args: DrillArgs,
    stdin: &mut dyn Read,
    input: &'i mut Vec<u8>,
) -> Result<Output<'i>, Failure> {
    use crate::drill::{self, cluster::Shape, Cluster};
    let policy = load_policy(&args.stream.policy)?;
    let shape = Shape::parse(&args.node_cpu, &args.node_memory)
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let cluster = match &args.cluster {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::io(format!("cannot read {}", path.display()), e))?;
            Cluster::from_file(
                &path.display().to_string(),
                &text,
                args.zones as usize,
                &shape,
            )?
        }
        None if args.karpenter => {
            let none = crate::policy::Karpenter::default();
            Cluster::karpenter(
                policy.karpenter.as_ref().unwrap_or(&none),
                args.zones as usize,
                args.nodes_per_zone as usize,
                &shape,
            )?
        }
        None => Cluster::uniform(args.zones as usize, args.nodes_per_zone as usize, &shape),
    };
    read_input(&args.stream.files, stdin, input)?;
    let docs = crate::stream::read(input)?;
    let empty = empty_input(docs.iter().all(|d| d.is_empty()), args.stream.strict)?;
    let model = drill::pods::model(
        &docs,
        &policy,
        args.stream.namespace.clone(),
        args.stream.release.clone(),
    );
    let report = drill::run(&model, &cluster);
    let stdout = match args.format {
        Format::Text => {
            use std::io::IsTerminal;
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            drill::report::text(&report, colour)
        }
        Format::Json => drill::report::json(&report),
    };
    Ok(Output::text(stdout, empty, i32::from(report.failed)))
}

fn render<'i>(
    args: RenderArgs,
    stdin: &mut dyn Read,
    buf: &'i mut Vec<u8>,
) -> Result<Output<'i>, Failure> {
    let setup = Setup::load(&args.stream)?;
    read_input(&args.stream.files, stdin, buf)?;
    let input: &'i [u8] = buf;
    let analysis = setup.analyze(&args.stream, input)?;
    let mut stderr = analysis.warnings.clone();
    if let Some(f) = analysis.refusals().next() {
        let at = crate::error::Located {
            doc: f.doc.unwrap_or(0),
            line: f.doc.map_or(1, |d| analysis.docs[d].line),
            object: f.object.clone(),
        };
        return Err(Failure::refused(
            at,
            format!("{} {}: {}", f.rule.code, f.rule.name, f.message),
            format!("see `helm-ha explain {}`", f.rule.code),
        ));
    }
    let (stdout, notes) = analysis.output()?;
    if args.explain {
        // Every finding, fixed or not, is in the explanation: nothing more to list.
        stderr.extend(report::explain(&analysis));
    }
    stderr.extend(notes);
    let unfixed = analysis
        .findings
        .iter()
        .filter(|f| f.fix.is_none() && !f.is_manual());
    if args.verbose && !args.explain {
        stderr.extend(unfixed.map(|f| {
            format!(
                "{}: {} {} {}: {}",
                f.severity.as_str(),
                f.rule.code,
                f.object,
                f.rule.name,
                f.message
            )
        }));
    } else if !args.explain {
        stderr.extend(report::unfixed_summary(unfixed));
    }
    if args.quiet {
        stderr.clear();
    }
    if args.diff {
        return Ok(Output::text(
            diff(&args.stream.files, input, &stdout.concat()),
            stderr,
            0,
        ));
    }
    if let Some(dir) = &args.output_dir {
        let inputs: Vec<(Option<String>, bool)> = analysis
            .docs
            .iter()
            .map(|d| (d.source(), !d.is_empty()))
            .collect();
        let files = if inputs.iter().any(|(_, object)| *object) {
            output_dir::layout(&stdout.concat(), &inputs)
        } else {
            Default::default()
        };
        let written = output_dir::write(dir, &files)?;
        let listing: String = written
            .iter()
            .map(|p| format!("wrote {}\n", p.display()))
            .collect();
        if written.is_empty() {
            stderr.push(format!(
                "helm-ha: no resources; nothing written to {}",
                dir.display()
            ));
        }
        return Ok(Output::text(listing, stderr, 0));
    }
    Ok(Output {
        stdout,
        stderr,
        code: 0,
    })
}

fn check<'i>(
    args: CheckArgs,
    stdin: &mut dyn Read,
    input: &'i mut Vec<u8>,
) -> Result<Output<'i>, Failure> {
    let setup = Setup::load(&args.stream)?;
    let origins = read_input(&args.stream.files, stdin, input)?;
    let mut analysis = setup.analyze(&args.stream, input)?;
    let mut stderr = analysis.warnings.clone();
    stderr.extend(empty_input(
        analysis.docs.iter().all(|d| d.is_empty()),
        args.fail_on.is_some() || args.stream.strict,
    )?);
    if args.no_manual {
        analysis.findings.retain(|f| !f.is_manual());
    }
    let fail_on = args.fail_on.unwrap_or(rules::Severity::Warning);
    let failing = analysis
        .findings
        .iter()
        .any(|f| f.severity >= fail_on && !f.is_manual());
    let stdout = match args.format {
        CheckFormat::Text => {
            use std::io::IsTerminal;
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            let width = if std::io::stdout().is_terminal() {
                terminal_width()
            } else {
                None
            };
            let width = width.unwrap_or(report::DEFAULT_WIDTH);
            report::text(&analysis, &origins, report::Style { color, width })
        }
        CheckFormat::Json => report::json(&analysis, &origins),
        CheckFormat::Sarif => report::sarif(&analysis, &origins),
    };
    Ok(Output::text(stdout, stderr, i32::from(failing)))
}

/// `check` and `drill` on a stream without one object: a warning (a failed `helm template`
/// upstream of a pipe looks exactly like this), or an error when the user asked to fail.
fn empty_input(empty: bool, fail: bool) -> Result<Vec<String>, Failure> {
    const WHAT: &str = "the input holds no Kubernetes objects; if it comes from `helm template`, check that it succeeded (set -o pipefail)";
    match (empty, fail) {
        (false, _) => Ok(Vec::new()),
        (true, false) => Ok(vec![format!("helm-ha: warning: {WHAT}")]),
        (true, true) => Err(Failure::Usage(WHAT.to_string())),
    }
}

/// The terminal's width in columns: `COLUMNS` when set, else what the terminal says.
fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return Some(n);
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        .filter(|&w| w > 0)
}

fn explain(code: Option<&str>) -> Result<Output<'static>, Failure> {
    let stdout = match code {
        Some(code) => {
            let rule = rules::by_code(code).ok_or_else(|| {
                Failure::Usage(format!("no rule `{code}`; `helm-ha explain` lists them"))
            })?;
            let m = rule.meta();
            let body: String = m
                .doc
                .lines()
                .map(|l| l.strip_prefix(' ').unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n");
            format!("{} {}\n\n{}\n", m.code, m.name, body.trim())
        }
        None => {
            let mut metas: Vec<&rules::Meta> = rules::all().iter().map(|r| r.meta()).collect();
            metas.sort_by_key(|m| m.code);
            metas
                .iter()
                .map(|m| format!("{:<6} {:<25} {}\n", m.code, m.name, m.gist()))
                .collect()
        }
    };
    Ok(Output::text(stdout, Vec::new(), 0))
}

/// The policy and templates of a run, loaded before any input is read (their errors come first).
struct Setup {
    policy: Policy,
    templates: crate::templates::Templates,
}

impl Setup {
    fn load(args: &StreamArgs) -> Result<Setup, Failure> {
        let mut policy = load_policy(&args.policy)?;
        policy.strict |= args.strict;
        let templates = crate::templates::Templates::load(args.templates.as_deref())?;
        Ok(Setup { policy, templates })
    }

    fn analyze<'a>(&self, args: &StreamArgs, input: &'a [u8]) -> Result<Analysis<'a>, Failure> {
        let names = pipeline::Names {
            namespace: args.namespace.clone(),
            release: args.release.clone(),
        };
        pipeline::analyze(input, &self.policy, &self.templates, &names)
    }
}

fn load_policy(args: &PolicyArgs) -> Result<Policy, Failure> {
    let file = match &args.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::policy(
                    &path.display().to_string(),
                    None,
                    "",
                    format!("cannot read it: {e}"),
                    "pass a readable YAML file to --policy",
                )
            })?;
            Some((path.display().to_string(), text))
        }
        None => None,
    };
    policy::load(
        args.profile.as_deref(),
        file.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
    )
}

/// The largest input stream helm-ha reads (all files and stdin together), in bytes, unless
/// `HELM_HA_MAX_INPUT_MIB` says otherwise. A run holds the whole stream's meaning and peaks at
/// about 6 times its input (docs/benchmarks.md), so the limit bounds a run to about 400 MiB. A
/// Helm release is far smaller: Helm stores it in one Secret of at most 1 MiB, compressed, and
/// the largest chart render we know is 6 MB.
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
fn read_input(
    files: &[std::path::PathBuf],
    stdin: &mut dyn Read,
    out: &mut Vec<u8>,
) -> Result<report::Origins, Failure> {
    let limit = max_input()?;
    let too_big = || {
        Failure::Usage(format!(
            "the input is larger than the {} MiB limit; split the release into smaller ones, or raise the limit with HELM_HA_MAX_INPUT_MIB",
            limit >> 20
        ))
    };
    let mut origins = report::Origins::default();
    let stdin_only = files.is_empty();
    for source in if stdin_only {
        vec![None]
    } else {
        files.iter().map(Some).collect()
    } {
        let room = (limit + 1).saturating_sub(out.len());
        let path = source.filter(|p| p.as_os_str() != "-");
        let read = |r: &mut dyn Read, size: Option<u64>, buf: &mut Vec<u8>| {
            // Sized once when the size is known (a file, or stdin redirected from one): a buffer
            // grown by doubling copies the stream and holds up to twice its size on the way.
            if let Some(size) = size {
                buf.reserve((size as usize).saturating_add(1).min(room));
            }
            r.take(room as u64).read_to_end(buf)
        };
        // The first source (or the first after empty ones) is read straight into `out`.
        let first = out.is_empty();
        let mut buf = Vec::new();
        let target = if first { &mut *out } else { &mut buf };
        if let Some(path) = path {
            not_a_chart(path)?;
        }
        let result = match path {
            Some(path) => std::fs::File::open(path)
                .and_then(|mut f| {
                    let size = f.metadata().ok().map(|m| m.len());
                    read(&mut f, size, target)
                })
                .map_err(|e| Failure::io(format!("cannot read {}", path.display()), e)),
            None => {
                read(stdin, stdin_size(), target).map_err(|e| Failure::io("cannot read stdin", e))
            }
        };
        result?;
        if out.len() + buf.len() > limit {
            return Err(too_big());
        }
        let name = path.map_or("stdin".to_string(), |p| p.display().to_string());
        if first {
            origins.inputs.push((name, 1));
            continue;
        }
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        if !buf.is_empty() && !buf.starts_with(b"---") {
            out.extend_from_slice(b"---\n");
        }
        origins
            .inputs
            .push((name, 1 + memchr::memchr_iter(b'\n', out).count()));
        out.extend_from_slice(&buf);
    }
    Ok(origins)
}

/// helm-ha reads what `helm template` writes, not charts: a directory, a `Chart.yaml` or a
/// packaged chart is refused with the command that renders it.
fn not_a_chart(path: &std::path::Path) -> Result<(), Failure> {
    use std::path::Path;
    let chart_yaml = path
        .file_name()
        .is_some_and(|n| n == "Chart.yaml" || n == "Chart.yml");
    let gzip = || {
        let mut magic = [0u8; 2];
        std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok_and(|_| magic == [0x1f, 0x8b])
    };
    let (what, chart) = if path.is_dir() {
        ("a directory", path)
    } else if chart_yaml {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        ("a chart's Chart.yaml", dir.unwrap_or(Path::new(".")))
    } else if gzip() {
        ("a compressed file (a packaged chart?)", path)
    } else {
        return Ok(());
    };
    Err(Failure::Usage(format!(
        "{} is {what}, not a rendered manifest stream: run helm template first, e.g. `helm template RELEASE {} | helm-ha`",
        path.display(),
        chart.display()
    )))
}

/// The size of stdin when it is a regular file (`helm-ha < file`); `None` for a pipe.
fn stdin_size() -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
        let meta = std::fs::File::from(fd).metadata().ok()?;
        meta.is_file().then_some(meta.len())
    }
    #[cfg(not(unix))]
    None
}

/// Unified diff of the input stream vs the output, named after the input file (or `stdin`).
fn diff(files: &[std::path::PathBuf], input: &[u8], output: &str) -> String {
    let name = match files {
        [one] if one.as_os_str() != "-" => one.display().to_string(),
        [] | [_] => "stdin".to_string(),
        _ => "input".to_string(),
    };
    let old = String::from_utf8_lossy(input);
    similar::TextDiff::from_lines(old.as_ref(), output)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

fn completions(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory;
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "helm-ha", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

/// The man page (roff) of the whole command line, subcommands included.
pub fn man_page() -> String {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .expect("writing to a Vec cannot fail");
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("helm-ha {}", sub.get_name());
        let mut text = format!(".SH \"{}\"\n", name.to_uppercase());
        if let Some(about) = sub.get_about() {
            text.push_str(&format!("{}\n", roff_escape(&about.to_string())));
        }
        buf.extend_from_slice(text.as_bytes());
        let sub_man = clap_mangen::Man::new(sub.clone().bin_name(name));
        let mut part = Vec::new();
        sub_man
            .render_synopsis_section(&mut part)
            .and_then(|_| sub_man.render_options_section(&mut part))
            .expect("writing to a Vec cannot fail");
        // Demote the sub-page's section headings so they nest under the subcommand's.
        buf.extend_from_slice(
            String::from_utf8_lossy(&part)
                .replace(".SH ", ".SS ")
                .as_bytes(),
        );
        if let Some(after) = sub.get_after_help() {
            buf.extend_from_slice(
                format!(".PP\n.nf\n{}\n.fi\n", roff_escape(&after.to_string())).as_bytes(),
            );
        }
    }
    String::from_utf8(buf).expect("the man page is UTF-8")
}

fn roff_escape(s: &str) -> String {
    s.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn policy_yaml(policy: &Policy) -> String {
    let value = serde_json::to_value(policy).expect("a policy serialises");
    format!(
        "# helm-ha effective policy (profile {}); pass an edited copy with --policy FILE\n{}",
        policy.profile.as_deref().unwrap_or("generic"),
        crate::yaml::to_yaml(&crate::yaml::Json::from(value))
    )
}
