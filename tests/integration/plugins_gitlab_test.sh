#!/usr/bin/env bash
# The GitLab CI/CD component, run for real by gitlab-ci-local@4.60.0
# (--shell-executor-no-image --force-shell-executor: jobs run in this shell) from a pipeline that
# includes it with `include: local:`: the one-job form builds linux/amd64 and
# linux/arm64 with buildah (arm64 under QEMU), logs in to a local
# docker-registry with basic auth through CI_REGISTRY_USER/PASSWORD and
# pushes there; its dotenv report carries the index digest the registry
# serves as POLYARCH_RESULT_DIGEST, and a later job that gets the report runs
# `polyarch build` with none of those results as its settings (no
# POLYARCH_PLATFORMS: it has no platforms). Then the split form: two legs
# (parallel:matrix) pushed by digest and a merge job whose dotenv report
# carries the merged index's digest, tags and platforms.
#
# Standalone (root): POLYARCH=/path/to/polyarch bash tests/integration/plugins_gitlab_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../plugins/npm.sh
source "$SOURCE_DIR/tests/plugins/npm.sh"

builder_skip_unless_ready buildah
require_polyarch
require_tools git rsync skopeo python3 docker-registry htpasswd
plugins_npm gitlab-ci-local gitlab-ci-local@4.60.0
GCL="$NPM_DIR/node_modules/.bin/gitlab-ci-local"

python3 "$SOURCE_DIR/tests/plugins/sync_plugins.py" --check "$SOURCE_DIR" || fail "inline scripts out of date"
make_workdir >/dev/null
w=$WORKDIR
builder_emulation_setup
builder_make_context "$w"
mkdir -p "$w/registry"
: >"$w/registry/registry.log"
start_registry "$w/registry" htpasswd

# A project: the context, the component (include: local), a remote.
p="$w/project"
mkdir -p "$p/bin"
cp -r "$w/ctx" "$p/ctx"
cp -r "$SOURCE_DIR/gitlab/templates" "$p/templates"
ln -s "$POLYARCH" "$p/bin/polyarch"
git -C "$p" init -q -b main
git -C "$p" remote add origin https://gitlab.example.com/acme/app.git

# gitlab-ci-local reads variables from this file (secrets stay off argv).
(
  umask 077
  cat >"$p/.gitlab-ci-local-variables.yml" <<VARS
CI_REGISTRY: "$REGISTRY"
CI_REGISTRY_IMAGE: "$REGISTRY/acme/app"
CI_REGISTRY_USER: "$REGISTRY_USER"
CI_REGISTRY_PASSWORD: "$REGISTRY_PASSWORD"
VARS
)

# run_pipeline NAME: commits the project and runs every job; the log goes to
# $w/NAME.log.
run_pipeline() {
  git -C "$p" add -A
  git -C "$p" -c user.name=t -c user.email=t@example.com commit -q -m "$1" --allow-empty
  (cd "$p" && DOCKER_CONFIG="$w/docker-config" PATH="$p/bin:$PATH" timeout 300 "$GCL" --shell-executor-no-image --force-shell-executor --no-color \
    >"$w/$1.log" 2>&1) || fail "gitlab-ci-local ($1) failed: $(tail -n 25 "$w/$1.log")"
}

# dotenv_value FILE KEY: the value of KEY in a dotenv file.
dotenv_value() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

# registry_digest REF: the sha256 of the manifest bytes the registry serves.
registry_digest() {
  run_skopeo inspect --raw --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "docker://$1" >"$w/raw.json" \
    || fail "skopeo inspect $1 failed"
  echo "sha256:$(sha256sum <"$w/raw.json" | cut -d' ' -f1)"
}

# 1. The one-job form.
cat >"$p/.gitlab-ci.yml" <<'YAML'
stages: [build, test]
include:
  - local: templates/build/template.yml
    inputs:
      platforms: linux/amd64,linux/arm64
      context: ctx
      tags: $CI_REGISTRY_IMAGE:one-job
      backend: buildah
      cache: none
      labels: |
        org.opencontainers.image.title=app
check:
  stage: test
  needs: [polyarch-build]
  script:
    - echo "digest from dotenv $POLYARCH_RESULT_DIGEST"
    - test -n "$POLYARCH_RESULT_DIGEST"
    - if polyarch build ctx 2>later.err; then echo "a later build took the results as settings"; exit 1; fi
    - echo "later build said $(tail -n 1 later.err)"
YAML
run_pipeline one-job
env_file="$p/.gitlab-ci-local/artifacts/polyarch-build/.gitlab-ci-reports/dotenv/polyarch.env"
[[ -f "$env_file" ]] || env_file=$(find "$p/.gitlab-ci-local" -name polyarch.env -path '*polyarch-build*' | head -n 1)
[[ -f "$env_file" ]] || fail "no dotenv report of polyarch-build: $(find "$p/.gitlab-ci-local" -name '*.env')"
digest=$(dotenv_value "$env_file" POLYARCH_RESULT_DIGEST)
assert_eq "$(registry_digest "$REGISTRY/acme/app:one-job")" "$digest" "POLYARCH_RESULT_DIGEST of the one-job form"
builder_check_index "$w/raw.json" linux/amd64 linux/arm64 >/dev/null
assert_eq "$REGISTRY/acme/app:one-job" "$(dotenv_value "$env_file" POLYARCH_RESULT_TAGS)" "POLYARCH_RESULT_TAGS of the one-job form"
assert_eq "linux/amd64,linux/arm64" "$(dotenv_value "$env_file" POLYARCH_RESULT_PLATFORMS)" \
  "POLYARCH_RESULT_PLATFORMS of the one-job form"
! grep -E '^POLYARCH_(DIGEST|TAGS|PLATFORMS|VERSION)=' "$env_file" || fail "the dotenv report sets polyarch settings"
grep -q "digest from dotenv $digest" "$w/one-job.log" || fail "the check job did not get POLYARCH_RESULT_DIGEST from the dotenv report"
grep -qF "later build said polyarch: error: no platforms to build: give --platform, or platforms: in polyarch.yml" "$w/one-job.log" \
  || fail "the later build did not say it has no platforms: $(grep -i 'later build' "$w/one-job.log")"
! grep -q -- "$REGISTRY_PASSWORD" "$w/one-job.log" || fail "the registry password reached the job log"

# 2. The split form: legs by digest, then the merge job.
cat >"$p/.gitlab-ci.yml" <<'YAML'
stages: [build]
include:
  - local: templates/split/template.yml
    inputs:
      context: ctx
      tags: $CI_REGISTRY_IMAGE:split
      backend: buildah
      cache: none
YAML
rm -rf "$p/.gitlab-ci-local"
run_pipeline split
env_file=$(find "$p/.gitlab-ci-local" -name polyarch.env -path '*polyarch-merge*' | head -n 1)
[[ -f "$env_file" ]] || fail "no dotenv report of polyarch-merge"
digest=$(dotenv_value "$env_file" POLYARCH_RESULT_DIGEST)
assert_eq "$(registry_digest "$REGISTRY/acme/app:split")" "$digest" "POLYARCH_RESULT_DIGEST of the merge job"
builder_check_index "$w/raw.json" linux/amd64 linux/arm64 >/dev/null
assert_eq "$REGISTRY/acme/app:split" "$(dotenv_value "$env_file" POLYARCH_RESULT_TAGS)" "POLYARCH_RESULT_TAGS of the merge job"
assert_eq "linux/amd64,linux/arm64" "$(dotenv_value "$env_file" POLYARCH_RESULT_PLATFORMS)" \
  "POLYARCH_RESULT_PLATFORMS of the merge job"
! grep -E '^POLYARCH_(DIGEST|TAGS|PLATFORMS|VERSION)=' "$env_file" || fail "the merge job's dotenv report sets polyarch settings"
echo "PASS plugins_gitlab_test"
