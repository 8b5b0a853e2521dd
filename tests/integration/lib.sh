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
  # polyarch's own cache (remembered platforms) per test, not the host's.
  export XDG_CACHE_HOME="$WORKDIR/cache"
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

  # Emptied first: the background job opens the log later, and a restarted
  # registry's old "listening on" line would give the old port.
  : >"$REGISTRY_LOG"
  docker-registry serve "$config" >"$REGISTRY_LOG" 2>&1 &
  REGISTRY_PID=$!
  _integ_pids+=("$REGISTRY_PID")
  _integ_registry_logs+=("$REGISTRY_LOG")

  local tries address=""
  for ((tries = 0; tries < 100; tries++)); do
    address=$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9][0-9]*\).*/\1/p' "$REGISTRY_LOG" 2>/dev/null | head -n 1 || true)
    [[ -z "$address" ]] || break
    kill -0 "$REGISTRY_PID" 2>/dev/null || fail "docker-registry exited at start (see $REGISTRY_LOG)"
    sleep 0.1
  done
  [[ -n "$address" ]] || fail "docker-registry did not listen within 10 s (see $REGISTRY_LOG)"
  REGISTRY=$address
}

# ---- Registry test helpers: token-auth registry, polyarch runs, secrets ----

# _integ_wait_listening PID LOG WHAT: waits up to 10 s for "listening on
# 127.0.0.1:PORT" in LOG and prints that address; fails if PID exits first.
_integ_wait_listening() {
  local pid=$1 log=$2 what=$3 tries address=""
  for ((tries = 0; tries < 100; tries++)); do
    address=$(sed -n 's/.*listening on \(127\.0\.0\.1:[0-9][0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n 1 || true)
    [[ -z "$address" ]] || break
    kill -0 "$pid" 2>/dev/null || fail "$what exited at start (see $log)"
    sleep 0.1
  done
  [[ -n "$address" ]] || fail "$what did not listen within 10 s (see $log)"
  echo "$address"
}

# start_token_registry DIR: starts the test's own token server
# (token_server.py) and a plain-HTTP docker-registry with auth.token that
# trusts it, both on free loopback ports, storing into DIR. Users, known to
# the token server only through DIR/token/users.json (mode 0600):
#   TOKEN_USER=tester / TOKEN_PASSWORD         granted pull and push
#   TOKEN_READER=reader / TOKEN_READER_PASSWORD granted pull only
#   anonymous requests get a token that grants nothing.
# Sets:
#   TOKEN_REGISTRY, TOKEN_REGISTRY_PID, TOKEN_REGISTRY_LOG  the registry
#   TOKEN_SERVER (http://127.0.0.1:PORT), TOKEN_REALM (…/token),
#   TOKEN_SERVER_PID, TOKEN_SERVICE, TOKEN_ISSUER
#   TOKEN_SERVER_LOG   one JSON line per token request: account, scopes
#                      requested, access granted, jti, status
#   TOKEN_ISSUED       every token issued, one a line (for leak checks)
start_token_registry() {
  local dir=$1
  [[ -n "$_integ_workdir" ]] || fail "start_token_registry needs make_workdir first"
  require_tools docker-registry openssl python3
  mkdir -p "$dir/data" "$dir/token"
  dir=$(cd "$dir" && pwd)
  local config="$dir/config.yml" token_dir="$dir/token"
  TOKEN_USER=tester
  TOKEN_PASSWORD=$(openssl rand -hex 16)
  TOKEN_READER=reader
  TOKEN_READER_PASSWORD=$(openssl rand -hex 16)
  TOKEN_SERVICE=polyarch-test-registry
  TOKEN_ISSUER=polyarch-test-token-server
  TOKEN_SERVER_LOG="$token_dir/requests.log"
  TOKEN_ISSUED="$token_dir/issued.txt"
  TOKEN_REGISTRY_LOG="$dir/registry.log"
  : >"$TOKEN_SERVER_LOG"
  : >"$TOKEN_ISSUED"

  # The signing certificate doubles as the registry's rootcertbundle.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=polyarch test token signer" \
    -keyout "$token_dir/signing.key" -out "$token_dir/signing.crt" 2>/dev/null \
    || fail "start_token_registry: openssl could not make the signing certificate"
  # Passwords reach the server through a file (printf is a builtin: no argv).
  (
    umask 077
    printf '{"%s": {"password": "%s", "actions": ["pull", "push"]},\n "%s": {"password": "%s", "actions": ["pull"]}}\n' \
      "$TOKEN_USER" "$TOKEN_PASSWORD" "$TOKEN_READER" "$TOKEN_READER_PASSWORD" >"$token_dir/users.json"
  )

  python3 "$SOURCE_DIR/tests/integration/token_server.py" \
    --key "$token_dir/signing.key" --cert "$token_dir/signing.crt" \
    --users "$token_dir/users.json" --issuer "$TOKEN_ISSUER" --service "$TOKEN_SERVICE" \
    --log "$TOKEN_SERVER_LOG" --issued "$TOKEN_ISSUED" >"$token_dir/server.out" 2>&1 &
  TOKEN_SERVER_PID=$!
  _integ_pids+=("$TOKEN_SERVER_PID")
  _integ_registry_logs+=("$token_dir/server.out")
  TOKEN_SERVER="http://$(_integ_wait_listening "$TOKEN_SERVER_PID" "$token_dir/server.out" "token_server.py")"
  TOKEN_REALM="$TOKEN_SERVER/token"

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
    echo "auth:"
    echo "  token:"
    echo "    realm: $TOKEN_REALM"
    echo "    service: $TOKEN_SERVICE"
    echo "    issuer: $TOKEN_ISSUER"
    echo "    rootcertbundle: $token_dir/signing.crt"
  } >"$config"

  : >"$TOKEN_REGISTRY_LOG"  # as in start_registry
  docker-registry serve "$config" >"$TOKEN_REGISTRY_LOG" 2>&1 &
  TOKEN_REGISTRY_PID=$!
  _integ_pids+=("$TOKEN_REGISTRY_PID")
  _integ_registry_logs+=("$TOKEN_REGISTRY_LOG")
  TOKEN_REGISTRY=$(_integ_wait_listening "$TOKEN_REGISTRY_PID" "$TOKEN_REGISTRY_LOG" "docker-registry")
}

# run_polyarch NAME ARGS...: runs $POLYARCH ARGS (stdin passes through) with
# stdout in $WORKDIR/out/NAME.out and stderr in $WORKDIR/out/NAME.err; sets
# RUN_STATUS, RUN_OUT and RUN_ERR (the two file names). Never fails itself.
# Every output lands in $WORKDIR/out, which assert_secret_absent searches.
run_polyarch() {
  [[ -n "$_integ_workdir" ]] || fail "run_polyarch needs make_workdir first"
  local name=$1
  shift
  mkdir -p "$_integ_workdir/out"
  RUN_OUT="$_integ_workdir/out/$name.out"
  RUN_ERR="$_integ_workdir/out/$name.err"
  [[ ! -e "$RUN_OUT" ]] || fail "run_polyarch: the name '$name' is used twice"
  RUN_STATUS=0
  "$POLYARCH" "$@" >"$RUN_OUT" 2>"$RUN_ERR" || RUN_STATUS=$?
}

# expect_success NAME ARGS...: run_polyarch, failing (with its stderr) unless
# it exits 0.
expect_success() {
  run_polyarch "$@"
  if ((RUN_STATUS != 0)); then
    fail "polyarch ${*:2} exited $RUN_STATUS: $(tail -n 5 "$RUN_ERR")"
  fi
}

# expect_failure STATUS NAME ARGS...: run_polyarch, failing unless it exits
# STATUS, prints nothing on stdout, and prints exactly one stderr line
# starting "polyarch: error: " — the only line, or with -v/--verbose among
# ARGS the last one. Sets RUN_ERROR to that line.
expect_failure() {
  local want=$1
  shift
  run_polyarch "$@"
  local what="polyarch ${*:2}" arg verbose=0 errors last
  for arg in "${@:2}"; do
    [[ "$arg" != -v && "$arg" != --verbose ]] || verbose=1
  done
  [[ "$RUN_STATUS" == "$want" ]] \
    || fail "$what: expected exit $want, got $RUN_STATUS: $(tail -n 5 "$RUN_ERR")"
  [[ ! -s "$RUN_OUT" ]] || fail "$what: printed on stdout although it failed: $(head -n 3 "$RUN_OUT")"
  errors=$(grep -c '^polyarch: error: ' "$RUN_ERR" || true)
  last=$(tail -n 1 "$RUN_ERR")
  if ((verbose)); then
    [[ "$errors" == 1 && "$last" == "polyarch: error: "* ]] \
      || fail "$what: expected one 'polyarch: error: …' line last on stderr, got: $(tail -n 5 "$RUN_ERR")"
  else
    [[ "$(wc -l <"$RUN_ERR")" == 1 && "$last" == "polyarch: error: "* ]] \
      || fail "$what: expected one 'polyarch: error: …' line on stderr, got: $(cat "$RUN_ERR")"
  fi
  RUN_ERROR=$last
}

# assert_contains TEXT PART WHAT: fails unless TEXT contains PART.
assert_contains() {
  if [[ "$1" != *"$2"* ]]; then
    fail "$3: expected to contain '$2', got '$1'"
  fi
}

# assert_secret_absent SECRET WHAT: fails if SECRET appears in any output that
# run_polyarch kept ($WORKDIR/out), naming the file but not the secret.
assert_secret_absent() {
  [[ -n "$1" ]] || fail "assert_secret_absent: empty secret for $2"
  local found
  found=$(grep -rlF -e "$1" "$_integ_workdir/out" 2>/dev/null || true)
  [[ -z "$found" ]] || fail "$2 appears in polyarch output: $(echo "$found" | tr '\n' ' ')"
}

# log_mark LOG: prints LOG's current line count, for log_since.
log_mark() {
  wc -l <"$1" | tr -d ' '
}

# log_since LOG MARK: prints LOG's lines after line MARK.
log_since() {
  tail -n "+$(($2 + 1))" "$1"
}

# registry_requests LOG [MARK]: the requests docker-registry LOG's access log
# lines record (after line MARK), one "METHOD URI STATUS" a line, with %3A and
# %2F in the URI decoded to ":" and "/" (e.g. "PUT /v2/a/blobs/uploads/…?digest=sha256:… 201").
registry_requests() {
  log_since "$1" "${2:-0}" \
    | sed -n 's/^127\.0\.0\.1 - - \[[^]]*\] "\([A-Z]*\) \([^ ]*\) HTTP\/[0-9.]*" \([0-9]*\) .*/\1 \2 \3/p' \
    | sed 's/%3[Aa]/:/g; s/%2[Ff]/\//g'
}

# --- binfmt_misc state (QEMU tests) ------------------------------------------

BINFMT_DIR=${BINFMT_DIR:-/proc/sys/fs/binfmt_misc}

# binfmt_save DIR: records whether binfmt_misc is mounted, its global status
# and every handler's entry file under DIR, for binfmt_restore.
binfmt_save() {
  local dir=$1 entry
  mkdir -p "$dir/entries"
  if [[ -e "$BINFMT_DIR/register" ]]; then
    echo 1 >"$dir/mounted"
    cat "$BINFMT_DIR/status" >"$dir/status"
    for entry in "$BINFMT_DIR"/*; do
      case "${entry##*/}" in register | status) continue ;; esac
      cat "$entry" >"$dir/entries/${entry##*/}"
    done
  else
    echo 0 >"$dir/mounted"
  fi
}

# _binfmt_register_saved NAME FILE: registers a handler again from the entry
# file binfmt_save copied, disabled if it was.
_binfmt_register_saved() {
  local name=$1 file=$2 key rest state="" interp="" flags="" offset=0 magic="" mask="" ext="" line
  while read -r key rest; do
    case "$key" in
      enabled | disabled) state=$key ;;
      interpreter) interp=$rest ;;
      flags:) flags=$rest ;;
      offset) offset=$rest ;;
      magic) magic=$(sed 's/../\\x&/g' <<<"$rest") ;;
      mask) mask=$(sed 's/../\\x&/g' <<<"$rest") ;;
      extension) ext=${rest#.} ;;
    esac
  done <"$file"
  if [[ -n "$ext" ]]; then
    line=":$name:E::$ext::$interp:$flags"
  else
    line=":$name:M:$offset:$magic:$mask:$interp:$flags"
  fi
  printf '%s' "$line" >"$BINFMT_DIR/register" || echo "WARN: cannot restore handler $name" >&2
  if [[ "$state" == disabled && -e "$BINFMT_DIR/$name" ]]; then echo 0 >"$BINFMT_DIR/$name"; fi
}

# binfmt_restore DIR: puts binfmt_misc back as binfmt_save found it: removes
# handlers that are new or changed, registers again the ones that went
# away, restores the global status, and unmounts it if it was not mounted.
binfmt_restore() {
  local dir=$1 entry name
  [[ -f "$dir/mounted" ]] || return 0
  if [[ -e "$BINFMT_DIR/register" ]]; then
    for entry in "$BINFMT_DIR"/*; do
      name=${entry##*/}
      case "$name" in register | status) continue ;; esac
      if [[ -f "$dir/entries/$name" ]] && cmp -s "$entry" "$dir/entries/$name"; then continue; fi
      echo -1 >"$entry" 2>/dev/null || echo "WARN: cannot remove handler $name" >&2
    done
    for entry in "$dir/entries"/*; do
      [[ -f "$entry" ]] || continue
      name=${entry##*/}
      [[ -e "$BINFMT_DIR/$name" ]] || _binfmt_register_saved "$name" "$entry"
    done
    if [[ -f "$dir/status" ]]; then
      if [[ "$(cat "$dir/status")" == enabled ]]; then echo 1; else echo 0; fi >"$BINFMT_DIR/status"
    fi
    if [[ "$(cat "$dir/mounted")" == 0 ]]; then
      umount "$BINFMT_DIR" || echo "WARN: cannot unmount $BINFMT_DIR" >&2
    fi
  fi
}

# binfmt_snapshot: prints every handler's entry file (name, then contents),
# so a test can compare the state before and after.
binfmt_snapshot() {
  local entry
  [[ -e "$BINFMT_DIR/register" ]] || { echo "not mounted"; return 0; }
  echo "status $(cat "$BINFMT_DIR/status")"
  for entry in "$BINFMT_DIR"/*; do
    case "${entry##*/}" in register | status) continue ;; esac
    echo "== ${entry##*/}"
    cat "$entry"
  done
}

# --- Builder end-to-end (buildah / podman backends) ---------------------------

# builder_skip_unless_ready TOOL: exits 0 with "SKIP …" unless we are root,
# TOOL is installed and binfmt_misc can be mounted (QEMU needs it).
builder_skip_unless_ready() {
  local tool=$1
  if ((EUID != 0)); then echo "SKIP: not root: $tool builds as root here"; exit 0; fi
  command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 0; }
  if [[ ! -e "$BINFMT_DIR/register" ]]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" 2>/dev/null \
      || { echo "SKIP: binfmt_misc cannot be mounted on $BINFMT_DIR"; exit 0; }
    umount "$BINFMT_DIR"
  fi
}

# builder_emulation_setup: `polyarch emulate` for linux/arm64 and linux/arm/v7,
# after saving binfmt_misc and polyarch's handler state; the EXIT trap puts
# both back exactly as they were. Call after make_workdir.
builder_emulation_setup() {
  local state=/run/polyarch/binfmt-handlers
  _builder_saved=$(mktemp -d "${TMPDIR:-/tmp}/polyarch-binfmt-saved.XXXXXX")
  binfmt_save "$_builder_saved"
  [[ ! -f "$state" ]] || cp "$state" "$_builder_saved/state-file"
  trap 'status=$?; set +e; _builder_emulation_restore; (exit $status); _integ_cleanup' EXIT
  "$POLYARCH" emulate --platform linux/arm64,linux/arm/v7 >"$WORKDIR/emulate.out" 2>&1 \
    || fail "polyarch emulate --platform linux/arm64,linux/arm/v7 exited $?: $(tail -n 3 "$WORKDIR/emulate.out")"
}

_builder_emulation_restore() {
  local state=/run/polyarch/binfmt-handlers
  "$POLYARCH" emulate --uninstall --platform linux/arm64,linux/arm/v7 >/dev/null 2>&1 || true
  binfmt_restore "$_builder_saved"
  rm -f "$state"
  [[ ! -f "$_builder_saved/state-file" ]] || cp "$_builder_saved/state-file" "$state"
  rm -rf -- "$_builder_saved"
}

# builder_make_context DIR: a build context whose Dockerfile copies the
# static binaries for $TARGETARCH$TARGETVARIANT (amd64, arm64, armv7) and
# runs one of them (RUN in exec form: no shell in the image). /mkfile writes
# /built-by = "built on linux/<arch it was compiled for>", so the file's
# content proves the RUN step executed that platform's binary; /hello prints
# "hello from linux/<arch>".
builder_make_context() {
  local dir=$1 arch
  require_tools gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc
  mkdir -p "$dir/src"
  bash "$SOURCE_DIR/examples/hello/build.sh" "$dir/src/hello" >/dev/null \
    || fail "examples/hello/build.sh failed"
  cat >"$dir/src/mkfile.c" <<'C'
#include <stdio.h>
#if defined(__x86_64__)
#define ARCH "amd64"
#elif defined(__aarch64__)
#define ARCH "arm64"
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH == 7
#define ARCH "arm/v7"
#else
#define ARCH "unknown"
#endif
int main(void) {
  FILE* f = fopen("/built-by", "w");
  if (f == NULL || fputs("built on linux/" ARCH "\n", f) < 0 || fclose(f) != 0) return 1;
  puts("mkfile ran as linux/" ARCH);
  return 0;
}
C
  mkdir -p "$dir/ctx/bin/amd64" "$dir/ctx/bin/arm64" "$dir/ctx/bin/armv7"
  gcc -static -O2 -s -o "$dir/ctx/bin/amd64/mkfile" "$dir/src/mkfile.c"
  aarch64-linux-gnu-gcc -static -O2 -s -o "$dir/ctx/bin/arm64/mkfile" "$dir/src/mkfile.c"
  arm-linux-gnueabihf-gcc -static -O2 -s -o "$dir/ctx/bin/armv7/mkfile" "$dir/src/mkfile.c"
  cp "$dir/src/hello/amd64/hello" "$dir/ctx/bin/amd64/hello"
  cp "$dir/src/hello/arm64/hello" "$dir/ctx/bin/arm64/hello"
  cp "$dir/src/hello/arm-v7/hello" "$dir/ctx/bin/armv7/hello"
  cat >"$dir/ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
ARG TARGETARCH
ARG TARGETVARIANT
COPY bin/${TARGETARCH}${TARGETVARIANT}/ /
RUN ["/mkfile"]
ENTRYPOINT ["/hello"]
DOCKERFILE
}

# builder_check_index FILE PLATFORM…: fails unless the index in FILE lists
# exactly these platforms, once each, and prints "PLATFORM DIGEST" lines.
builder_check_index() {
  local file=$1
  shift
  python3 - "$file" "$@" <<'PY' || fail "index $file does not list exactly: $*"
import json, sys
index = json.load(open(sys.argv[1], "rb"))
assert index.get("mediaType") in ("application/vnd.oci.image.index.v1+json",
                                  "application/vnd.docker.distribution.manifest.list.v2+json"), index.get("mediaType")
found = {}
for entry in index["manifests"]:
    p = entry["platform"]
    name = "/".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x)
    assert name not in found, "twice: " + name
    found[name] = entry["digest"]
want = sys.argv[2:]
if sorted(found) != sorted(want):
    sys.exit("platforms %s, expected %s" % (sorted(found), sorted(want)))
for name in want:
    print(name, found[name])
PY
}

# builder_check_image DIR PLATFORM: DIR is a skopeo dir: copy of one
# platform's image. Fails unless its config names PLATFORM, its /built-by says
# "built on PLATFORM" (the RUN step ran that platform's binary) and its
# /hello, run natively or under qemu-ARCH-static, prints "hello from PLATFORM".
builder_check_image() {
  local dir=$1 platform=$2 rootfs="$1/rootfs" layer config arch variant qemu=""
  config=$(json_field "$dir/manifest.json" config.digest)
  arch=$(json_field "$dir/${config#sha256:}" architecture)
  variant=$(json_field "$dir/${config#sha256:}" variant)
  assert_eq "$platform" "linux/$arch${variant:+/$variant}" "config platform of $platform"
  mkdir -p "$rootfs"
  for layer in $(python3 -c 'import json,sys; [print(l["digest"].split(":")[1]) for l in json.load(open(sys.argv[1]))["layers"]]' "$dir/manifest.json"); do
    tar -xzf "$dir/$layer" -C "$rootfs" || fail "cannot extract layer $layer of $platform"
  done
  [[ -f "$rootfs/built-by" ]] || fail "$platform image has no /built-by: the RUN step left nothing"
  assert_eq "built on $platform" "$(cat "$rootfs/built-by")" "/built-by of $platform"
  case "$platform" in
    linux/arm64) qemu=qemu-aarch64-static ;;
    linux/arm/v7) qemu=qemu-arm-static ;;
  esac
  assert_eq "hello from $platform" "$($qemu "$rootfs/hello")" "/hello of $platform run ${qemu:-natively}"
}

# builder_e2e BACKEND: the end-to-end test of one builder backend (buildah,
# podman): a three-platform build with RUN under QEMU pushed to a real
# registry and checked with skopeo; the same build into an OCI archive; a
# failing arm64 build that names the platform and the builder's error.
builder_e2e() {
  local backend=$1 platforms=linux/amd64,linux/arm64,linux/arm/v7 digest line p child
  require_polyarch
  require_tools skopeo docker-registry python3 tar sha256sum qemu-aarch64-static qemu-arm-static
  make_workdir >/dev/null
  local w=$WORKDIR
  builder_emulation_setup
  builder_make_context "$w"
  # start_registry reads its log in a loop under pipefail and may look before
  # the registry's shell has created it: make it first.
  mkdir -p "$w/registry"
  : >"$w/registry/registry.log"
  start_registry "$w/registry"

  # 1. Build and push: stdout is the index digest, which the registry serves.
  expect_success push build "$w/ctx" --platform "$platforms" --backend "$backend" \
    --tag "$REGISTRY/app:1" --push --summary "$w/summary.md"
  digest=$(head -n 1 "$RUN_OUT")
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "build --push printed '$digest', not an index digest"
  run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/app:1" >"$w/index.json" \
    || fail "skopeo inspect --raw docker://$REGISTRY/app:1 exited $?"
  assert_eq "$digest" "sha256:$(sha256sum <"$w/index.json" | cut -d' ' -f1)" "digest of the pushed index"
  builder_check_index "$w/index.json" linux/amd64 linux/arm64 linux/arm/v7 >"$w/children.txt"
  builder_check_summary "$w/summary.md" "$digest" "$REGISTRY/app:1" "$w/children.txt"

  # 2. Each platform's image holds its own binaries, and its RUN step ran them.
  mkdir -p "$w/img"
  while read -r p child; do
    run_skopeo copy --src-tls-verify=false "docker://$REGISTRY/app@$child" "dir:$w/img/${p//\//-}" \
      >/dev/null || fail "skopeo copy of $p ($child) exited $?"
    builder_check_image "$w/img/${p//\//-}" "$p"
  done <"$w/children.txt"

  # 3. The same build into an OCI archive holds the same three platforms.
  expect_success archive build "$w/ctx" --platform "$platforms" --backend "$backend" \
    --tag app:1 --output "oci:$w/app.oci.tar"
  run_skopeo inspect --raw "oci-archive:$w/app.oci.tar" >"$w/archive-index.json" \
    || fail "skopeo inspect --raw oci-archive:$w/app.oci.tar exited $?"
  builder_check_index "$w/archive-index.json" linux/amd64 linux/arm64 linux/arm/v7 >/dev/null

  # 4. A RUN step that fails under emulation names the platform and the error.
  mkdir -p "$w/bad"
  printf 'FROM scratch\nRUN ["/no-such-program"]\n' >"$w/bad/Dockerfile"
  expect_failure 1 bad --quiet build "$w/bad" --platform linux/arm64 --backend "$backend" \
    --tag "$REGISTRY/bad:1" --push
  assert_contains "$RUN_ERROR" "build for linux/arm64 failed ($backend exit 1): " "error of a failed build"
  assert_contains "$RUN_ERROR" 'Error: building at STEP "RUN /no-such-program": exit status 1' \
    "error of a failed build"
  if run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/bad:1" >/dev/null 2>&1; then
    fail "a failed build pushed $REGISTRY/bad:1"
  fi

  # 5. One platform failing stops the others at once and pushes nothing.
  builder_failing_leg "$w" "$backend"
}

# builder_check_summary FILE INDEX_DIGEST TAG CHILDREN: the --summary report
# names the index and tag, and has one row per child ("PLATFORM DIGEST"
# lines) saying how it was built, and a Gantt chart with one section each.
builder_check_summary() {
  local file=$1 digest=$2 tag=$3 children=$4 p child mode
  [[ -s "$file" ]] || fail "build --summary wrote nothing to $file"
  assert_contains "$(head -n 3 "$file")" "Index \`$digest\` tagged \`$tag\`." "summary header"
  while read -r p child; do
    mode=emulated
    [[ "$p" == linux/amd64 ]] && mode=native
    grep -Eq "^\| $p \| \`$child\` \| [0-9.]+ (B|KiB|MiB) \| ([0-9.]+ s|[0-9]+ min [0-9]+ s) \| $mode \|$" "$file" \
      || fail "summary has no row for $p ($child, $mode): $(cat "$file")"
    grep -qx "  section $p" "$file" || fail "summary's Gantt chart has no section for $p"
  done <"$children"
  grep -qx '```mermaid' "$file" || fail "summary has no Mermaid chart"
}

# builder_failing_leg DIR BACKEND: linux/amd64's RUN sleeps two minutes while
# linux/arm64's fails at once: the build must fail within 60 s naming
# linux/arm64 and its error, leave no sleeping RUN behind, and push no tag.
builder_failing_leg() {
  local w=$1 backend=$2 started elapsed
  mkdir -p "$w/slow/bin/amd64" "$w/slow/bin/arm64"
  printf '#include <unistd.h>\nint main(void) { sleep(120); return 0; }\n' >"$w/slow/sleeper.c"
  printf '#include <stdio.h>\nint main(void) { fputs("disk on fire\\n", stderr); return 3; }\n' >"$w/slow/fail.c"
  gcc -static -O2 -s -o "$w/slow/bin/amd64/polyarch-sleeper" "$w/slow/sleeper.c"
  aarch64-linux-gnu-gcc -static -O2 -s -o "$w/slow/bin/arm64/polyarch-sleeper" "$w/slow/fail.c"
  rm "$w/slow/sleeper.c" "$w/slow/fail.c"
  printf 'FROM scratch\nARG TARGETARCH\nCOPY bin/${TARGETARCH}/ /\nRUN ["/polyarch-sleeper"]\n' >"$w/slow/Dockerfile"
  started=$SECONDS
  expect_failure 1 slow --quiet build "$w/slow" --platform linux/amd64,linux/arm64 --jobs 2 \
    --backend "$backend" --tag "$REGISTRY/slow:1" --push
  elapsed=$((SECONDS - started))
  ((elapsed < 60)) || fail "a failed linux/arm64 build took ${elapsed}s to stop linux/amd64's"
  assert_eq "$RUN_ERROR" "polyarch: error: build for linux/arm64 failed ($backend exit 3): disk on fire | subprocess exited with status 3 | Error: building at STEP \"RUN /polyarch-sleeper\": exit status 3" \
    "error of a failed leg"
  sleep 1
  if pgrep -x polyarch-sleeper >/dev/null; then
    fail "linux/amd64's RUN is still running after the build failed: $(pgrep -a -x polyarch-sleeper)"
  fi
  if run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/slow:1" >/dev/null 2>&1; then
    fail "a failed build pushed $REGISTRY/slow:1"
  fi
}

# --- Docker engine of the test's own (docker backend) ------------------------

# start_dockerd DIR: starts Debian's dockerd with its data, exec root, pid file
# and socket under DIR (no bridge, no iptables rules: the host's network is
# left alone; polyarch then builds with --network host), logging to
# DIR/dockerd.log, and waits up to 20 s for it to answer. Its PID is stopped
# (SIGTERM, then wait) at exit. Exports DOCKER_HOST=unix://DIR/docker.sock;
# sets DOCKERD_PID and DOCKERD_LOG.
start_dockerd() {
  local dir=$1 tries
  [[ -n "$_integ_workdir" ]] || fail "start_dockerd needs make_workdir first"
  require_tools dockerd /usr/bin/docker
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  DOCKERD_LOG="$dir/dockerd.log"
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" --bridge=none --iptables=false >"$DOCKERD_LOG" 2>&1 &
  DOCKERD_PID=$!
  _integ_pids+=("$DOCKERD_PID")
  _integ_registry_logs+=("$DOCKERD_LOG")
  export DOCKER_HOST="unix://$dir/docker.sock"
  for ((tries = 0; tries < 100; tries++)); do
    /usr/bin/docker version >/dev/null 2>&1 && return 0
    kill -0 "$DOCKERD_PID" 2>/dev/null || fail "dockerd exited at start (see $DOCKERD_LOG)"
    sleep 0.2
  done
  fail "dockerd did not answer within 20 s (see $DOCKERD_LOG)"
}
