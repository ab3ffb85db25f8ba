#!/usr/bin/env bash
# Fuzz helm-ha's input-facing code with cargo-fuzz (libFuzzer) on the STABLE toolchain.
#
#   scripts/fuzz.sh                  # every target for 20 s (the smoke run scripts/test.sh does)
#   scripts/fuzz.sh 600 edit         # one target for 10 minutes
#   FUZZ_JOBS=2 scripts/fuzz.sh 3600 # longer runs: see docs/fuzzing.md
#
# Targets (fuzz/fuzz_targets/): split (stream splitter), edit (document editor), policy (policy
# loader), block_reader (the fast YAML reader against granit). Corpora live in fuzz/corpus/<target> (not committed) and are seeded from
# golden/cases/*/input.yaml, the profiles and the plane-enterprise fixtures on every run. A crash leaves
# its input in fuzz/artifacts/<target>/ and makes this script fail; turn it into a regression
# test in tests/fuzz_regressions.rs.
#
# Stable toolchain: cargo-fuzz needs nightly only for sanitizers. `--sanitizer none` builds with
# stable rustc's SanitizerCoverage flags; RUSTC_BOOTSTRAP=1 lets the remaining `-Z` flag that
# cargo-fuzz passes through. cargo-fuzz itself is installed (pinned) into target/tools/bin.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_PER_TARGET="${1:-20}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(split edit policy block_reader)
CARGO_FUZZ_VERSION="0.13.2"
BIN="$ROOT/target/tools/bin"

die() { echo "fuzz.sh: ERROR: $*" >&2; exit 1; }

if ! "$BIN/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "== fuzz.sh: installing cargo-fuzz $CARGO_FUZZ_VERSION into target/tools" >&2
  cargo install --locked --root "$ROOT/target/tools" --version "$CARGO_FUZZ_VERSION" cargo-fuzz >&2
fi

# Seed corpora (idempotent: libFuzzer names inputs by content hash, so re-adding is harmless).
seed() { # seed TARGET FILE [PREFIX-BYTE]
  local dir="$ROOT/fuzz/corpus/$1" name
  mkdir -p "$dir"
  name="seed-$(basename "$(dirname "$2")")-$(basename "$2")"
  if [ -n "${3:-}" ]; then
    { printf "$3"; cat "$2"; } > "$dir/$name"
  else
    cp "$2" "$dir/$name"
  fi
}
for f in golden/cases/*/input.yaml examples/*/rendered.yaml tests/data/fixtures/plane-enterprise/plane-enterprise-*.yaml; do
  [ -f "$f" ] || continue
  seed split "$f"
  seed block_reader "$f"
  seed edit "$f" '\377'   # first byte: which edits to apply (0xff = all)
done
for f in profiles/*.yaml golden/cases/*/policy.yaml; do
  [ -f "$f" ] && seed policy "$f"
done

cd "$ROOT/fuzz"
export RUSTC_BOOTSTRAP=1
for t in "${TARGETS[@]}"; do
  echo "== fuzz.sh: $t for ${SECONDS_PER_TARGET}s" >&2
  mkdir -p "artifacts/$t"
  jobs=()
  [ "${FUZZ_JOBS:-1}" -gt 1 ] && jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
  status=0
  "$BIN/cargo-fuzz" run --sanitizer none --release "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${jobs[@]}" > "artifacts/$t.log" 2>&1 || status=$?
  grep -E "^#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|ERROR|SUMMARY|panicked" "artifacts/$t.log" >&2 || true
  [ "$status" -eq 0 ] || die "$t: cargo fuzz exited $status; see fuzz/artifacts/$t.log and fuzz/artifacts/$t/"
done
echo "== fuzz.sh: ok" >&2
