# Shell helpers for faultproxy.py (sourced after tests/integration/lib.sh).
# shellcheck shell=bash disable=SC2034

# start_memory_registry DIR: like lib.sh's start_registry (plain HTTP, no
# auth) but storing in memory: a test that writes hundreds of repositories
# then leaves nothing to delete (thousands of files take a minute to remove
# on some disks). Sets REGISTRY, REGISTRY_PID and REGISTRY_LOG (DIR/registry.log).
start_memory_registry() {
  local dir=$1
  [[ -n "$_integ_workdir" ]] || fail "start_memory_registry needs make_workdir first"
  mkdir -p "$dir"
  REGISTRY_LOG="$dir/registry.log"
  : >"$REGISTRY_LOG"
  printf '%s\n' "version: 0.1" "log:" "  level: info" "  formatter: text" "storage:" \
    "  inmemory: {}" "  delete:" "    enabled: true" "http:" "  addr: 127.0.0.1:0" \
    "  secret: $(openssl rand -hex 16)" >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$REGISTRY_LOG" 2>&1 &
  REGISTRY_PID=$!
  _integ_pids+=("$REGISTRY_PID")
  _integ_registry_logs+=("$REGISTRY_LOG")
  REGISTRY=$(_integ_wait_listening "$REGISTRY_PID" "$REGISTRY_LOG" "docker-registry")
}

# start_faultproxy UPSTREAM DIR [ARGS…]: starts faultproxy.py in front of
# the registry at UPSTREAM (host:port) with ARGS (--seed, --rate, --faults,
# --stall, --retry-after), logging one JSON line per request to
# DIR/requests.jsonl, and waits for it to listen. Sets FAULTPROXY
# (127.0.0.1:PORT), FAULTPROXY_PID (stopped at exit) and FAULTPROXY_LOG.
start_faultproxy() {
  local upstream=$1 dir=$2
  shift 2
  [[ -n "$_integ_workdir" ]] || fail "start_faultproxy needs make_workdir first"
  mkdir -p "$dir"
  FAULTPROXY_LOG="$dir/requests.jsonl"
  : >"$dir/proxy.out"
  python3 "$SOURCE_DIR/tests/faultproxy/faultproxy.py" --upstream "$upstream" \
    --log "$FAULTPROXY_LOG" "$@" >"$dir/proxy.out" 2>&1 &
  FAULTPROXY_PID=$!
  _integ_pids+=("$FAULTPROXY_PID")
  _integ_registry_logs+=("$dir/proxy.out")
  FAULTPROXY=$(_integ_wait_listening "$FAULTPROXY_PID" "$dir/proxy.out" "faultproxy.py")
}

# faultproxy_config JSON: merges JSON into the proxy's settings, e.g.
# '{"rate": 0}' or '{"hold_uploads_after": 2}'; fails on a refusal.
faultproxy_config() {
  curl -fsS -X POST --data-binary "$1" "http://$FAULTPROXY/_faultproxy/config" >/dev/null \
    || fail "faultproxy refused the settings $1"
}

# faultproxy_reset: zeroes the proxy's counters.
faultproxy_reset() {
  curl -fsS -X POST "http://$FAULTPROXY/_faultproxy/reset" >/dev/null \
    || fail "faultproxy did not reset its counters"
}

# faultproxy_counters FILE: writes the proxy's counters (JSON) to FILE.
faultproxy_counters() {
  curl -fsS "http://$FAULTPROXY/_faultproxy/counters" >"$1" \
    || fail "faultproxy did not answer for its counters"
}

# faultproxy_count FILE KEY: one counter of FILE (e.g. "requests.PUT blob-upload"),
# 0 when absent.
faultproxy_count() {
  python3 - "$1" "$2" <<'PY'
import json, sys
table, _, key = sys.argv[2].partition(".")
value = json.load(open(sys.argv[1]))[table]
print(len(value) if isinstance(value, list) else value.get(key, 0) if isinstance(value, dict) else value)
PY
}

# faultproxy_wait_for KEY N WHAT: waits up to 20 s for counter KEY (as for
# faultproxy_count) to reach N; fails naming WHAT otherwise.
faultproxy_wait_for() {
  local tries file="$_integ_workdir/.faultproxy-counters.json"
  for ((tries = 0; tries < 200; tries++)); do
    faultproxy_counters "$file"
    (($(faultproxy_count "$file" "$1") >= $2)) && return 0
    sleep 0.1
  done
  fail "$3: the proxy's $1 did not reach $2 within 20 s (it is $(faultproxy_count "$file" "$1"))"
}
