#!/usr/bin/env bash
# Cross-compiles examples/hello/hello.c into static binaries, one per platform:
#   OUTDIR/amd64/hello, OUTDIR/arm64/hello, OUTDIR/arm-v7/hello
# Needs gcc, gcc-aarch64-linux-gnu and gcc-arm-linux-gnueabihf (Debian); the
# latter targets armv7-a with hard float by default (__ARM_ARCH == 7).
# Usage: build.sh OUTDIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: build.sh OUTDIR" >&2
  exit 2
fi
outdir=$1
source_file="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/hello.c"

# build DIR COMPILER [EXTRA_FLAGS...]: one static, stripped binary.
build() {
  local dir=$1 compiler=$2
  shift 2
  mkdir -p "$outdir/$dir"
  "$compiler" -static -O2 -s "$@" -o "$outdir/$dir/hello" "$source_file"
  echo "built $outdir/$dir/hello"
}

build amd64 gcc
build arm64 aarch64-linux-gnu-gcc
build arm-v7 arm-linux-gnueabihf-gcc
