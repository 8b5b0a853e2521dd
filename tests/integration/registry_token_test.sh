#!/usr/bin/env bash
# polyarch against a docker-registry with token auth, served by the test's
# own token server (token_server.py): `tester` (pull, push) logs in, pushes,
# inspects, copies and creates an index; a cross-repository mount asks for
# pull on the source and push,pull on the target in one token request;
# `reader` (pull only) can inspect but not push (and no tag appears);
# anonymous access and a wrong password are refused. Every polyarch command
# runs at -v, and no output may hold a password or any issued token.
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/registry_token_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools skopeo docker-registry openssl python3 sha256sum cmp \
  gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc
make_workdir >/dev/null
W=$WORKDIR
unset DOCKER_AUTH_CONFIG
TESTER_CONFIG="$W/tester-config"
READER_CONFIG="$W/reader-config"
ANONYMOUS_CONFIG="$W/anonymous-config"
mkdir -p "$TESTER_CONFIG" "$READER_CONFIG" "$ANONYMOUS_CONFIG"
export DOCKER_CONFIG=$TESTER_CONFIG

# digest_of FILE: "sha256:<hex>" of the file's bytes.
digest_of() {
  echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
}

# skopeo_raw REF OUT: the registry's manifest bytes for REF, read as tester.
skopeo_raw() {
  run_skopeo inspect --raw --tls-verify=false --creds "$TOKEN_USER:$TOKEN_PASSWORD" \
    "docker://$1" >"$2" || fail "skopeo inspect --raw docker://$1 exited $?"
}

# tag_absent REF WHAT: fails when skopeo (as tester) finds REF.
tag_absent() {
  if run_skopeo inspect --raw --tls-verify=false --creds "$TOKEN_USER:$TOKEN_PASSWORD" \
    "docker://$1" >/dev/null 2>&1; then
    fail "$2: $1 exists"
  fi
}

# one_token_request_for MARK SOURCE TARGET: fails unless some single token
# request after line MARK of the token server's log, by tester, asked for
# pull on SOURCE and both push and pull on TARGET, and was granted them.
one_token_request_for() {
  log_since "$TOKEN_SERVER_LOG" "$1" >"$W/token-requests.json"
  python3 - "$W/token-requests.json" "$2" "$3" <<'PY' \
    || fail "no single token request asked for pull on $2 and push,pull on $3: $(tail -n 4 "$W/token-requests.json")"
import json, sys
source, target = sys.argv[2], sys.argv[3]
def actions(items, name):
    found = set()
    for item in items:
        kind, _, rest = item.partition(":")
        repo, _, acts = rest.rpartition(":")
        if kind == "repository" and repo == name:
            found.update(acts.split(","))
    return found
for line in open(sys.argv[1]):
    entry = json.loads(line)
    if entry.get("login") != "tester" or entry.get("status") != 200:
        continue
    asked = [s for scope in entry["scopes"] for s in scope.split(" ") if s]
    granted = ["%s:%s:%s" % (g["type"], g["name"], ",".join(g["actions"])) for g in entry["granted"]]
    if ("pull" in actions(asked, source) and {"push", "pull"} <= actions(asked, target)
            and "pull" in actions(granted, source) and {"push", "pull"} <= actions(granted, target)):
        sys.exit(0)
sys.exit(1)
PY
}

# 1. The image and the registry with its token server.
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

start_token_registry "$W/registry"
R=$TOKEN_REGISTRY
REGISTRY_LOG=$TOKEN_REGISTRY_LOG
WRONG_PASSWORD=$(openssl rand -hex 16)

# 2. Anonymous: the token server grants nothing; authentication is required.
DOCKER_CONFIG=$ANONYMOUS_CONFIG expect_failure 1 push-anonymous \
  push -v "oci:$W/hello.oci.tar" "$R/hello:1.0"
assert_contains "$RUN_ERROR" "$R" "anonymous push message"
[[ "$RUN_ERROR" =~ [Aa]uthentication.*required ]] \
  || fail "anonymous push: expected 'authentication … required', got '$RUN_ERROR'"
tag_absent "$R/hello:1.0" "after a refused anonymous push"

# 3. login: a wrong password is refused (nothing saved); tester's is saved.
expect_failure 1 login-wrong login -v "$R" -u "$TOKEN_USER" --password-stdin <<<"$WRONG_PASSWORD"
assert_contains "$RUN_ERROR" "$R" "wrong-password login message"
if [[ -e "$TESTER_CONFIG/config.json" ]] && grep -qF "$R" "$TESTER_CONFIG/config.json"; then
  fail "a refused login saved an entry for $R"
fi
expect_success login-tester login -v "$R" -u "$TOKEN_USER" --password-stdin <<<"$TOKEN_PASSWORD"
assert_eq 600 "$(stat -c %a "$TESTER_CONFIG/config.json")" "mode of tester's config.json"
DOCKER_CONFIG=$READER_CONFIG expect_success login-reader \
  login -v "$R" -u "$TOKEN_READER" --password-stdin <<<"$TOKEN_READER_PASSWORD"

# 4. tester: push, inspect, copy (mounted with one token), manifest create.
expect_success push push -v "oci:$W/hello.oci.tar" "$R/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by push"
skopeo_raw "$R/hello:1.0" "$W/pushed.json"
assert_same_file "$W/index.json" "$W/pushed.json" "index skopeo reads after push"
expect_success inspect-raw manifest inspect -v --raw "$R/hello:1.0"
assert_same_file "$W/index.json" "$RUN_OUT" "polyarch manifest inspect --raw"
expect_success inspect-table manifest inspect -v "$R/hello:1.0"
assert_eq "Digest:    $INDEX_DIGEST" "$(sed -n 3p "$RUN_OUT")" "table Digest line"

registry_mark=$(log_mark "$REGISTRY_LOG")
token_mark=$(log_mark "$TOKEN_SERVER_LOG")
expect_success copy copy -v "$R/hello:1.0" "$R/copied/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by copy"
assert_eq "blobs: 0 copied, 6 mounted, 0 already there" "$(tail -n 1 "$RUN_ERR")" "copy summary"
sleep 0.3
assert_eq 0 "$(registry_requests "$REGISTRY_LOG" "$registry_mark" | grep -c '^PUT /v2/copied/hello/blobs/' || true)" \
  "blob upload PUTs into copied/hello"
one_token_request_for "$token_mark" hello copied/hello
skopeo_raw "$R/copied/hello:1.0" "$W/copied.json"
assert_same_file "$W/index.json" "$W/copied.json" "index skopeo reads after copy"

for platform in linux/amd64 linux/arm64 linux/arm/v7; do
  tag=$(echo "$platform" | tr -d /)
  expect_success "single-$tag" copy -v --platform "$platform" "$R/hello:1.0" "$R/single/hello:$tag"
done
registry_mark=$(log_mark "$REGISTRY_LOG")
token_mark=$(log_mark "$TOKEN_SERVER_LOG")
expect_success create manifest create -v --tag "$R/multi/hello:1.0" \
  "$R/single/hello:linuxamd64" "$R/single/hello:linuxarm64" "$R/single/hello:linuxarmv7"
CREATED=$(sed -n 1p "$RUN_OUT")
skopeo_raw "$R/multi/hello:1.0" "$W/created.json"
assert_eq "$CREATED" "$(digest_of "$W/created.json")" "digest of the created index skopeo reads"
expect_success create-raw manifest inspect -v --raw "$R/multi/hello:1.0"
assert_same_file "$W/created.json" "$RUN_OUT" "created index read back by polyarch"
sleep 0.3
assert_eq 0 "$(registry_requests "$REGISTRY_LOG" "$registry_mark" | grep -c '^PUT /v2/multi/hello/blobs/' || true)" \
  "blob upload PUTs into multi/hello"
one_token_request_for "$token_mark" single/hello multi/hello

# 5. reader: inspect works; push is denied, one line, and no tag appears.
DOCKER_CONFIG=$READER_CONFIG expect_success reader-inspect manifest inspect -v --raw "$R/hello:1.0"
assert_same_file "$W/index.json" "$RUN_OUT" "manifest inspect --raw as reader"
DOCKER_CONFIG=$READER_CONFIG expect_failure 1 reader-push \
  push -v "oci:$W/hello.oci.tar" "$R/reader/hello:1.0"
assert_contains "$RUN_ERROR" "$R" "reader push message"
[[ "$RUN_ERROR" =~ denied ]] || fail "reader push: expected an access-denied line, got '$RUN_ERROR'"
tag_absent "$R/reader/hello:1.0" "after reader's refused push"
DOCKER_CONFIG=$READER_CONFIG expect_failure 1 reader-copy \
  copy -v "$R/hello:1.0" "$R/reader/hello:copy"
[[ "$RUN_ERROR" =~ denied ]] || fail "reader copy: expected an access-denied line, got '$RUN_ERROR'"
tag_absent "$R/reader/hello:copy" "after reader's refused copy"

# 6. Anonymous reads are refused too.
DOCKER_CONFIG=$ANONYMOUS_CONFIG expect_failure 1 inspect-anonymous manifest inspect -v "$R/hello:1.0"
assert_contains "$RUN_ERROR" "$R" "anonymous inspect message"
[[ "$RUN_ERROR" =~ [Aa]uthentication.*required ]] \
  || fail "anonymous inspect: expected 'authentication … required', got '$RUN_ERROR'"

# 7. No output holds a password or any token the server issued.
assert_secret_absent "$TOKEN_PASSWORD" "tester's password"
assert_secret_absent "$TOKEN_READER_PASSWORD" "reader's password"
assert_secret_absent "$WRONG_PASSWORD" "the wrong password"
[[ -s "$TOKEN_ISSUED" ]] || fail "the token server issued no token"
while read -r token; do
  assert_secret_absent "$token" "an issued token"
  assert_secret_absent "${token##*.}" "an issued token's signature"
done <"$TOKEN_ISSUED"

echo "PASS registry_token"
