#!/usr/bin/env bash
# Benchmarks anyone can rerun (not timed tests): helm-ha against `cat` (the floor) and the
# kustomize post-renderer, on the plane-enterprise full fixture, on the two largest real chart
# renders of tests/data/corpus and on generated 5/10/20 MB
# streams. Prints one markdown table (docs/benchmarks.md holds a recorded run).
#
#   scripts/bench.sh                 # default run counts
#   RUNS=51 BIG_RUNS=9 scripts/bench.sh
#   BASELINE=/tmp/helm-ha-old scripts/bench.sh   # also time another shipped build, side by side
#
# Each row: median wall time over RUNS rounds (after one warm-up; each round runs every command
# of the input once, so the machine's slow spells hit all alike), MB/s, peak RSS (GNU time's
# "Maximum resident set size", one more run), and ratios. Every command reads the input on stdin
# and writes to /dev/null (stderr too), as a Helm post-renderer does. helm-ha is timed as
# shipped (scripts/build-release.sh: statically linked on Linux/glibc) and, on the fixture, also
# as `cargo build --release` links it. The kustomize row is the kustomize post-renderer recipe of
# the Helm post-renderer documentation (`cat > all.yaml; kubectl kustomize DIR`) with the hand-written
# kustomization in bench/kustomize-plane/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-21}"
BIG_RUNS="${BIG_RUNS:-5}"
FIXTURE="$ROOT/tests/data/fixtures/plane-enterprise/plane-enterprise-full.yaml"
OUT="$ROOT/target/bench"

die() { echo "bench.sh: ERROR: $*" >&2; exit 1; }
[ -f "$FIXTURE" ] || die "fixture not found: $FIXTURE"
command -v python3 >/dev/null || die "python3 is needed for the timing loop"
if [ ! -x /usr/bin/time ]; then
  echo "== bench.sh: installing GNU time (peak RSS)" >&2
  { apt-get update -qq && apt-get install -y -qq time; } >&2 || die "GNU time is needed: apt-get install time"
fi

echo "== bench.sh: cargo build --release, scripts/build-release.sh" >&2
cargo build --release --bin helm-ha --example gen-stream >&2
HH="$(bash "$ROOT/scripts/build-release.sh")"
HH_DYNAMIC="$ROOT/target/release/helm-ha"
bash "$ROOT/scripts/fetch-tools.sh" >&2
KUBECTL="$ROOT/target/tools/bin/kubectl"

mkdir -p "$OUT"
for mb in 5 10 20; do
  [ -s "$OUT/stream-$mb.yaml" ] || "$ROOT/target/release/examples/gen-stream" --mb "$mb" --seed 1 --out "$OUT/stream-$mb.yaml"
done
KDIR="$OUT/kustomize-plane"
rm -rf "$KDIR" && mkdir -p "$KDIR" && cp "$ROOT"/bench/kustomize-plane/*.yaml "$KDIR"/
cat > "$OUT/kustomize-pr.sh" <<EOF
#!/bin/sh
set -eu
cat > "$KDIR/all.yaml"
exec "$KUBECTL" kustomize "$KDIR"
EOF
chmod +x "$OUT/kustomize-pr.sh"

# Sanity: every command succeeds on its input before anything is timed.
"$HH" --profile plane-enterprise < "$FIXTURE" > /dev/null 2>&1
cmp -s <("$HH" --profile plane-enterprise < "$FIXTURE" 2>/dev/null) <("$HH_DYNAMIC" --profile plane-enterprise < "$FIXTURE" 2>/dev/null) \
  || die "the static and the dynamic build write different streams"
"$OUT/kustomize-pr.sh" < "$FIXTURE" > /dev/null
for mb in 5 10 20; do "$HH" < "$OUT/stream-$mb.yaml" > /dev/null 2>&1; done

BASELINE="${BASELINE:-}"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "BASELINE is not an executable: $BASELINE"

HH="$HH" HH_DYNAMIC="$HH_DYNAMIC" BASELINE="$BASELINE" FIXTURE="$FIXTURE" OUT="$OUT" RUNS="$RUNS" BIG_RUNS="$BIG_RUNS" python3 - <<'PY'
import os, statistics, subprocess, time

hh, hh_dynamic, fixture, out = os.environ["HH"], os.environ["HH_DYNAMIC"], os.environ["FIXTURE"], os.environ["OUT"]
corpus = os.path.join(os.path.dirname(fixture), "..", "..", "corpus")
runs, big_runs = int(os.environ["RUNS"]), int(os.environ["BIG_RUNS"])
baseline = os.environ["BASELINE"]

def with_baseline(label, argv):
    """The command, and the same command run by the baseline binary, when one is given."""
    own = [(label, argv)]
    if baseline:
        own.append((f"{label} (baseline)", [baseline] + argv[1:]))
    return own

def run(argv, stdin_path):
    with open(stdin_path, "rb") as fin, open(os.devnull, "wb") as fout:
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{argv} failed with {p.returncode}")
    return wall

def peak_rss(argv, stdin_path):
    # From GNU time in a run of its own: a child forked from Python would report Python's own
    # pages (Linux records the pre-exec image's high-water mark).
    rss = os.path.join(out, "rss.txt")
    run(["/usr/bin/time", "-f", "%M", "-o", rss] + argv, stdin_path)
    return int(open(rss).read().split()[-1])  # KiB

rows = []
def case(name, path, n, cmds):
    size = os.path.getsize(path)
    walls = {label: [] for label, _ in cmds}
    for label, argv in cmds:
        run(argv, path)  # warm the page cache
    # Interleaved: each round runs every command once, so the slow and fast spells of a shared
    # machine fall on all of them alike.
    for _ in range(n):
        for label, argv in cmds:
            walls[label].append(run(argv, path))
    res = {label: (statistics.median(walls[label]), peak_rss(argv, path)) for label, argv in cmds}
    cat = res["cat"][0]
    for label, (wall, kib) in res.items():
        rows.append((name, size, label, wall, size / wall / 1e6, kib, kib * 1024 / size, wall / cat, res.get("kustomize post-renderer", (None,))[0]))

case("plane-enterprise full fixture", fixture, runs, [
    ("cat", ["cat"]),
    *with_baseline("helm-ha --profile plane-enterprise", [hh, "--profile", "plane-enterprise"]),
    ("helm-ha --profile plane-enterprise (dynamic)", [hh_dynamic, "--profile", "plane-enterprise"]),
    ("kustomize post-renderer", [os.path.join(out, "kustomize-pr.sh")]),
])
# The largest real renders of the chart corpus (tests/data/corpus): CRDs, dashboards, policies.
for chart in ("kyverno-default", "grafana-mimir-default"):
    case(f"{chart} render", os.path.join(corpus, f"{chart}.yaml"), runs, [("cat", ["cat"]), *with_baseline("helm-ha (generic)", [hh])])
for mb in (5, 10, 20):
    case(f"generated {mb} MB stream", os.path.join(out, f"stream-{mb}.yaml"), big_runs, [("cat", ["cat"]), *with_baseline("helm-ha (generic)", [hh])])

print(f"| input | size | command | median wall | MB/s | peak RSS | RSS / input | × cat | kustomize ÷ helm-ha |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
for name, size, label, wall, mbs, kib, rss_ratio, vs_cat, kus in rows:
    speedup = f"{kus / wall:.0f}×" if kus and label.startswith("helm-ha") else ""
    print(f"| {name} | {size / 1e6:.3f} MB | {label} | {wall * 1e3:.2f} ms | {mbs:.1f} | {kib / 1024:.1f} MiB | {rss_ratio:.2f} | {vs_cat:.1f} | {speedup} |")
hh_rows = [(size, wall) for name, size, label, wall, *_ in rows if label == "helm-ha (generic)"]
print()
print("Cost per MB (linearity): " + ", ".join(f"{size / 1e6:.0f} MB: {wall * 1e3 / (size / 1e6):.1f} ms/MB" for size, wall in hh_rows))
PY
