#!/usr/bin/env bash
# Compares two helm-ha binaries on every input the tests know: the plane-enterprise fixtures,
# every chart render of tests/data/corpus, the golden and emit inputs and generated streams,
# under both built-in profiles and a set of command lines. Stdout, stderr and the exit code
# must be identical. Used to hold a refactoring to the binary it replaces:
#
#   scripts/difftest.sh OLD_BINARY [NEW_BINARY]   # NEW defaults to target/release/helm-ha
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OLD="${1:?usage: scripts/difftest.sh OLD_BINARY [NEW_BINARY]}"
NEW="${2:-$ROOT/target/release/helm-ha}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

inputs=("$ROOT"/tests/data/fixtures/plane-enterprise/plane-enterprise-*.yaml)
for f in "$ROOT"/tests/data/corpus/*.yaml; do
  case "$f" in *.values.yaml) ;; *) inputs+=("$f") ;; esac
done
inputs+=("$ROOT"/golden/cases/*/input.yaml "$ROOT"/tests/data/emit/*.yaml)
GEN="$ROOT/target/release/gen-stream"
[ -x "$GEN" ] || cargo build --release --bin gen-stream >&2
for seed in 1 2 3; do
  "$GEN" --mb 1 --seed "$seed" --out "$WORK/gen-$seed.yaml"
  inputs+=("$WORK/gen-$seed.yaml")
done

commands=(
  ""
  "--strict"
  "--explain"
  "check"
  "check --format json --no-manual"
  "check --format sarif"
  "check --strict --fail-on info"
)
compared=0
differ=0
for input in "${inputs[@]}"; do
  for profile in generic plane-enterprise; do
    for cmd in "${commands[@]}"; do
      # shellcheck disable=SC2086
      set -- $cmd --profile "$profile"
      if [ "${1:-}" = check ]; then argv=("$@" "$input"); else argv=("$@"); fi
      for side in old new; do
        bin="$OLD"; [ "$side" = new ] && bin="$NEW"
        if [ "${argv[0]}" = check ]; then
          "$bin" "${argv[@]}" < /dev/null > "$WORK/$side.out" 2> "$WORK/$side.err" && rc=0 || rc=$?
        else
          "$bin" "${argv[@]}" < "$input" > "$WORK/$side.out" 2> "$WORK/$side.err" && rc=0 || rc=$?
        fi
        echo "$rc" > "$WORK/$side.rc"
      done
      compared=$((compared + 1))
      for part in out err rc; do
        if ! cmp -s "$WORK/old.$part" "$WORK/new.$part"; then
          differ=$((differ + 1))
          echo "DIFFERS ($part): ${input#"$ROOT"/} :: ${argv[*]}"
          diff <(head -c 20000 "$WORK/old.$part") <(head -c 20000 "$WORK/new.$part") | head -20 || true
          break
        fi
      done
    done
  done
done
echo "difftest: $compared runs over ${#inputs[@]} inputs, $differ differ"
[ "$differ" -eq 0 ]
