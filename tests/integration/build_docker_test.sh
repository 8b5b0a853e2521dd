#!/usr/bin/env bash
# polyarch build --backend docker against a Docker engine (Debian's dockerd,
# engine 20.10, no buildx) started by this test: linux/amd64, linux/arm64
# and linux/arm/v7 from one Dockerfile whose RUN step (exec form) runs each
# platform's own static binary, under QEMU for arm64 and arm/v7, one
# `docker build --platform P` each; pushed to a real docker-registry and
# checked with skopeo (exactly three platforms, each config naming its
# platform, each image's /built-by
# written by its RUN, /hello printing its platform under qemu-ARCH-static);
# no temporary image is left in the engine; a failing RUN names the platform.
#
# Standalone (root): POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#                      bash tests/integration/build_docker_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

builder_skip_unless_ready dockerd
[[ -x /usr/bin/docker ]] || { echo "SKIP: /usr/bin/docker (Debian's docker.io) is not installed"; exit 0; }
require_polyarch
require_tools skopeo docker-registry python3 tar sha256sum qemu-aarch64-static qemu-arm-static
make_workdir >/dev/null
W=$WORKDIR
builder_emulation_setup
# builder_emulation_setup's trap runs `(exit $status)` under set -e, which
# ends the trap before _integ_cleanup when the test failed (leaving dockerd
# and the registry running); this one does the same work without errexit.
trap 'status=$?; set +e; trap - ERR; _builder_emulation_restore; (exit $status); _integ_cleanup' EXIT
builder_make_context "$W"
# start_registry reads its log before the registry may have made it.
mkdir -p "$W/registry" && : >"$W/registry/registry.log"
start_registry "$W/registry"
start_dockerd "$W/engine"
PLATFORMS=linux/amd64,linux/arm64,linux/arm/v7

# 1. Build and push: stdout is the index digest, which the registry serves.
expect_success push build "$W/ctx" --platform "$PLATFORMS" --backend docker \
  --tag "$REGISTRY/app:1" --push
digest=$(head -n 1 "$RUN_OUT")
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "build --push printed '$digest', not an index digest"
run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/app:1" >"$W/index.json" \
  || fail "skopeo inspect --raw docker://$REGISTRY/app:1 exited $?"
assert_eq "$digest" "sha256:$(sha256sum <"$W/index.json" | cut -d' ' -f1)" "digest of the pushed index"
builder_check_index "$W/index.json" linux/amd64 linux/arm64 linux/arm/v7 >"$W/children.txt"
grep -q 'building with --network host' "$RUN_ERR" \
  || fail "no note that the bridge-less engine builds with --network host: $(tail -n 3 "$RUN_ERR")"

# 2. Each platform's image holds its own binaries, its config (kept byte for
#    byte from the engine; 20.10 writes "arm" + "v7") names its platform, and
#    its RUN step ran its binary.
mkdir -p "$W/img"
while read -r p child; do
  run_skopeo copy --src-tls-verify=false "docker://$REGISTRY/app@$child" "dir:$W/img/${p//\//-}" >/dev/null \
    || fail "skopeo copy of $p ($child) exited $?"
  builder_check_image "$W/img/${p//\//-}" "$p"
done <"$W/children.txt"
assert_eq "" "$(/usr/bin/docker images -q)" "images left in the engine after the build"

# 3. A RUN step that fails under emulation names the platform and the error.
mkdir -p "$W/bad"
printf 'FROM scratch\nRUN ["/no-such-program"]\n' >"$W/bad/Dockerfile"
expect_failure 1 bad -v build "$W/bad" --platform linux/arm64 --backend docker \
  --tag "$REGISTRY/bad:1" --push
# The step's own output ("#3 0.102 …", timed), then the step and the error.
[[ "$RUN_ERROR" =~ ^'polyarch: error: build for linux/arm64 failed (docker exit 1): #'[0-9]+' '[0-9.]+' runc run failed: unable to start container process: exec: "/no-such-program": stat /no-such-program: no such file or directory | > [1/1] RUN ["/no-such-program"]: | executor failed running [/no-such-program]: exit code: 1'$ ]] \
  || fail "error of a failed build: $RUN_ERROR"
if run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/bad:1" >/dev/null 2>&1; then
  fail "a failed build pushed $REGISTRY/bad:1"
fi
echo "PASS build_docker_test"
