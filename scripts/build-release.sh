#!/usr/bin/env bash
# The release binary as it is shipped (in the Helm plugin, and what scripts/bench.sh times).
# Prints its path on stdout.
#
#   scripts/build-release.sh            # -> target/static/<host>/dist/helm-ha on Linux/glibc
#
# The `dist` profile (Cargo.toml) is the release profile with link-time optimisation.
#
# On Linux with glibc it is linked statically (`-C target-feature=+crt-static`): no dynamic
# loader and no symbol relocation at start, which is about 0.6-1 ms of every run of a
# post-renderer whose whole run is ~10 ms (docs/benchmarks.md), and a binary that runs on any
# Linux whatever its glibc. It needs its own target directory (every crate is built with the
# flag) and `--target`, so the flag does not reach proc-macro crates built for the host.
# Elsewhere this is the ordinary `cargo build --release`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
host="$(rustc -vV | sed -n 's/^host: //p')"
case "$host" in
  *-linux-gnu)
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
      cargo build --profile dist --bin helm-ha --target "$host" --target-dir "$ROOT/target/static" >&2
    bin="$ROOT/target/static/$host/dist/helm-ha"
    ;;
  *)
    cargo build --profile dist --bin helm-ha >&2
    bin="$ROOT/target/dist/helm-ha"
    ;;
esac
[ -x "$bin" ] || { echo "build-release.sh: ERROR: $bin was not built" >&2; exit 1; }
echo "$bin"
