#!/usr/bin/env bash
# polyarch build --backend buildah: linux/amd64, linux/arm64 and linux/arm/v7
# from one Dockerfile whose RUN step (exec form, no shell) runs each
# platform's own static binary, under QEMU for arm64 and arm/v7; pushed to a
# real docker-registry and checked with skopeo (exactly three platforms, each
# image's /built-by written by its RUN, its /hello printing its platform under
# qemu-ARCH-static); then into an OCI archive; then a failing RUN.
#
# Standalone (root): POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#                      bash tests/integration/build_buildah_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

builder_skip_unless_ready buildah
builder_e2e buildah
echo "PASS build_buildah_test"
