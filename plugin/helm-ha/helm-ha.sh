#!/bin/sh
# helm-ha Helm 4 plugin entry point (POSIX sh).
# Runs $HELM_PLUGIN_DIR/bin/helm-ha if the plugin ships a binary, else helm-ha from PATH.
# Helm 4 discards a plugin's stderr, so when no binary can be found and we run as a
# plugin (HELM_PLUGIN_NAME set), the error is printed on stdout as ONE double-quoted
# YAML scalar with exit 0: Helm then fails with "wrong node kind ... ScalarNode" and
# shows the text. Outside Helm the error goes to stderr with exit 127.
set -u

if [ -n "${HELM_PLUGIN_DIR:-}" ] && [ -f "$HELM_PLUGIN_DIR/bin/helm-ha" ] && [ -x "$HELM_PLUGIN_DIR/bin/helm-ha" ]; then
  exec "$HELM_PLUGIN_DIR/bin/helm-ha" "$@"
fi
if command -v helm-ha >/dev/null 2>&1; then
  exec helm-ha "$@"
fi

msg="helm-ha: ERROR: the helm-ha binary was not found (looked for ${HELM_PLUGIN_DIR:-<HELM_PLUGIN_DIR unset>}/bin/helm-ha and for helm-ha on PATH). Install it (cargo install --locked --git https://github.com/helm-ha/helm-ha) or install the released plugin archive (helm-ha-<version>.tgz), which ships the binaries."
echo "$msg" >&2
if [ -n "${HELM_PLUGIN_NAME:-}" ]; then
  cat >/dev/null 2>&1 || true   # drain stdin so Helm's writer never sees a broken pipe
  # YAML double-quoted scalar: escape backslashes and double quotes.
  printf '"%s"\n' "$(printf '%s' "$msg" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
  exit 0
fi
exit 127
