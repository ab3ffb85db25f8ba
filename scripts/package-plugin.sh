#!/usr/bin/env bash
# Package the Helm 4 plugin with a helm-ha binary inside.
#
#   scripts/package-plugin.sh BINARY OUTDIR
#     -> OUTDIR/helm-ha-<version>.tgz   (plugin/helm-ha/* + bin/helm-ha), unsigned
#
#   helm plugin install OUTDIR/helm-ha-<version>.tgz --verify=false
#
# Uses $HELM4 if set, else target/tools/bin/helm4 (fetched by scripts/fetch-tools.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "package-plugin: ERROR: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: scripts/package-plugin.sh BINARY OUTDIR"
BINARY="$1"
OUTDIR="$2"
[ -f "$BINARY" ] || die "binary not found: $BINARY"
[ -x "$BINARY" ] || die "binary is not executable: $BINARY"
PLUGIN_SRC="$ROOT/plugin/helm-ha"
[ -f "$PLUGIN_SRC/plugin.yaml" ] || die "$PLUGIN_SRC/plugin.yaml missing"

if [ -z "${HELM4:-}" ]; then
  bash "$ROOT/scripts/fetch-tools.sh"
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
cp "$PLUGIN_SRC/plugin.yaml" "$PLUGIN_SRC/helm-ha.sh" "$stage/"
[ -f "$PLUGIN_SRC/README.md" ] && cp "$PLUGIN_SRC/README.md" "$stage/"
cp "$BINARY" "$stage/bin/helm-ha"
chmod 0755 "$stage/bin/helm-ha" "$stage/helm-ha.sh"

out="$OUTDIR/$name-$version.tgz"
rm -f "$out"
# Isolated Helm homes: packaging must not read or write the user's Helm config.
HELM_DATA_HOME="$work/data" HELM_CONFIG_HOME="$work/config" HELM_CACHE_HOME="$work/cache" \
HELM_PLUGINS="$work/data/plugins" \
  "$HELM4" plugin package "$stage" --sign=false --destination "$OUTDIR" >&2 \
  || die "helm plugin package failed"
[ -f "$out" ] || die "helm plugin package did not produce $out"
echo "$out"
