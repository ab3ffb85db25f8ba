#!/usr/bin/env bash
# Create the manifest validator's virtualenv at target/validate-venv.
#
#   scripts/setup-validator.sh          # idempotent: skips when the venv already works
#   FORCE=1 scripts/setup-validator.sh  # rebuild unconditionally
#
# The validator lives in tests/validate (see its README for where it comes from); its own
# setup.sh pins every package in requirements.txt and self-tests the result.
# Tests use it via HELM_HA_VALIDATE_PY=target/validate-venv/bin/python.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VALIDATE="$ROOT/tests/validate"
VENV="$ROOT/target/validate-venv"
STAMP="$VENV/.helm-ha-requirements.sha256"
PY="${PYTHON:-python3}"

die() { echo "setup-validator: ERROR: $*" >&2; exit 1; }
log() { echo "setup-validator: $*" >&2; }

[ -d "$VALIDATE" ] || die "validator not found at $VALIDATE"
VALIDATE="$(cd "$VALIDATE" && pwd)"
[ -f "$VALIDATE/setup.sh" ] || die "$VALIDATE/setup.sh missing"
[ -f "$VALIDATE/requirements.txt" ] || die "$VALIDATE/requirements.txt missing"
command -v "$PY" >/dev/null 2>&1 || die "python3 not found (set PYTHON=...)"

want_sha="$("$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$VALIDATE/requirements.txt")"

venv_ok() {
  [ -x "$VENV/bin/python" ] || return 1
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_sha" ] || return 1
  "$VENV/bin/python" -c 'import kubernetes_validate, celpy, yaml, jsonschema' >/dev/null 2>&1 || return 1
}

if [ -z "${FORCE:-}" ] && venv_ok; then
  log "venv already works: $VENV"
else
  log "building $VENV (pip install of $VALIDATE/requirements.txt)"
  mkdir -p "$ROOT/target"
  # setup.sh removes and recreates the venv, installs the pinned requirements and self-tests.
  if ! PYTHON="$PY" bash "$VALIDATE/setup.sh" "$VENV" >&2; then
    rm -rf "$VENV"
    die "$VALIDATE/setup.sh failed (needs python >= 3.9 and network access to PyPI)"
  fi
  "$VENV/bin/python" -c 'import kubernetes_validate, celpy, yaml, jsonschema' \
    || die "venv built but the validator's modules do not import"
  echo "$want_sha" >"$STAMP"
fi

# Smoke test: the validator accepts a trivial manifest.
smoke="$(printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke\ndata:\n  a: "1"\n' \
  | "$VENV/bin/python" "$VALIDATE/validate.py" -q - 2>&1)" \
  || die "validator smoke test failed: $smoke"
log "ok: $VENV/bin/python $VALIDATE/validate.py"
