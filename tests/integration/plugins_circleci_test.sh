#!/usr/bin/env bash
# The CircleCI orb. circleci/src is packed as `circleci orb pack` packs it
# (tests/plugins/orb_pack.py) and validated, with its usage examples, against
# shared/schemas/circleciconfig.json (ajv-cli); the examples' jobs and
# arguments are checked against the orb. Then tests/plugins/orb_run.py runs
# the packed orb as CircleCI would (CIRCLE_* variables, a $BASH_ENV file
# sourced by each step's bash, cache/workspace/artifact steps):
#   1. the build command: linux/amd64 + linux/arm64 (arm64 under QEMU) with
#      buildah, a login to a local docker-registry with basic auth through
#      env_var_name parameters, pushed under one tag; the registry serves
#      exactly those platforms and the digest that $BASH_ENV's
#      POLYARCH_RESULT_DIGEST carries into a later step;
#   2. the split form: the build job twice (linux/amd64 on the machine
#      executor, linux/arm64 on arm), each pushing by digest and persisting
#      its digest file to the workspace, then the merge job, whose tag comes
#      from a tag rule, attaches the workspace and pushes an index over both;
#      a step after it runs `polyarch build` with none of the results in
#      $BASH_ENV as its settings (no POLYARCH_PLATFORMS: it has no platforms);
#   3. the build cache is kept per platform: the arm64 leg does not get the
#      amd64 leg's cache, a later amd64 leg does.
# The registry password appears in no log, output, artifact or cache.
#
# Standalone (root): POLYARCH=/path/to/polyarch bash tests/integration/plugins_circleci_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../plugins/npm.sh
source "$SOURCE_DIR/tests/plugins/npm.sh"

builder_skip_unless_ready buildah
require_polyarch
require_tools python3 skopeo docker-registry htpasswd openssl
python3 -c 'import yaml' 2>/dev/null || fail "python3 cannot import yaml: apt-get install python3-yaml"
schema="$SOURCE_DIR/../shared/schemas/circleciconfig.json"
[[ -f "$schema" ]] || schema=/work/shared/schemas/circleciconfig.json
plugins_npm ajv-cli ajv-cli
AJV="$NPM_DIR/node_modules/.bin/ajv"
TOOLS="$SOURCE_DIR/tests/plugins"

make_workdir >/dev/null
w=$WORKDIR

# 1. Pack: every section, every include resolved, the shared installer
# inlined as it is (with `<<` escaped as orb pack escapes it); every
# parameter described, and listed in circleci/README.md, whose examples are
# the orb's.
python3 "$TOOLS/orb_pack.py" "$SOURCE_DIR/circleci/src" -o "$w/orb.yml" || fail "orb_pack.py failed"
python3 - "$w/orb.yml" "$SOURCE_DIR" <<'PY' || fail "the packed orb is not what circleci/src holds"
import sys
sys.path.insert(0, sys.argv[2] + "/tests/plugins")
import orb_pack
orb = orb_pack.load(open(sys.argv[1]).read(), sys.argv[1])
assert orb["version"] == 2.1 and orb["display"]["source_url"].startswith("https://"), orb.get("display")
for key, want in {"commands": ["build", "emulate", "install", "login", "merge"], "jobs": ["build", "merge"],
                  "executors": ["arm", "machine"], "examples": ["build_one_job", "build_split"]}.items():
    assert sorted(orb[key]) == want, (key, sorted(orb[key]))
text = orb_pack.dump({k: orb[k] for k in ("commands", "jobs", "executors")})
assert "include(" not in text, "an include was left unresolved"
installer = open(sys.argv[2] + "/plugins/install.sh").read().replace("<<", "\\<<")
assert installer in orb["commands"]["install"]["steps"][0]["run"]["command"], "install.sh is not inlined as it is"
assert orb["executors"]["arm"]["resource_class"] == "arm.medium"
for name in ("build", "merge"):
    job, command = orb["jobs"][name]["parameters"], orb["commands"][name]["parameters"]
    for param, spec in command.items():
        assert job.get(param) == spec, f"job {name} does not pass parameter {param} as the command declares it"
readme = open(sys.argv[2] + "/circleci/README.md").read()
for kind in ("commands", "jobs", "executors"):
    for name, body in orb[kind].items():
        assert body.get("description"), f"{kind} {name} has no description"
        for param, spec in (body.get("parameters") or {}).items():
            assert spec.get("description"), f"{kind} {name} parameter {param} has no description"
            assert f"| `{param}` |" in readme, f"circleci/README.md does not list parameter {param} of {kind} {name}"
blocks = readme.split("```yaml\n")[1:]
usages = [orb_pack.load(block.split("```")[0], "README.md") for block in blocks]
for name, example in orb["examples"].items():
    assert example["usage"] in usages, f"circleci/README.md does not show example {name} as it is"
PY

# 2. The schema accepts the orb and each example's usage, and refuses a
# broken orb; the examples use only what the orb declares.
ajv_check() {
  "$AJV" validate --spec=draft7 --strict=false -s "$schema" -d "$1" >"$w/ajv.out" 2>&1
}
ajv_check "$w/orb.yml" || fail "the packed orb does not validate: $(grep -v 'unknown format' "$w/ajv.out" | tail -n 5)"
python3 - "$w" "$TOOLS" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
import orb_pack
w = sys.argv[1]
orb = orb_pack.load(open(w + "/orb.yml").read(), "orb.yml")
for name, example in orb["examples"].items():
    open(f"{w}/example-{name}.yml", "w").write(orb_pack.dump(example["usage"]))
orb["executors"]["arm"]["resource_class"] = "arm.huge"
open(w + "/broken.yml", "w").write(orb_pack.dump(orb))
PY
for example in "$w"/example-*.yml; do
  ajv_check "$example" || fail "$example does not validate: $(grep -v 'unknown format' "$w/ajv.out" | tail -n 5)"
done
! ajv_check "$w/broken.yml" || fail "the schema accepted an executor with resource class arm.huge"
python3 "$TOOLS/orb_run.py" "$w/orb.yml" --check-examples || fail "the usage examples use what the orb does not declare"

# The runner's cache key templates, against an independent checksum.
printf 'lock file\n' >"$w/deps.lock"
key=$(cd "$w" && CIRCLE_BRANCH=feature/x CIRCLE_BUILD_NUM=7 python3 -c 'import os, sys; sys.path.insert(0, sys.argv[1]); import orb_steps
print(orb_steps.render_key("v1-{{ .Branch }}-{{ .BuildNum }}-{{ checksum \"deps.lock\" }}-{{ .Environment.NOPE }}", os.environ, "."))' "$TOOLS")
assert_eq "v1-feature/x-7-$(openssl dgst -sha256 -binary "$w/deps.lock" | base64)-<no value>" "$key" "a rendered cache key"

# 3. A machine for the jobs: QEMU, a build context in a "repository", a
# registry with basic auth, polyarch on PATH (the install step finds it),
# and project environment variables the env_var_name parameters name.
builder_emulation_setup
builder_make_context "$w"
mkdir -p "$w/registry" "$w/bin" "$w/repo"
: >"$w/registry/registry.log"
start_registry "$w/registry" htpasswd
ln -s "$POLYARCH" "$w/bin/polyarch"
cp -r "$w/ctx" "$w/repo/ctx"
export PATH="$w/bin:$PATH"
export ACME_REGISTRY_USER=$REGISTRY_USER ACME_REGISTRY_TOKEN=$REGISTRY_PASSWORD
export CIRCLE_BRANCH=main CIRCLE_SHA1=0123456789abcdef0123456789abcdef01234567
export CIRCLE_PROJECT_USERNAME=acme CIRCLE_PROJECT_REPONAME=app CIRCLE_REPOSITORY_URL=git@github.com:acme/app.git
build_num=0

# run_orb NAME --command|--job WHAT ARGS…: orb_run.py on a fresh machine (its
# own docker config, the working directory $w/project emptied; a command
# finds the repository there, a job checks it out) as job NAME, with the
# next CIRCLE_BUILD_NUM; the log goes to $w/NAME.log.
run_orb() {
  local name=$1
  shift
  rm -rf "$w/project"
  mkdir -p "$w/project"
  if [[ "$1" == --command ]]; then cp -r "$w/repo/." "$w/project"; else set -- "$@" --checkout-from "$w/repo"; fi
  build_num=$((build_num + 1))
  (cd "$w" && CIRCLE_BUILD_NUM=$build_num DOCKER_CONFIG="$w/docker-$name" timeout 240 \
    python3 "$TOOLS/orb_run.py" "$w/orb.yml" --workdir "$w/project" --state "$w/state" --job-name "$name" "$@" \
    >"$w/$name.log" 2>&1) || fail "orb_run.py ($name) failed: $(tail -n 25 "$w/$name.log")"
}

# exported NAME VAR: the value $BASH_ENV of job NAME gives VAR.
exported() {
  # shellcheck source=/dev/null
  (set +u && source "$w/state/bash_env/$1" && printf '%s' "${!2:-}")
}

# registry_digest REF: the sha256 of the manifest bytes the registry serves.
registry_digest() {
  run_skopeo inspect --raw --tls-verify=false --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "docker://$1" >"$w/raw.json" \
    || fail "skopeo inspect $1 failed"
  echo "sha256:$(sha256sum <"$w/raw.json" | cut -d' ' -f1)"
}

# params FILE LINE…: writes the arguments every run shares, then LINEs.
params() {
  local file=$1
  shift
  {
    echo "registry: \"$REGISTRY\""
    echo "registry_username: ACME_REGISTRY_USER"
    echo "registry_password: ACME_REGISTRY_TOKEN"
    printf '%s\n' "$@"
  } >"$file"
}

# 4. The build command, one job, two platforms; the tag names the registry
# through a project variable ($REGISTRY_HOST expands).
export REGISTRY_HOST=$REGISTRY
# shellcheck disable=SC2016 # $REGISTRY_HOST is for the orb to expand
params "$w/one-job.yml" "backend: buildah" "build_context: ctx" "platforms: linux/amd64,linux/arm64" \
  'tags: $REGISTRY_HOST/acme/app:one-job'
run_orb one-job --command build --params "$w/one-job.yml"
digest=$(exported one-job POLYARCH_RESULT_DIGEST)
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "\$BASH_ENV of the build command has no POLYARCH_RESULT_DIGEST: $(cat "$w/state/bash_env/one-job")"
assert_eq "$(registry_digest "$REGISTRY/acme/app:one-job")" "$digest" "POLYARCH_RESULT_DIGEST of the build command"
builder_check_index "$w/raw.json" linux/amd64 linux/arm64 >/dev/null
assert_eq "linux/amd64,linux/arm64" "$(exported one-job POLYARCH_RESULT_PLATFORMS)" "POLYARCH_RESULT_PLATFORMS"
assert_eq "$REGISTRY/acme/app:one-job" "$(exported one-job POLYARCH_RESULT_TAGS)" "POLYARCH_RESULT_TAGS"
! grep -E '^export POLYARCH_(DIGEST|TAGS|PLATFORMS|VERSION)=' "$w/state/bash_env/one-job" \
  || fail "\$BASH_ENV of the build command sets polyarch settings"
grep -qx "POLYARCH_RESULT_DIGEST=$digest" "$w/one-job.log" \
  || fail "the step after the build did not get POLYARCH_RESULT_DIGEST from \$BASH_ENV"
grep -q "\"$REGISTRY\"" "$w/docker-one-job/config.json" || fail "the login step saved no credentials for $REGISTRY"
report="$w/state/artifacts/one-job/polyarch/build-report.md"
if "$POLYARCH" build --help | grep -- --summary >/dev/null; then
  grep -q "$digest" "$report" || fail "the stored build report does not show the digest: $(cat "$report" 2>&1)"
fi
for step in "Install polyarch" "Set up emulation for linux/amd64,linux/arm64" "Log in to $REGISTRY" \
  "Restore the build cache" "polyarch build linux/amd64,linux/arm64" "Save the build cache" "Store the build report"; do
  grep -qx "==> $step" "$w/one-job.log" || fail "the build command ran no step \"$step\""
done

# A login whose password variable is unset fails before anything runs, and
# says which variables to set.
rm -rf "$w/project"
if CIRCLE_BUILD_NUM=99 python3 "$TOOLS/orb_run.py" "$w/orb.yml" --workdir "$w/project" --state "$w/state" \
  --job-name no-login --command login --param "registry=$REGISTRY" --param username=ACME_REGISTRY_USER \
  --param password=ACME_UNSET_TOKEN >"$w/no-login.log" 2>&1; then
  fail "the login command succeeded without a password"
fi
grep -qxF "polyarch: cannot log in to $REGISTRY: set \$ACME_REGISTRY_USER and \$ACME_UNSET_TOKEN (project or context environment variables), or leave the registry parameter empty" \
  "$w/no-login.log" || fail "the failed login said: $(cat "$w/no-login.log")"

# 5. The split form: two legs by digest (the arm64 one on the arm executor),
# then the merge job. The amd64 leg leaves a file in .polyarch-cache (as
# buildx's local cache would) before its build, so its save_cache has
# something to keep.
params "$w/leg-amd64.yml" "backend: buildah" "build_context: ctx" "platforms: linux/amd64" "executor: machine" \
  "tags: $REGISTRY/acme/app" "digest_dir: polyarch-digests" \
  "pre-steps: [{run: 'mkdir -p .polyarch-cache/linux-amd64 && echo seed-1 >.polyarch-cache/linux-amd64/seed'}]"
params "$w/leg-arm64.yml" "backend: buildah" "build_context: ctx" "platforms: linux/arm64" "executor: arm" \
  "tags: $REGISTRY/acme/app" "digest_dir: polyarch-digests"
run_orb build-linux-amd64 --job build --params "$w/leg-amd64.yml"
run_orb build-linux-arm64 --job build --params "$w/leg-arm64.yml"
grep -q "resource class arm.medium" "$w/build-linux-arm64.log" || fail "the arm64 leg did not run on the arm executor"
[[ ! -e "$w/project/.polyarch-cache" ]] || fail "the linux/arm64 leg restored the linux/amd64 leg's cache"
grep -q "No cache is found for key: v1-polyarch-.*-linux/arm64-main-" "$w/build-linux-arm64.log" \
  || fail "the arm64 leg looked for no linux/arm64 cache: $(grep -i cache "$w/build-linux-arm64.log")"
params "$w/merge.yml" "images: $REGISTRY/acme/app" "tag_rules: type=ref,event=branch" "post-steps:
  - run:
      name: A later polyarch build
      command: |
        if polyarch build ctx 2>later.err; then echo 'a later build took the results as settings' >&2; exit 1; fi
        cat later.err"
run_orb merge --job merge --params "$w/merge.yml"
merged=$(exported merge POLYARCH_RESULT_DIGEST)
assert_eq "$(registry_digest "$REGISTRY/acme/app:main")" "$merged" "POLYARCH_RESULT_DIGEST of the merge job"
builder_check_index "$w/raw.json" linux/amd64 linux/arm64 >"$w/children.txt"
assert_eq "$REGISTRY/acme/app:main" "$(exported merge POLYARCH_RESULT_TAGS)" "POLYARCH_RESULT_TAGS of the merge job"
assert_eq "linux/amd64,linux/arm64" "$(exported merge POLYARCH_RESULT_PLATFORMS)" "POLYARCH_RESULT_PLATFORMS of the merge job"
assert_eq "main" "$(exported merge POLYARCH_RESULT_VERSION)" "POLYARCH_RESULT_VERSION of the tags step"
! grep -E '^export POLYARCH_(DIGEST|TAGS|PLATFORMS|VERSION)=' "$w/state/bash_env/merge" \
  || fail "\$BASH_ENV of the merge job sets polyarch settings"
grep -qx "==> A later polyarch build" "$w/merge.log" || fail "the merge job ran no later build step"
grep -qxF "polyarch: error: no platforms to build: give --platform, or platforms: in polyarch.yml" "$w/merge.log" \
  || fail "the later build did not say it has no platforms: $(grep -A3 'A later polyarch build' "$w/merge.log")"
for p in linux/amd64 linux/arm64; do
  file="$w/state/workspace/build-${p//\//-}/polyarch-digests/${p//\//-}.json"
  leg=$(json_field "$file" digest)
  assert_eq "$p $leg" "$(grep "^$p " "$w/children.txt")" "the index entry of the $p leg"
  [[ -f "$w/project/polyarch-digests/${p//\//-}.json" ]] || fail "the merge job did not attach the $p digest file"
done

# 6. A later amd64 leg (another commit) restores the amd64 cache by prefix.
CIRCLE_SHA1=89abcdef0123456789abcdef0123456789abcdef run_orb build-linux-amd64-again --job build \
  --params "$w/leg-arm64.yml" --param platforms=linux/amd64 --param executor=machine
assert_eq "seed-1" "$(cat "$w/project/.polyarch-cache/linux-amd64/seed" 2>&1)" "the restored linux/amd64 cache"

# 7. The password is in no log, output, artifact, cache or workspace.
if grep -rlF -- "$REGISTRY_PASSWORD" "$w"/*.log "$w/state" "$w/orb.yml"; then
  fail "the registry password leaked into the files above"
fi
echo "PASS plugins_circleci_test"
