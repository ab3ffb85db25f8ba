//! Per-document and per-group work spread over the machine's cores, for large streams.
//!
//! Reading a document depends on that document alone, and running the rules over a group of
//! workloads and writing its documents on that group alone (`pipeline`); together they are
//! nearly all of a large run (docs/benchmarks.md). Below [`MIN_BYTES`] a run is a few milliseconds
//! and starting threads would only add to it, so small streams (every chart we know) stay on
//! one thread. Results come back in input order, so the output and the first error reported
//! are the same whatever the number of threads.

/// Streams smaller than this are read and written on one thread.
pub const MIN_BYTES: usize = 1 << 20;

/// A thread gives back what it freed each time it got through this much input
/// ([`crate::memory::release_freed`]). A thread's heap keeps the pages it freed for the sizes it
/// freed them at; reading and rewriting a document frees nearly all it allocated, at sizes the
/// next documents do not quite ask for again, so the threads' heaps grew by about 7 MiB over a
/// 20 MB stream. Every 1 MiB, that is gone, at no cost the benchmark can tell from its noise;
/// every 0.5 MiB saved 0.5 MiB more and cost time.
const RELEASE_EVERY: usize = 1 << 20;

/// The number of threads `HELM_HA_THREADS` asks for (1 to 64; `1` starts none), if it is set.
/// The app checks it before reading, so that a bad value is an error that names it.
pub fn requested() -> Result<Option<usize>, String> {
    match std::env::var("HELM_HA_THREADS") {
        Err(_) => Ok(None),
        Ok(v) => v.trim().parse::<usize>().ok().filter(|n| (1..=64).contains(n)).map(Some).ok_or_else(|| format!("HELM_HA_THREADS=`{v}` is not a whole number from 1 to 64; unset it (one thread per core) or set e.g. 1")),
    }
}

/// `HELM_HA_THREADS`, else one thread per core (which the standard library finds by reading
/// cgroup files: asked only for large streams).
fn threads() -> usize {
    requested()
        .ok()
        .flatten()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// `f` of every item, in order. Items are cut into contiguous runs of about equal `bytes`, one
/// per thread, when there are more than [`MIN_BYTES`] in all.
pub fn map<T: Send, R: Send>(
    items: Vec<T>,
    bytes: impl Fn(&T) -> usize + Sync,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let total: usize = items.iter().map(&bytes).sum();
    let n = if total < MIN_BYTES {
        1
    } else {
        threads().min(items.len())
    };
    if n <= 1 {
        return items.into_iter().map(f).collect();
    }
    // Where each run ends, then the runs themselves, last first (split_off takes the tail).
    let mut ends = Vec::with_capacity(n);
    let mut acc = 0;
    for (i, item) in items.iter().enumerate() {
        acc += bytes(item);
        if acc * n >= total * (ends.len() + 1) && ends.len() + 1 < n {
            ends.push(i + 1);
        }
    }
    let mut items = items;
    let count = items.len();
    let mut runs: Vec<Vec<T>> = ends.iter().rev().map(|&end| items.split_off(end)).collect();
    runs.push(items);
    runs.reverse();
    // One run, its results pushed to `out`.
    let run = |mut out: Vec<R>, items: Vec<T>| -> Vec<R> {
        let mut done = 0;
        for item in items {
            done += bytes(&item);
            if done >= RELEASE_EVERY {
                done = 0;
                crate::memory::release_freed();
            }
            out.push(f(item));
        }
        out
    };
    let run = &run;
    let mut runs = runs.into_iter();
    let first = runs.next().expect("at least one run");
    let out = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .map(|items| s.spawn(move || run(Vec::with_capacity(items.len()), items)))
            .collect();
        // This thread takes the first run: one thread fewer to start, and what it allocates
        // lives in the heap it keeps using afterwards.
        let mut out = run(Vec::with_capacity(count), first);
        for h in handles {
            // A panic in a worker is a bug; re-raise it on this thread rather than lose results.
            out.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    });
    // The threads are gone; what they freed (most of what they allocated) is of no use to
    // this thread until it is given back.
    crate::memory::release_freed();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_on_any_number_of_threads() {
        let items: Vec<usize> = (0..1000).collect();
        let expected: Vec<usize> = items.iter().map(|i| i * 3).collect();
        // Large enough in all to be cut into runs (when the machine has more than one core).
        assert_eq!(map(items.clone(), |_| MIN_BYTES / 100, |i| i * 3), expected);
        assert_eq!(map(items.clone(), |_| 1, |i| i * 3), expected);
        assert_eq!(
            map(items[..1].to_vec(), |_| MIN_BYTES * 2, |i| i * 3),
            vec![0]
        );
        assert_eq!(
            map(Vec::<usize>::new(), |_| MIN_BYTES, |i| i * 3),
            Vec::<usize>::new()
        );
        // Uneven sizes: one huge item first.
        assert_eq!(
            map(
                items.clone(),
                |&i| if i == 0 { MIN_BYTES * 10 } else { 1 },
                |i| i * 3
            ),
            expected
        );
    }
}
