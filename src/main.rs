use clap::Parser;
use std::io::Write;

fn main() {
    configure_memory();
    let cli = helm_ha::cli::Cli::parse();
    let mut input = Vec::new();
    let result = helm_ha::app::run(cli, &mut std::io::stdin().lock(), &mut input);
    let (stdout, stderr, code) = match result {
        Ok(out) => (out.stdout, out.stderr, out.code),
        Err(failure) => {
            let (stdout, stderr, code) = helm_ha::failure_output(&failure, std::env::var_os("HELM_PLUGIN_NAME").is_some());
            (vec![stdout.into()], stderr, code)
        }
    };
    // One write for all messages (stderr is unbuffered: two system calls per line otherwise).
    let messages: String = stderr.iter().flat_map(|line| [line.as_str(), "\n"]).collect();
    let _ = std::io::stderr().lock().write_all(messages.as_bytes());
    if helm_ha::app::write_stdout(&stdout).is_err() {
        std::process::exit(2);
    }
    std::process::exit(code);
}

/// Memory settings that cost nothing and keep a large stream's peak down (docs/benchmarks.md).
fn configure_memory() {
    // Many hosts back every anonymous mapping with transparent huge pages (`always`): each first
    // touch of a 2 MiB region then faults in and zeroes all of it. That held half of an 89 KB
    // chart's 14 MiB and about 10 MiB of a 20 MB stream's peak, for no measurable speed.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer flag and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    // mimalloc commits its arena eagerly where the OS overcommits, and then keeps what it freed:
    // 10 MiB more at a 20 MB stream's peak, and no faster. (`mi_option_arena_eager_commit` in
    // mimalloc.h's `mi_option_e`; libmimalloc-sys names no constant for it.)
    const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    // SAFETY: sets one of mimalloc's options; nothing else is running yet.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
}

// Reading YAML allocates a node or string per token; mimalloc makes that about 15 % cheaper
// than glibc malloc end to end. Its v2 line, not the crate's default v3: v3 touched 24 MiB for
// an 89 KB chart (v2 15 MiB), and faulting in and zeroing those pages was 2 ms of a 12 ms run
// (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
