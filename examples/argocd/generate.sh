#!/usr/bin/env bash
# Argo CD Config Management Plugin "generate" step for helm-ha, as a standalone script.
# The body below (everything after this header) is byte-for-byte the generate body in
# plugin.yaml; keep the two identical.
#
# Run from the chart directory (Argo CD runs it in the Application's source path):
#   cd charts/plane-enterprise
#   ARGOCD_APP_NAME=plane ARGOCD_APP_NAMESPACE=plane \
#   ARGOCD_ENV_HELM_VALUES_FILES="values.yaml values-prod.yaml" \
#   ARGOCD_ENV_HELM_HA_ARGS="--profile=plane-enterprise" \
#     /path/to/examples/argocd/generate.sh
#
# Inputs (Argo CD build environment; user env vars arrive prefixed ARGOCD_ENV_):
#   ARGOCD_APP_NAME (required)        release name, unless ARGOCD_ENV_RELEASE_NAME is set
#   ARGOCD_APP_NAMESPACE (required)   --namespace
#   KUBE_VERSION, KUBE_API_VERSIONS   passed to helm when set (Argo CD always sets them)
#   ARGOCD_ENV_RELEASE_NAME           override the release name
#   ARGOCD_ENV_HELM_VALUES_FILES      space-separated values files (relative to the chart)
#   ARGOCD_ENV_HELM_ARGS              extra helm template arguments (space-separated)
#   ARGOCD_ENV_HELM_HA_ARGS           helm-ha arguments (space-separated)
#   ARGOCD_ENV_ALLOW_EMPTY=true       accept output with no resources
# helm and helm-ha are taken from PATH. Only Kubernetes YAML goes to stdout.
# ---- generate body ----
set -euo pipefail
# ARGOCD_ENV_* values are user-controlled: split on whitespace into arrays (no glob
# expansion, never eval'ed).
read -r -a values_files <<<"${ARGOCD_ENV_HELM_VALUES_FILES:-}"
read -r -a helm_extra <<<"${ARGOCD_ENV_HELM_ARGS:-}"
read -r -a ha_args <<<"${ARGOCD_ENV_HELM_HA_ARGS:-}"
helm_args=(--namespace "${ARGOCD_APP_NAMESPACE:?ARGOCD_APP_NAMESPACE is not set}" --include-crds)
[ -n "${KUBE_VERSION:-}" ] && helm_args+=(--kube-version "$KUBE_VERSION")
[ -n "${KUBE_API_VERSIONS:-}" ] && helm_args+=(--api-versions "$KUBE_API_VERSIONS")
for f in ${values_files[@]+"${values_files[@]}"}; do helm_args+=(--values "$f"); done
helm_args+=(${helm_extra[@]+"${helm_extra[@]}"})
release="${ARGOCD_ENV_RELEASE_NAME:-${ARGOCD_APP_NAME:?ARGOCD_APP_NAME is not set}}"
# pipefail: a failing `helm template` must fail the sync, not feed helm-ha an empty stream.
rendered="$(helm template "$release" . "${helm_args[@]}" | helm-ha ${ha_args[@]+"${ha_args[@]}"})"
# Blank output plus auto-prune would delete every resource of the Application.
if [ "${ARGOCD_ENV_ALLOW_EMPTY:-false}" != "true" ] &&
  ! printf '%s\n' "$rendered" | grep -Eq '^[[:space:]]*"?kind"?[[:space:]]*:|[{,][[:space:]]*"?kind"?[[:space:]]*:'; then
  echo "helm-ha CMP: ERROR: the rendered output contains no Kubernetes resources; refusing to return it (set env ALLOW_EMPTY=true on the Application if that is intended)" >&2
  exit 1
fi
printf '%s\n' "$rendered"
