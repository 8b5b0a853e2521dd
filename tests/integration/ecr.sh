# Helpers for tests that log in to "ECR" (sourced after lib.sh): a stand-in
# for AWS's ECR API and container credentials endpoint (fake_ecr.js, which
# checks every Signature Version 4 with the npm package
# @aws-sdk/signature-v4), and a real docker-registry that takes its tokens.
#
# Typical use:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/ecr.sh"
#   make_workdir >/dev/null
#   start_ecr_registry "$WORKDIR/registry"
#   start_fake_ecr "$WORKDIR/ecr" "$ECR_REGISTRY_PASSWORD" "$REGISTRY"
#   AWS_REGION=$FAKE_ECR_REGION AWS_ENDPOINT_URL_ECR=$FAKE_ECR \
#     AWS_ACCESS_KEY_ID=$FAKE_ECR_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FAKE_ECR_SECRET_ACCESS_KEY \
#     "$POLYARCH" login --aws "$REGISTRY"

# shellcheck shell=bash disable=SC2034
# shellcheck source-path=SCRIPTDIR source=../plugins/npm.sh
source "$SOURCE_DIR/tests/plugins/npm.sh"

# The npm packages the fake's signature check needs (installed once).
FAKE_ECR_NPM=("@aws-sdk/signature-v4@3.374.0" "@aws-crypto/sha256-js@5.2.0")

# start_ecr_registry DIR: start_registry DIR htpasswd, plus the user ECR
# tokens name, "AWS", with a generated ECR_REGISTRY_PASSWORD (docker-registry
# reads its htpasswd file again when it changes). Sets what start_registry
# sets, and ECR_REGISTRY_PASSWORD.
start_ecr_registry() {
  local dir=$1
  start_registry "$dir" htpasswd
  ECR_REGISTRY_PASSWORD=$(openssl rand -hex 24)
  htpasswd -Bbn AWS "$ECR_REGISTRY_PASSWORD" >>"$dir/htpasswd" 2>/dev/null \
    || fail "start_ecr_registry: htpasswd could not add the user AWS"
}

# start_fake_ecr DIR PASSWORD [REGISTRY]: starts fake_ecr.js on a free
# loopback port; its GetAuthorizationToken answers base64("AWS:PASSWORD")
# (proxyEndpoint https://REGISTRY). Exits 0 with "SKIP: …" when npm cannot
# install @aws-sdk/signature-v4. Keys and tokens are random, handed to the
# server in DIR/config.json (0600), never on a command line. Sets:
#   FAKE_ECR                  http://127.0.0.1:PORT (AWS_ENDPOINT_URL_ECR)
#   FAKE_ECR_PID, FAKE_ECR_LOG  (one JSON line per request: method, path,
#                             target, keyId, signedHeaders, tokenSent, status, error)
#   FAKE_ECR_REGION           us-east-1, the region requests must be signed for
#   FAKE_ECR_ACCESS_KEY_ID / FAKE_ECR_SECRET_ACCESS_KEY
#                             a long-term key pair (no session token)
#   FAKE_ECR_TEMP_ACCESS_KEY_ID / FAKE_ECR_TEMP_SECRET_ACCESS_KEY / FAKE_ECR_SESSION_TOKEN
#                             temporary credentials: refused without the token
#   FAKE_ECR_CONTAINER_PATH   the container credentials path (…_RELATIVE_URI)
#   FAKE_ECR_CONTAINER_URI    $FAKE_ECR$FAKE_ECR_CONTAINER_PATH (…_FULL_URI)
#   FAKE_ECR_CONTAINER_TOKEN  the Authorization it wants; it answers temporary
#                             credentials of FAKE_ECR_CONTAINER_ACCESS_KEY_ID
#   FAKE_ECR_SECRETS          every secret above, one a line (for leak checks)
start_fake_ecr() {
  local dir=$1 password=$2 registry=${3:-127.0.0.1}
  [[ -n "$_integ_workdir" ]] || fail "start_fake_ecr needs make_workdir first"
  require_tools node openssl
  plugins_npm aws-sigv4 "${FAKE_ECR_NPM[@]}"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  FAKE_ECR_REGION=us-east-1
  FAKE_ECR_ACCESS_KEY_ID=AKIA$(openssl rand -hex 8 | tr a-f A-F)
  FAKE_ECR_SECRET_ACCESS_KEY=$(openssl rand -base64 30)
  FAKE_ECR_TEMP_ACCESS_KEY_ID=ASIA$(openssl rand -hex 8 | tr a-f A-F)
  FAKE_ECR_TEMP_SECRET_ACCESS_KEY=$(openssl rand -base64 30)
  FAKE_ECR_SESSION_TOKEN=$(openssl rand -base64 90 | tr -d '\n')
  FAKE_ECR_CONTAINER_ACCESS_KEY_ID=ASIA$(openssl rand -hex 8 | tr a-f A-F)
  local container_secret container_token
  container_secret=$(openssl rand -base64 30)
  container_token=$(openssl rand -base64 90 | tr -d '\n')
  FAKE_ECR_CONTAINER_PATH=/v2/credentials/$(openssl rand -hex 8)
  FAKE_ECR_CONTAINER_TOKEN=$(openssl rand -hex 20)
  FAKE_ECR_LOG="$dir/requests.log"
  FAKE_ECR_SECRETS="$dir/secrets.txt"
  : >"$FAKE_ECR_LOG"
  (
    umask 077
    python3 - "$dir/config.json" <<PY
import json, sys
json.dump({
  "region": "$FAKE_ECR_REGION", "password": "$password", "registry": "$registry",
  "keys": {
    "$FAKE_ECR_ACCESS_KEY_ID": {"secret": "$FAKE_ECR_SECRET_ACCESS_KEY", "token": ""},
    "$FAKE_ECR_TEMP_ACCESS_KEY_ID": {"secret": "$FAKE_ECR_TEMP_SECRET_ACCESS_KEY", "token": "$FAKE_ECR_SESSION_TOKEN"},
    "$FAKE_ECR_CONTAINER_ACCESS_KEY_ID": {"secret": "$container_secret", "token": "$container_token"}},
  "container": {"path": "$FAKE_ECR_CONTAINER_PATH", "authorization": "$FAKE_ECR_CONTAINER_TOKEN",
                "key": "$FAKE_ECR_CONTAINER_ACCESS_KEY_ID"}}, open(sys.argv[1], "w"))
PY
    printf '%s\n' "$password" "$FAKE_ECR_SECRET_ACCESS_KEY" "$FAKE_ECR_TEMP_SECRET_ACCESS_KEY" \
      "$FAKE_ECR_SESSION_TOKEN" "$container_secret" "$container_token" "$FAKE_ECR_CONTAINER_TOKEN" \
      >"$FAKE_ECR_SECRETS"
  )
  NODE_PATH="$NPM_DIR/node_modules" node "$SOURCE_DIR/tests/integration/fake_ecr.js" \
    --config "$dir/config.json" --log "$FAKE_ECR_LOG" >"$dir/server.out" 2>&1 &
  FAKE_ECR_PID=$!
  _integ_pids+=("$FAKE_ECR_PID")
  _integ_registry_logs+=("$dir/server.out")
  FAKE_ECR="http://$(_integ_wait_listening "$FAKE_ECR_PID" "$dir/server.out" "fake_ecr.js")"
  FAKE_ECR_CONTAINER_URI="$FAKE_ECR$FAKE_ECR_CONTAINER_PATH"
}

# fake_ecr_requests [MARK]: the fake's log lines after line MARK.
fake_ecr_requests() {
  log_since "$FAKE_ECR_LOG" "${1:-0}"
}

# assert_no_fake_ecr_secret WHAT: fails if any secret start_fake_ecr made
# appears in an output run_polyarch kept.
assert_no_fake_ecr_secret() {
  local secret
  while IFS= read -r secret; do
    assert_secret_absent "$secret" "$1"
  done <"$FAKE_ECR_SECRETS"
}
