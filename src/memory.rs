//! Memory settings of the process, and handing freed memory back between the pipeline's phases.
//! The binary allocates with mimalloc (`main.rs`); docs/benchmarks.md has the measurements.

/// Settings that cost nothing and keep a large stream's peak down; call before anything else.
pub fn configure() {
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

/// Give back to the system what this thread's heap, and the heaps of threads that ended, freed.
/// mimalloc keeps freed pages for reuse (`purge_delay`, 10 ms), but much of what reading and
/// rewriting documents frees is of sizes the work after it does not ask for again. Doing it at
/// every free (`purge_delay` 0) kept the peak lowest but cost a fifth more time; `parallel` does
/// it every MiB of a thread's work and when its threads end, which costs no time the benchmark
/// can see. A no-op for memory mimalloc did not hand out (the library's tests allocate with the
/// system's allocator).
pub fn release_freed() {
    // SAFETY: mi_collect only walks mimalloc's own heaps; it may run at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
