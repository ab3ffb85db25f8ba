use clap::Parser as _;
use std::borrow::Cow;
use std::io::Write;

fn main() {
    let helm4_plugin = std::env::var_os("HELM_PLUGIN_NAME").is_some();
    let mut input = Vec::new();
    let (stdout, stderr, code) = match helm_ha::cli::Cli::try_parse() {
        // Outside Helm 4, clap prints as usual: help and version on stdout, errors in colour on
        // stderr, exit 2.
        Err(e) if !helm4_plugin => e.exit(),
        Err(e) => {
            let (stdout, stderr, code) = helm_ha::app::helm4_clap_output(&e);
            (vec![Cow::Owned(stdout)], stderr, code)
        }
        Ok(cli) => match helm_ha::app::run(cli, &mut std::io::stdin().lock(), &mut input) {
            Ok(out) => (out.stdout, out.stderr, out.code),
            Err(failure) => {
                let (stdout, stderr, code) = helm_ha::failure_output(&failure, helm4_plugin);
                (vec![stdout.into()], stderr, code)
            }
        },
    };
    // One write for all messages (stderr is unbuffered: two system calls per line otherwise).
    let messages: String = stderr
        .iter()
        .flat_map(|line| [line.as_str(), "\n"])
        .collect();
    let _ = std::io::stderr().lock().write_all(messages.as_bytes());
    if helm_ha::app::write_stdout(&stdout).is_err() {
        std::process::exit(2);
    }
    std::process::exit(code);
}

// Reading YAML allocates a node or string per token; mimalloc makes a real chart's run about a
// tenth faster than the system allocator (docs/benchmarks.md). Its v2 line: v3 touched half as
// much memory again for a small chart, and faulting in those pages cost time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
