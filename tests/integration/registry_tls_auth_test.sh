#!/usr/bin/env bash
# polyarch against a TLS (self-signed CA) + htpasswd docker-registry: login
# (wrong password refused and nothing saved; right password saved 0600 in
# $DOCKER_CONFIG/config.json), push/copy/manifest inspect/manifest create with
# --ca-cert, the unknown-CA error without it, --insecure-registry and
# SSL_CERT_FILE, DOCKER_AUTH_CONFIG, logout, and the authentication-required
# error after it. Every polyarch command runs at -v, and at the end no output
# may hold the password (or its base64 form).
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/registry_tls_auth_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools skopeo docker-registry openssl htpasswd python3 sha256sum cmp base64 stat \
  gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc
make_workdir >/dev/null
W=$WORKDIR
export DOCKER_CONFIG="$W/docker-config"
unset DOCKER_AUTH_CONFIG SSL_CERT_FILE
mkdir -p "$DOCKER_CONFIG"
CONFIG_JSON="$DOCKER_CONFIG/config.json"

# digest_of FILE: "sha256:<hex>" of the file's bytes.
digest_of() {
  echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
}

# skopeo_raw REF OUT: the registry's manifest bytes for REF (skopeo, with
# the CA and the login; skopeo takes them on its command line).
skopeo_raw() {
  run_skopeo inspect --raw --cert-dir "$REGISTRY_CERT_DIR" --creds "$USER_NAME:$PASSWORD" \
    "docker://$1" >"$2" || fail "skopeo inspect --raw docker://$1 exited $?"
}

# tag_absent REF WHAT: fails when skopeo finds REF.
tag_absent() {
  if run_skopeo inspect --raw --cert-dir "$REGISTRY_CERT_DIR" --creds "$USER_NAME:$PASSWORD" \
    "docker://$1" >/dev/null 2>&1; then
    fail "$2: $1 exists"
  fi
}

# saved_login: prints "user:password" as config.json's auths[$R] holds it.
saved_login() {
  python3 - "$CONFIG_JSON" "$R" <<'PY'
import base64, json, sys
entry = json.load(open(sys.argv[1])).get("auths", {}).get(sys.argv[2], {})
print(base64.b64decode(entry.get("auth", "")).decode())
PY
}

# 1. The image and the registry.
bash "$SOURCE_DIR/examples/hello/build.sh" "$W/bin" >/dev/null || fail "examples/hello/build.sh failed"
"$POLYARCH" assemble \
  --platform "linux/amd64=$W/bin/amd64/hello" \
  --platform "linux/arm64=$W/bin/arm64/hello" \
  --platform "linux/arm/v7=$W/bin/arm-v7/hello" \
  --entrypoint /hello --tag hello:1.0 --output "oci:$W/hello.oci.tar" >/dev/null \
  || fail "polyarch assemble exited $?"
"$POLYARCH" manifest inspect --raw "oci:$W/hello.oci.tar" >"$W/index.json" \
  || fail "polyarch manifest inspect --raw oci:$W/hello.oci.tar exited $?"
INDEX_DIGEST=$(digest_of "$W/index.json")

start_registry "$W/registry" tls htpasswd
R=$REGISTRY
CA=$REGISTRY_CA
USER_NAME=$REGISTRY_USER
PASSWORD=$REGISTRY_PASSWORD
WRONG_PASSWORD=$(openssl rand -hex 16)
AUTH_B64=$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)

# 2. Nothing works before login: authentication is required.
expect_failure 1 push-anonymous push -v --ca-cert "$CA" "oci:$W/hello.oci.tar" "$R/hello:1.0"
assert_contains "$RUN_ERROR" "$R" "anonymous push message"
[[ "$RUN_ERROR" =~ [Aa]uthentication.*required ]] \
  || fail "anonymous push: expected 'authentication … required', got '$RUN_ERROR'"
tag_absent "$R/hello:1.0" "after a refused anonymous push"

# 3. login with a wrong password: exit 1, one line, nothing saved.
expect_failure 1 login-wrong login -v --ca-cert "$CA" "$R" -u "$USER_NAME" --password-stdin \
  <<<"$WRONG_PASSWORD"
assert_contains "$RUN_ERROR" "$R" "wrong-password login message"
if [[ -e "$CONFIG_JSON" ]] && grep -qF "$R" "$CONFIG_JSON"; then
  fail "a refused login saved an entry for $R in $CONFIG_JSON"
fi

# 4. login with the right password: config.json (0600) holds it for the host.
expect_success login login -v --ca-cert "$CA" "$R" -u "$USER_NAME" --password-stdin <<<"$PASSWORD"
[[ -f "$CONFIG_JSON" ]] || fail "login wrote no $CONFIG_JSON"
assert_eq 600 "$(stat -c %a "$CONFIG_JSON")" "mode of $CONFIG_JSON"
[[ "$(saved_login)" == "$USER_NAME:$PASSWORD" ]] \
  || fail "auths[\"$R\"] in $CONFIG_JSON does not hold the login"

# 5. Without --ca-cert the self-signed CA is unknown: exit 1, one line.
expect_failure 1 inspect-unknown-ca manifest inspect -v "$R/hello:1.0"
assert_contains "$RUN_ERROR" "$R" "unknown-CA message"
assert_contains "$RUN_ERROR" "--ca-cert" "unknown-CA message (what to do)"
expect_failure 1 push-unknown-ca push -v "oci:$W/hello.oci.tar" "$R/hello:1.0"
assert_contains "$RUN_ERROR" "$R" "unknown-CA message of push"
tag_absent "$R/hello:1.0" "after a push that did not trust the registry"

# 6. With --ca-cert: push, inspect, copy, manifest create.
expect_success push push -v --ca-cert "$CA" "oci:$W/hello.oci.tar" "$R/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by push"
skopeo_raw "$R/hello:1.0" "$W/pushed.json"
assert_same_file "$W/index.json" "$W/pushed.json" "index skopeo reads after push"
expect_success inspect-raw manifest inspect -v --raw --ca-cert "$CA" "$R/hello:1.0"
assert_same_file "$W/index.json" "$RUN_OUT" "polyarch manifest inspect --raw"
expect_success inspect-json manifest inspect -v --format json --ca-cert "$CA" "$R/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(json_field "$RUN_OUT" digest)" "manifest inspect --format json digest"

# The same trust from SSL_CERT_FILE, and none needed with --insecure-registry.
SSL_CERT_FILE="$CA" expect_success inspect-ssl-cert-file manifest inspect -v --raw "$R/hello:1.0"
assert_same_file "$W/index.json" "$RUN_OUT" "manifest inspect --raw with SSL_CERT_FILE"
expect_success inspect-insecure manifest inspect -v --raw --insecure-registry "$R" "$R/hello:1.0"
assert_same_file "$W/index.json" "$RUN_OUT" "manifest inspect --raw with --insecure-registry"

mark=$(log_mark "$REGISTRY_LOG")
expect_success copy copy -v --ca-cert "$CA" "$R/hello:1.0" "$R/copied/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by copy"
assert_eq "blobs: 0 copied, 6 mounted, 0 already there" "$(tail -n 1 "$RUN_ERR")" "copy summary"
sleep 0.3
assert_eq 0 "$(registry_requests "$REGISTRY_LOG" "$mark" | grep -c '^PUT /v2/copied/hello/blobs/' || true)" \
  "blob upload PUTs into copied/hello"
skopeo_raw "$R/copied/hello:1.0" "$W/copied.json"
assert_same_file "$W/index.json" "$W/copied.json" "index skopeo reads after copy"

for platform in linux/amd64 linux/arm64; do
  tag=$(echo "$platform" | tr -d /)
  expect_success "single-$tag" copy -v --ca-cert "$CA" --platform "$platform" \
    "$R/hello:1.0" "$R/single/hello:$tag"
done
expect_success create manifest create -v --ca-cert "$CA" --tag "$R/multi/hello:1.0" \
  "$R/single/hello:linuxamd64" "$R/single/hello:linuxarm64"
CREATED=$(sed -n 1p "$RUN_OUT")
skopeo_raw "$R/multi/hello:1.0" "$W/created.json"
assert_eq "$CREATED" "$(digest_of "$W/created.json")" "digest of the created index skopeo reads"
expect_success create-raw manifest inspect -v --raw --ca-cert "$CA" "$R/multi/hello:1.0"
assert_same_file "$W/created.json" "$RUN_OUT" "created index read back by polyarch"
assert_eq 2 "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["manifests"]))' "$W/created.json")" \
  "entries of the created index"

# 7. DOCKER_AUTH_CONFIG alone (no config.json entry) is enough too.
DOCKER_AUTH_CONFIG="{\"auths\":{\"$R\":{\"auth\":\"$AUTH_B64\"}}}" DOCKER_CONFIG="$W/empty-config" \
  expect_success inspect-auth-env manifest inspect -v --raw --ca-cert "$CA" "$R/hello:1.0"
assert_same_file "$W/index.json" "$RUN_OUT" "manifest inspect --raw with DOCKER_AUTH_CONFIG"

# 8. logout removes the entry; then a push needs authentication again.
expect_success logout logout -v "$R"
if [[ -e "$CONFIG_JSON" ]] && grep -qF "$R" "$CONFIG_JSON"; then
  fail "logout left an entry for $R in $CONFIG_JSON"
fi
expect_failure 1 push-after-logout push -v --ca-cert "$CA" "oci:$W/hello.oci.tar" "$R/hello:after-logout"
assert_contains "$RUN_ERROR" "$R" "push-after-logout message"
[[ "$RUN_ERROR" =~ [Aa]uthentication.*required ]] \
  || fail "push after logout: expected 'authentication … required', got '$RUN_ERROR'"
tag_absent "$R/hello:after-logout" "after a push refused for want of a login"

# 9. No output, at -v, holds a secret.
assert_secret_absent "$PASSWORD" "the password"
assert_secret_absent "$AUTH_B64" "the base64 user:password"
assert_secret_absent "$WRONG_PASSWORD" "the wrong password"

echo "PASS registry_tls_auth"
