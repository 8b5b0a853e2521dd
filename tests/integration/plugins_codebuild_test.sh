#!/usr/bin/env bash
# The CodeBuild buildspecs, run by tests/plugins/codebuild_run.py (the
# phases in order with CODEBUILD_* variables, each build from a fresh copy of
# the source, as CodeBuild does) against a real docker-registry with buildah:
#   1. buildspec.yml, one build: linux/amd64 + linux/arm64 (arm64's RUN under
#      QEMU), tags from the tag rules of a branch/main webhook build; exactly
#      those platforms under the tag, the exported POLYARCH_RESULT_DIGEST is
#      the digest the registry serves, the build report is an artifact; a
#      later `polyarch build` with the build's polyarch.env sourced (as its
#      post_build does) takes none of the results as settings;
#   2. buildspec-batch.yml's build graph: the amd64 and arm64 legs push by
#      digest and tag their platform in the registry (no files shared), the
#      merge build joins exactly the legs' images under both tags;
#   3. the harness's CodeBuild semantics, and a batch buildspec run as a plain
#      build failing with the lib's message.
# The login: `polyarch login --aws` with the build role's container
# credentials, against tests/integration/ecr.sh's fake ECR API (SigV4 checked)
# whose token logs in to the real registry; without node and npm, a
# username/password login (PA_LOGIN_*) with the ECR login off.
#
# Standalone (root): POLYARCH=/path/to/polyarch bash tests/integration/plugins_codebuild_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

builder_skip_unless_ready buildah
require_polyarch
require_tools git skopeo python3 docker-registry htpasswd sha256sum
python3 -c 'import yaml' 2>/dev/null || fail "python3 cannot import yaml: install python3-yaml"
python3 "$SOURCE_DIR/tests/plugins/sync_plugins.py" --check "$SOURCE_DIR" || fail "inline scripts out of date"
RUN="$SOURCE_DIR/tests/plugins/codebuild_run.py"

make_workdir >/dev/null
w=$WORKDIR
builder_emulation_setup
builder_make_context "$w"
mkdir -p "$w/registry"
: >"$w/registry/registry.log"

# The project's variables (secrets stay off argv and out of the buildspec).
env_file="$w/project.env"
(
  umask 077
  {
    # shellcheck disable=SC2016 # the buildspec expands it, not this shell
    echo 'PA_IMAGE=${ECR_REGISTRY}/acme/app'
    echo 'PA_CONTEXT=ctx'
    echo 'PA_BACKEND=buildah'
  } >"$env_file"
)
# ECR through the build role's container credentials, as on CodeBuild.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE
if [[ -f "$SOURCE_DIR/tests/integration/ecr.sh" ]] && command -v node >/dev/null && command -v npm >/dev/null; then
  # shellcheck source=ecr.sh
  source "$SOURCE_DIR/tests/integration/ecr.sh"
  start_ecr_registry "$w/registry"
  start_fake_ecr "$w/ecr" "$ECR_REGISTRY_PASSWORD" "$REGISTRY"
  login_route="ecr"
  cp "$FAKE_ECR_SECRETS" "$w/secrets.txt"
  {
    echo "ECR_REGISTRY=$REGISTRY"
    echo "AWS_ENDPOINT_URL_ECR=$FAKE_ECR"
    echo "AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKE_ECR_CONTAINER_URI"
    echo "AWS_CONTAINER_AUTHORIZATION_TOKEN=$FAKE_ECR_CONTAINER_TOKEN"
  } >>"$env_file"
else
  start_registry "$w/registry" htpasswd
  login_route="password"
  printf '%s\n' "$REGISTRY_PASSWORD" >"$w/secrets.txt"
  {
    echo "ECR_REGISTRY=$REGISTRY"
    echo "PA_ECR_LOGIN=false"
    echo "PA_LOGIN_REGISTRY=$REGISTRY"
    echo "PA_LOGIN_USERNAME=$REGISTRY_USER"
    echo "PA_LOGIN_PASSWORD=$REGISTRY_PASSWORD"
  } >>"$env_file"
fi
image="$REGISTRY/acme/app"

# The project: the context and the buildspecs at its root, one commit;
# polyarch on PATH (install.sh's first choice).
p="$w/project"
mkdir -p "$p" "$w/bin"
cp -r "$w/ctx" "$p/ctx"
cp "$SOURCE_DIR/codebuild/buildspec.yml" "$SOURCE_DIR/codebuild/buildspec-batch.yml" "$p/"
ln -s "$POLYARCH" "$w/bin/polyarch"
git -C "$p" init -q -b main
git -C "$p" add -A
git -C "$p" -c user.name=t -c user.email=t@example.com commit -q -m app
commit=$(git -C "$p" rev-parse HEAD)

# codebuild NAME ARGS…: the harness, its log in $w/NAME.log; sets CB_STATUS.
codebuild() {
  local name=$1
  shift
  CB_STATUS=0
  PATH="$w/bin:$PATH" timeout 300 python3 "$RUN" --src "$p" --work "$w/$name" --env-file "$env_file" "$@" \
    >"$w/$name.log" 2>&1 || CB_STATUS=$?
}

# exported DIR NAME: the value of an exported variable.
exported() { sed -n "s/^$2=//p" "$1/exported.env"; }

# registry_index REF FILE: the manifest bytes the registry serves into FILE;
# prints their digest.
registry_index() {
  run_skopeo inspect --raw --tls-verify=false ${REGISTRY_USER:+--creds "$REGISTRY_USER:$REGISTRY_PASSWORD"} \
    "docker://$1" >"$2" || fail "skopeo inspect $1 failed"
  echo "sha256:$(sha256sum <"$2" | cut -d' ' -f1)"
}

# 1. The one-job form, tags from the rules of a branch/main webhook build.
codebuild one --webhook-trigger branch/main buildspec.yml
((CB_STATUS == 0)) || fail "buildspec.yml failed ($CB_STATUS): $(tail -n 30 "$w/one.log")"
assert_eq "$(printf '%s\n' 'INSTALL SUCCEEDED' 'PRE_BUILD SUCCEEDED' 'BUILD SUCCEEDED' 'POST_BUILD SUCCEEDED' 'UPLOAD_ARTIFACTS SUCCEEDED')" \
  "$(cat "$w/one/build/phases")" "phases of buildspec.yml"
digest=$(registry_index "$image:main" "$w/one-index.json")
builder_check_index "$w/one-index.json" linux/amd64 linux/arm64 >"$w/one-children.txt"
assert_eq "$digest" "$(exported "$w/one/build" POLYARCH_RESULT_DIGEST)" "exported POLYARCH_RESULT_DIGEST"
assert_eq "$image:main" "$(exported "$w/one/build" POLYARCH_RESULT_TAGS)" "exported POLYARCH_RESULT_TAGS"
assert_eq "linux/amd64,linux/arm64" "$(exported "$w/one/build" POLYARCH_RESULT_PLATFORMS)" \
  "exported POLYARCH_RESULT_PLATFORMS"
results="$w/one/build/src/polyarch.env"
[[ -f "$results" ]] || fail "the build left no polyarch.env"
! grep -E '^export POLYARCH_(DIGEST|TAGS|PLATFORMS|VERSION)=' "$results" || fail "polyarch.env sets polyarch settings"
(
  set -a
  # shellcheck source=/dev/null
  . "$results"
  cd "$w/one/build/src" && expect_failure 2 later-build build ctx
  assert_eq "polyarch: error: no platforms to build: give --platform, or platforms: in polyarch.yml" "$RUN_ERROR" "a later build with polyarch.env sourced"
) || exit 1
assert_eq "$digest" "$(json_field "$w/one/build/artifacts/build.json" digest)" "digest in the build.json artifact"
summary="$w/one/build/artifacts/summary.md"
[[ -f "$summary" ]] || fail "no summary.md artifact: $(ls "$w/one/build/artifacts")"
while read -r platform child; do
  grep -q "$child" "$summary" || fail "summary.md does not name $platform's digest $child"
  mkdir -p "$w/img"
  run_skopeo copy --src-tls-verify=false ${REGISTRY_USER:+--src-creds "$REGISTRY_USER:$REGISTRY_PASSWORD"} \
    "docker://$image@$child" "dir:$w/img/${platform//\//-}" >/dev/null || fail "skopeo copy of $platform failed"
  builder_check_image "$w/img/${platform//\//-}" "$platform"
done <"$w/one-children.txt"
if [[ "$login_route" == ecr ]]; then
  grep -q "^polyarch login --aws $REGISTRY$" "$w/one.log" || fail "no ECR login through polyarch in the log"
  # The token came from GetAuthorizationToken signed with the container's key.
  python3 - "$FAKE_ECR_LOG" "$FAKE_ECR_CONTAINER_ACCESS_KEY_ID" <<'PY' || fail "no signed GetAuthorizationToken: $(cat "$FAKE_ECR_LOG")"
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1])]
ok = [e for e in entries if (e.get("target") or "").endswith(".GetAuthorizationToken") and e.get("status") == 200
      and e.get("keyId") == sys.argv[2]]
sys.exit(0 if len(ok) == 1 else "%d signed GetAuthorizationToken requests" % len(ok))
PY
else
  grep -q "polyarch login $REGISTRY -u $REGISTRY_USER --password-stdin" "$w/one.log" || fail "no login in the log"
fi
grep -q "^polyarch --ci codebuild build ctx --platform linux/amd64,linux/arm64 --tag $image:main" "$w/one.log" \
  || fail "the build command line is not in the log"

# 2. The batch build graph: legs by digest, the registry between builds.
cat >>"$env_file" <<'VARS'
PA_TAGS=${PA_IMAGE}:split,${PA_IMAGE}:split-${CODEBUILD_RESOLVED_SOURCE_VERSION}
VARS
codebuild batch --batch --build-number 10 buildspec-batch.yml
((CB_STATUS == 0)) || fail "buildspec-batch.yml failed ($CB_STATUS): $(tail -n 30 "$w/batch.log")"
grep -q '^\[Batch\] SUCCEEDED: amd64 ok, arm64 ok, merge ok$' "$w/batch.log" || fail "batch summary: $(grep '^\[Batch\]' "$w/batch.log")"
grep -q '^\[Batch\] Build arm64 #11: type ARM_CONTAINER, compute BUILD_GENERAL1_SMALL' "$w/batch.log" \
  || fail "the arm64 leg did not run as an ARM_CONTAINER build"
[[ ! -e "$w/batch/merge/src/polyarch-out/digests" ]] || fail "the merge build saw the legs' files"
digest=$(registry_index "$image:split" "$w/split-index.json")
builder_check_index "$w/split-index.json" linux/amd64 linux/arm64 >"$w/split-children.txt"
for leg in amd64 arm64; do
  leg_file="$w/batch/$leg/artifacts/digests/$leg.json"
  [[ -f "$leg_file" ]] || fail "no digest file artifact of the $leg leg"
  assert_eq "linux/$leg $(json_field "$leg_file" digest)" "$(grep "^linux/$leg " "$w/split-children.txt")" \
    "the merged $leg image is the leg's"
  [[ -f "$w/batch/$leg/artifacts/summary-$leg.md" ]] || fail "no build report artifact of the $leg leg"
  registry_index "$image:polyarch-${commit:0:12}-$leg" "$w/leg.json" >/dev/null
  builder_check_index "$w/leg.json" "linux/$leg" >/dev/null
done
assert_eq "$digest" "$(registry_index "$image:split-$commit" "$w/split2.json")" "digest under the second tag"
assert_eq "$digest" "$(exported "$w/batch/merge" POLYARCH_RESULT_DIGEST)" "exported POLYARCH_RESULT_DIGEST of the merge build"
assert_eq "$image:split,$image:split-$commit" "$(exported "$w/batch/merge" POLYARCH_RESULT_TAGS)" \
  "exported POLYARCH_RESULT_TAGS of the merge build"
for log in one batch; do
  while IFS= read -r secret; do
    ! grep -qF -- "$secret" "$w/$log.log" || fail "a registry or AWS secret reached the $log log"
  done <"$w/secrets.txt"
done

# 3. The harness's CodeBuild semantics, on a buildspec of the test's own.
mkdir -p "$w/toy"
cat >"$w/toy/buildspec.yml" <<'YAML'
version: 0.2
env:
  shell: bash
  exported-variables: [CARRIED]
phases:
  install:
    commands:
      - CARRIED=install
      - helper() { :; }
      - mkdir -p sub && cd sub
  pre_build:
    commands:
      - echo "pre_build in ${PWD##*/} carried $CARRIED"
      - if type helper >/dev/null 2>&1; then echo "function carried"; fi
  build:
    commands:
      - echo "build succeeding $CODEBUILD_BUILD_SUCCEEDING"
      - exit 3
      - echo "after the failed command"
    finally:
      - echo "finally succeeding $CODEBUILD_BUILD_SUCCEEDING"
  post_build:
    commands:
      - echo "post_build succeeding $CODEBUILD_BUILD_SUCCEEDING"
      - CARRIED=post
artifacts:
  files: [missing.txt]
YAML
codebuild toy-run --src "$w/toy" buildspec.yml
assert_eq 1 "$CB_STATUS" "exit status of a failed build"
assert_eq "$(printf '%s\n' 'pre_build in sub carried install' 'build succeeding 1' 'finally succeeding 0' 'post_build succeeding 0')" \
  "$(grep -v '^\[' "$w/toy-run.log")" "output of the toy build"
assert_eq "$(printf '%s\n' 'INSTALL SUCCEEDED' 'PRE_BUILD SUCCEEDED' 'BUILD FAILED' 'POST_BUILD SUCCEEDED' 'UPLOAD_ARTIFACTS FAILED')" \
  "$(cat "$w/toy-run/build/phases")" "phases of the toy build"
grep -q 'CLIENT_ERROR Message: no matching artifact paths found' "$w/toy-run.log" || fail "no artifact error"
assert_eq "CARRIED=post" "$(cat "$w/toy-run/build/exported.env")" "exported variables of the toy build"
sed -i 's/^  build:$/  build:\n    on-failure: ABORT/' "$w/toy/buildspec.yml"
codebuild toy-abort --src "$w/toy" buildspec.yml
assert_eq "$(printf '%s\n' 'INSTALL SUCCEEDED' 'PRE_BUILD SUCCEEDED' 'BUILD FAILED')" \
  "$(cat "$w/toy-abort/build/phases")" "phases of a build with on-failure: ABORT"

# A batch whose leg fails never starts the build that depends on it.
cat >"$w/toy/buildspec.yml" <<'YAML'
version: 0.2
batch:
  build-graph:
    - identifier: bad
      env: { variables: { FAIL: "1" } }
    - identifier: good
      env: { variables: { FAIL: "0" } }
    - identifier: after
      depend-on: [good, bad]
phases:
  build:
    commands:
      - echo "$CODEBUILD_BATCH_BUILD_IDENTIFIER fail ${FAIL:-unset}"
      - test "${FAIL:-0}" = 0
YAML
codebuild toy-batch --src "$w/toy" --batch buildspec.yml
assert_eq 1 "$CB_STATUS" "exit status of a failed batch"
assert_eq "$(printf '%s\n' 'bad fail 1' 'good fail 0')" "$(grep -v '^\[' "$w/toy-batch.log")" "output of the toy batch"
assert_eq "$(printf '%s\n' '[Batch] Build after not started: dependency bad failed' '[Batch] FAILED: bad failed, good ok, after failed')" \
  "$(grep '^\[Batch\] [A-Z]' "$w/toy-batch.log" | grep -v '#')" "batch summary of the toy batch"

# A batch buildspec started as a plain build names what is missing.
codebuild plain buildspec-batch.yml
assert_eq 1 "$CB_STATUS" "exit status of buildspec-batch.yml as a plain build"
grep -qx 'polyarch-codebuild: error: PA_STEP is not set: start buildspec-batch.yml as a batch build (its build-graph sets PA_STEP for each build)' \
  "$w/plain.log" || fail "no PA_STEP error: $(grep -i error "$w/plain.log" | head -n 3)"
echo "PASS plugins_codebuild_test"
