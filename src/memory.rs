//! Memory settings of the process, and handing freed memory back between the pipeline's phases.
//! The binary allocates with mimalloc (`main.rs`); docs/benchmarks.md has the measurements.

use libmimalloc_sys as mi;

/// Settings that cost nothing and keep a large stream's peak down; call before anything else.
pub fn configure() {
    // Many hosts back every anonymous mapping with transparent huge pages (`always`): each first
    // touch of a 2 MiB region then faults in and zeroes all of it. That held half of an 89 KB
    // chart's 14 MiB and about 10 MiB of a 20 MB stream's peak, for no measurable speed.
    // mimalloc has already reserved its arena (asking for huge pages) and touched it before
    // `main`, so its first 2 MiB may be one huge page anyway; that page holds most of a small
    // chart's heap, and leaving it out (MIMALLOC_ALLOW_THP=0) took 150 more faults and was slower.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes one integer flag and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    // mimalloc commits its arena eagerly where the OS overcommits, and then keeps what it freed:
    // 10 MiB more at a 20 MB stream's peak, and no faster. (`mi_option_arena_eager_commit` in
    // mimalloc.h's `mi_option_e`; libmimalloc-sys names no constant for it.)
    const MI_OPTION_ARENA_EAGER_COMMIT: mi::mi_option_t = 4;
    // SAFETY: sets one of mimalloc's options; nothing else is running yet.
    unsafe {
        mi::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
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
    unsafe { mi::mi_collect(true) }
}

/// The process's allocator: mimalloc, asked the way most of Rust's allocations allow.
/// `mimalloc::MiMalloc` passes every request through `mi_malloc_aligned`, whose search for a
/// block of the right alignment, on each of the ~20,000 allocations of a chart, was 1.5 % of
/// its instructions (docs/benchmarks.md). Every mimalloc block is aligned to a machine word, so
/// a request for no more than that takes the plain path; larger alignments keep the aligned one.
pub struct Allocator;

/// The alignment every block mimalloc hands out has (`MI_INTPTR_SIZE`).
const WORD: usize = std::mem::size_of::<usize>();

// SAFETY: each method hands the request to the mimalloc function made for it; `mi_malloc`,
// `mi_zalloc` and `mi_realloc` only for alignments every mimalloc block has.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_malloc(layout.size())
        } else {
            mi::mi_malloc_aligned(layout.size(), layout.align())
        }
        .cast()
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_zalloc(layout.size())
        } else {
            mi::mi_zalloc_aligned(layout.size(), layout.align())
        }
        .cast()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _: std::alloc::Layout) {
        mi::mi_free(ptr.cast());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= WORD {
            mi::mi_realloc(ptr.cast(), new_size)
        } else {
            mi::mi_realloc_aligned(ptr.cast(), new_size, layout.align())
        }
        .cast()
    }
}
