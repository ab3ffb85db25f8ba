#!/usr/bin/env bash
# Render the example chart through helm-ha into examples/flux/rendered/plane.yaml: the file CI
# commits and Flux applies (see README.md here). Flux cannot run a post-renderer itself.
#
#   examples/flux/render.sh                 # writes examples/flux/rendered/plane.yaml
#   examples/flux/render.sh OUT.yaml        # somewhere else
#   HELM=/path/to/helm HELM_HA=/path/to/helm-ha examples/flux/render.sh
#
# HELM defaults to `helm` on PATH, HELM_HA to `helm-ha` on PATH. The file is replaced only when
# both commands succeed and the result has resources, so a failure never commits an empty file
# (Flux with `prune: true` would delete everything).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHART="$(cd "$HERE/../plane-enterprise/chart" && pwd)"
HELM="${HELM:-helm}"
HELM_HA="${HELM_HA:-helm-ha}"
out="${1:-$HERE/rendered/plane.yaml}"

mkdir -p "$(dirname "$out")"
tmp="$(mktemp "$(dirname "$out")/.render.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
"$HELM" template plane "$CHART" --namespace plane --include-crds \
  | "$HELM_HA" --profile=plane-enterprise --namespace=plane >"$tmp"
grep -q '^kind:' "$tmp" || { echo "render.sh: ERROR: nothing rendered; $out left unchanged" >&2; exit 1; }
mv "$tmp" "$out"
trap - EXIT
echo "render.sh: wrote $out ($(grep -c '^kind:' "$out") resources)" >&2
