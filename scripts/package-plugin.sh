#!/usr/bin/env bash
# Package the Helm 4 plugin with helm-ha binaries inside.
#
#   scripts/package-plugin.sh OUTDIR BINARY                       # one binary, for this machine
#   scripts/package-plugin.sh OUTDIR linux/amd64=PATH linux/arm64=PATH darwin/amd64=PATH darwin/arm64=PATH
#     -> OUTDIR/helm-ha-<version>.tgz, unsigned; prints its path
#
#   helm plugin install OUTDIR/helm-ha-<version>.tgz --verify=false
#
# Each binary goes to bin/helm-ha-<os>-<arch>, and plugin.yaml gets one `platformCommand` per
# os/arch (Helm runs the entry that matches its own GOOS/GOARCH) plus a last entry without
# os/arch, plugin/helm-ha/helm-ha.sh, for any other platform: it runs helm-ha from PATH, or
# explains that it is missing. The release workflow (.github/workflows/release.yml) packages
# the four platforms this way.
#
# Uses $HELM4 if set, else target/tools/bin/helm4 (fetched by scripts/fetch-tools.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "package-plugin: ERROR: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: scripts/package-plugin.sh OUTDIR [OS/ARCH=]BINARY..."
OUTDIR="$1"
shift
PLUGIN_SRC="$ROOT/plugin/helm-ha"
[ -f "$PLUGIN_SRC/plugin.yaml" ] || die "$PLUGIN_SRC/plugin.yaml missing"

# This machine's os/arch, in Go's words (what Helm compares platformCommand entries with).
host_platform() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "unknown OS $(uname -s); name the platform: OS/ARCH=BINARY" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unknown architecture $(uname -m); name the platform: OS/ARCH=BINARY" ;;
  esac
  echo "$os/$arch"
}

if [ -z "${HELM4:-}" ]; then
  bash "$ROOT/scripts/fetch-tools.sh" >&2
  HELM4="$ROOT/target/tools/bin/helm4"
fi
[ -x "$HELM4" ] || die "helm4 not executable: $HELM4"

version="$(sed -n 's/^version:[[:space:]]*//p' "$PLUGIN_SRC/plugin.yaml" | head -n1 | tr -d '"'"'"' \r')"
name="$(sed -n 's/^name:[[:space:]]*//p' "$PLUGIN_SRC/plugin.yaml" | head -n1 | tr -d '"'"'"' \r')"
{ [ -n "$version" ] && [ -n "$name" ]; } || die "cannot read name/version from $PLUGIN_SRC/plugin.yaml"

mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

stage="$work/$name"
mkdir -p "$stage/bin"
cp "$PLUGIN_SRC/helm-ha.sh" "$stage/"
[ -f "$PLUGIN_SRC/README.md" ] && cp "$PLUGIN_SRC/README.md" "$stage/"
chmod 0755 "$stage/helm-ha.sh"

commands=""
for spec in "$@"; do
  case "$spec" in
    */*=*) platform="${spec%%=*}" binary="${spec#*=}" ;;
    *) platform="$(host_platform)" binary="$spec" ;;
  esac
  os="${platform%/*}" arch="${platform#*/}"
  [[ "$os" =~ ^[a-z0-9]+$ && "$arch" =~ ^[a-z0-9]+$ ]] || die "bad platform '$platform' (want e.g. linux/amd64)"
  [ -f "$binary" ] && [ -x "$binary" ] || die "not an executable file: $binary"
  [ ! -e "$stage/bin/helm-ha-$os-$arch" ] || die "$os/$arch given twice"
  cp "$binary" "$stage/bin/helm-ha-$os-$arch"
  chmod 0755 "$stage/bin/helm-ha-$os-$arch"
  commands+="    - os: $os
      arch: $arch
      command: \${HELM_PLUGIN_DIR}/bin/helm-ha-$os-$arch
"
done

# The schema is strict (no fields beyond it, or Helm calls the plugin unusable).
cat >"$stage/plugin.yaml" <<EOF
apiVersion: v1
type: postrenderer/v1
name: $name
version: $version
runtime: subprocess
runtimeConfig:
  platformCommand:
${commands}    - command: \${HELM_PLUGIN_DIR}/helm-ha.sh
EOF

out="$OUTDIR/$name-$version.tgz"
rm -f "$out"
# Isolated Helm homes: packaging must not read or write the user's Helm config.
HELM_DATA_HOME="$work/data" HELM_CONFIG_HOME="$work/config" HELM_CACHE_HOME="$work/cache" \
HELM_PLUGINS="$work/data/plugins" \
  "$HELM4" plugin package "$stage" --sign=false --destination "$OUTDIR" >&2 \
  || die "helm plugin package failed"
[ -f "$out" ] || die "helm plugin package did not produce $out"
echo "$out"
