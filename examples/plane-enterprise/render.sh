#!/usr/bin/env bash
# Regenerate examples/plane-enterprise/rendered.yaml (the README's bundled example input)
# from examples/plane-enterprise/chart with Helm 3 (v3.18.0 from scripts/fetch-tools.sh).
#
#   examples/plane-enterprise/render.sh           # writes rendered.yaml
#   HELM=/usr/local/bin/helm examples/plane-enterprise/render.sh
#   examples/plane-enterprise/render.sh --check   # fail if rendered.yaml is out of date
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

if [ -z "${HELM:-}" ]; then
  bash "$ROOT/scripts/fetch-tools.sh"
  HELM="$ROOT/target/tools/bin/helm3"
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
# Run from the example dir so the chart path (and nothing machine-specific) is what Helm sees.
(cd "$HERE" && "$HELM" template plane ./chart --namespace plane) >"$tmp"

docs="$(grep -c '^kind:' "$tmp" || true)"
[ "${docs:-0}" -gt 0 ] || { echo "render.sh: ERROR: helm rendered no resources" >&2; exit 1; }

if [ "${1:-}" = "--check" ]; then
  if ! cmp -s "$tmp" "$HERE/rendered.yaml"; then
    diff -u "$HERE/rendered.yaml" "$tmp" >&2 || true
    echo "render.sh: ERROR: rendered.yaml is out of date; run examples/plane-enterprise/render.sh" >&2
    exit 1
  fi
  echo "render.sh: rendered.yaml is up to date ($docs documents)" >&2
else
  cp "$tmp" "$HERE/rendered.yaml"
  echo "render.sh: wrote $HERE/rendered.yaml ($docs documents)" >&2
fi
