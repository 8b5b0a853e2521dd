# Shared helpers for the integration tests (sourced, not run).
#
# Environment (ctest sets both; set them by hand to run a test alone):
#   POLYARCH    path to the polyarch binary under test
#   SOURCE_DIR  the repository root (defaults to the checkout holding this file)
#   KEEP_WORKDIR=1 keeps the work directory after the test, for debugging.
#
# Typical use:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   make_workdir >/dev/null; W=$WORKDIR
#   start_registry "$W/registry" tls htpasswd
#   run_skopeo inspect --cert-dir "$REGISTRY_CERT_DIR" \
#     --creds "tester:$REGISTRY_PASSWORD" "docker://$REGISTRY/x:1"

# The REGISTRY* and WORKDIR variables are set here for the sourcing test.
# shellcheck shell=bash disable=SC2034
set -euo pipefail

SOURCE_DIR=${SOURCE_DIR:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"}

_integ_pids=()
_integ_workdir=""
_integ_registry_logs=()

# fail MSG: prints "FAIL: MSG" on stderr and exits 1.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# assert_eq EXPECTED ACTUAL WHAT: fails unless the two strings are equal.
assert_eq() {
  if [[ "$1" != "$2" ]]; then
    fail "$3: expected '$1', got '$2'"
  fi
}

# assert_same_file EXPECTED_FILE ACTUAL_FILE WHAT: fails unless byte-identical.
assert_same_file() {
  if ! cmp -s -- "$1" "$2"; then
    fail "$3: $1 and $2 differ ($(cmp -- "$1" "$2" 2>&1 | head -n 1))"
  fi
}

# require_tools CMD...: fails naming every command missing from PATH.
require_tools() {
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    fail "missing tools: ${missing[*]} (see tests/integration/README.md)"
  fi
}

# require_polyarch: fails unless $POLYARCH names an executable file.
require_polyarch() {
  [[ -n "${POLYARCH:-}" ]] || fail "POLYARCH is not set: point it at the polyarch binary"
  [[ -x "$POLYARCH" ]] || fail "POLYARCH '$POLYARCH' is not an executable file"
}

# Reports the failing top-level command (set -e alone exits silently).
_integ_on_error() {
  local status=$? line=$1
  echo "FAIL: ${BASH_SOURCE[1]:-$0}:$line: command exited $status: $BASH_COMMAND" >&2
}
trap '_integ_on_error $LINENO' ERR

# Stops every process the helpers started (kill, then wait), shows the tail
# of each registry log when the test failed, and removes the work directory.
_integ_cleanup() {
  local status=$? pid log
  for pid in "${_integ_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((status != 0)); then
    for log in "${_integ_registry_logs[@]}"; do
      [[ -f "$log" ]] || continue
      echo "--- last lines of $log (access log lines left out):" >&2
      grep -v '^127\.0\.0\.1 - - ' "$log" | tail -n 12 >&2 || true
    done
  fi
  if [[ -n "$_integ_workdir" ]]; then
    if [[ "${KEEP_WORKDIR:-}" == 1 ]]; then
      echo "kept work directory $_integ_workdir" >&2
    else
      rm -rf -- "$_integ_workdir"
    fi
  fi
  exit "$status"
}

# make_workdir: creates a temp dir, sets WORKDIR and prints it, and registers
# the EXIT trap that stops started processes and removes the dir. Call it
# directly, not as $(make_workdir): in a subshell the trap would fire at once.
make_workdir() {
  if ((BASH_SUBSHELL > 0)); then
    fail "make_workdir must not run in a subshell: call it, then use \$WORKDIR"
  fi
  [[ -z "$_integ_workdir" ]] || fail "make_workdir called twice"
  _integ_workdir=$(mktemp -d "${TMPDIR:-/tmp}/polyarch-integ.XXXXXX")
  WORKDIR=$_integ_workdir
  trap _integ_cleanup EXIT
  # A signature policy of our own, so skopeo ignores the host's.
  printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$WORKDIR/policy.json"
  echo "$WORKDIR"
}

# run_skopeo ARGS...: skopeo with the work directory's permissive policy.
run_skopeo() {
  [[ -n "$_integ_workdir" ]] || fail "run_skopeo needs make_workdir first"
  skopeo --policy "$_integ_workdir/policy.json" "$@"
}

# json_field FILE PATH: prints the value at a dotted PATH ("config.digest",
# "layers.0.digest") of a JSON file: strings raw, other values as compact
# JSON, nothing when the key is absent. Fails when FILE is not JSON.
json_field() {
  python3 - "$1" "$2" <<'PY' || fail "json_field: cannot read '$2' from $1"
import json, sys
with open(sys.argv[1], "rb") as f:
    value = json.load(f)
for key in sys.argv[2].split("."):
    if isinstance(value, list) and key.isdigit() and int(key) < len(value):
        value = value[int(key)]
    elif isinstance(value, dict) and key in value:
        value = value[key]
    else:
        sys.exit(0)
if isinstance(value, str):
    print(value)
else:
    print(json.dumps(value, separators=(",", ":"), sort_keys=True))
PY
}

# start_registry DIR [tls] [htpasswd]: starts docker-registry (distribution
# 2.8) storing into DIR/data on a free loopback port, logging to
# DIR/registry.log, and waits up to 10 s for it to listen. Sets:
#   REGISTRY          host:port, e.g. 127.0.0.1:41234
#   REGISTRY_PID      the registry's process id (stopped at exit)
#   REGISTRY_LOG      DIR/registry.log
# with "tls":      REGISTRY_CERT_DIR=DIR/certs (ca.crt for skopeo --cert-dir)
#                  and REGISTRY_CA=DIR/certs/ca.crt; the server cert is
#                  self-signed for IP:127.0.0.1 and DNS:localhost.
# with "htpasswd": REGISTRY_USER=tester and a generated REGISTRY_PASSWORD.
# Without "tls", REGISTRY_CERT_DIR and REGISTRY_CA are empty; without
# "htpasswd", REGISTRY_USER and REGISTRY_PASSWORD are empty.
start_registry() {
  local dir=$1 tls=0 auth=0 option
  shift
  for option in "$@"; do
    case "$option" in
      tls) tls=1 ;;
      htpasswd) auth=1 ;;
      *) fail "start_registry: unknown option '$option' (want tls, htpasswd)" ;;
    esac
  done
  [[ -n "$_integ_workdir" ]] || fail "start_registry needs make_workdir first"
  require_tools docker-registry
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  local config="$dir/config.yml"
  REGISTRY_LOG="$dir/registry.log"
  REGISTRY_CERT_DIR=""
  REGISTRY_CA=""
  REGISTRY_USER=""
  REGISTRY_PASSWORD=""

  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: info"
    echo "  formatter: text"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $dir/data"
    echo "  delete:"
    echo "    enabled: true"
    echo "http:"
    echo "  addr: 127.0.0.1:0"
    echo "  secret: $(openssl rand -hex 16)"
  } >"$config"

  if ((tls)); then
    require_tools openssl
    # The key stays out of certs/: skopeo reads every *.key there as a
    # client key and wants a matching *.cert.
    mkdir -p "$dir/certs" "$dir/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$dir/tls/server.key" -out "$dir/tls/server.crt" 2>/dev/null \
      || fail "start_registry: openssl could not make a certificate"
    cp "$dir/tls/server.crt" "$dir/certs/ca.crt"
    REGISTRY_CERT_DIR="$dir/certs"
    REGISTRY_CA="$dir/certs/ca.crt"
    {
      echo "  tls:"
      echo "    certificate: $dir/tls/server.crt"
      echo "    key: $dir/tls/server.key"
    } >>"$config"
  fi

  if ((auth)); then
    require_tools htpasswd openssl
    REGISTRY_USER=tester
    REGISTRY_PASSWORD=$(openssl rand -hex 16)
    htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" >"$dir/htpasswd" 2>/dev/null \
      || fail "start_registry: htpasswd could not write $dir/htpasswd"
    {
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: polyarch-test"
      echo "    path: $dir/htpasswd"
    } >>"$config"
  fi

  docker-registry serve "$config" >"$REGISTRY_LOG" 2>&1 &
  REGISTRY_PID=$!
  _integ_pids+=("$REGISTRY_PID")
  _integ_registry_logs+=("$REGISTRY_LOG")

  local tries address=""
  for ((tries = 0; tries < 100; tries++)); do
    address=$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9][0-9]*\).*/\1/p' "$REGISTRY_LOG" | head -n 1)
    [[ -z "$address" ]] || break
    kill -0 "$REGISTRY_PID" 2>/dev/null || fail "docker-registry exited at start (see $REGISTRY_LOG)"
    sleep 0.1
  done
  [[ -n "$address" ]] || fail "docker-registry did not listen within 10 s (see $REGISTRY_LOG)"
  REGISTRY=$address
}
