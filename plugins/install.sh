#!/usr/bin/env bash
# Gets the polyarch binary for a CI job; every plugin runs this one script.
#
#   1. `polyarch` on PATH, when it is there and no other version is pinned;
#   2. else the release archive for this machine's architecture, verified
#      against the release's SHA256SUMS (a mismatch refuses: no fallback);
#   3. else (no release for this version or architecture, or no network)
#      a build from source with the README's step:
#        cmake -S SRC -B BUILD -G Ninja && cmake --build BUILD
#
# Settings (environment; every plugin maps its inputs onto them):
#   POLYARCH_VERSION      "1.2.3" pins a release; "" or "latest" takes any
#   POLYARCH_RELEASE_URL  releases base URL, default
#                         https://github.com/polyarch/polyarch/releases;
#                         files: download/vVERSION/FILE or latest/download/FILE
#   POLYARCH_SOURCE_DIR   a source checkout for step 3 (default: the
#                         checkout holding this script, when it has one)
#   POLYARCH_INSTALL_DIR  where a downloaded or built binary goes (default
#                         ${RUNNER_TEMP:-${TMPDIR:-/tmp}}/polyarch)
#   POLYARCH_INSTALL_FROM auto (default) | path | release | source
#
# Prints the binary's absolute path as the last line of stdout; progress goes
# to stderr. Exit status 1 when no step gives a working binary.
set -euo pipefail

say() { echo "polyarch-install: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

version=${POLYARCH_VERSION:-latest}
version=${version#v}
release_url=${POLYARCH_RELEASE_URL:-https://github.com/polyarch/polyarch/releases}
release_url=${release_url%/}
install_dir=${POLYARCH_INSTALL_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/polyarch}
from=${POLYARCH_INSTALL_FROM:-auto}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=${POLYARCH_SOURCE_DIR:-}
if [[ -z "$source_dir" && -f "$script_dir/../CMakeLists.txt" ]]; then
  source_dir=$(cd "$script_dir/.." && pwd)
fi
case "$from" in auto | path | release | source) ;; *) die "unknown POLYARCH_INSTALL_FROM \"$from\" (want auto, path, release or source)" ;; esac

# The release's name for this machine's architecture.
release_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    armv7l | armv7*) echo arm-v7 ;;
    *) echo "" ;;
  esac
}

# Prints the version a binary reports ("polyarch 1.2.3" -> 1.2.3), or "".
binary_version() {
  "$1" --version 2>/dev/null | sed -n 's/^polyarch[^0-9]*\([0-9][^ ]*\).*/\1/p' | head -n 1 || true
}

# fetch URL FILE: downloads with curl, wget or python3; fails quietly.
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 --connect-timeout 10 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1"
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
  fi
}

from_path() {
  local found
  found=$(command -v polyarch 2>/dev/null) || return 1
  if [[ "$version" != latest && "$(binary_version "$found")" != "$version" ]]; then
    say "polyarch on PATH ($found) is not version $version"
    return 1
  fi
  say "using polyarch on PATH: $found"
  echo "$found"
}

from_release() {
  local arch base archive tmp want got
  arch=$(release_arch)
  [[ -n "$arch" ]] || { say "no release for architecture $(uname -m)"; return 2; }
  if [[ "$version" == latest ]]; then base="$release_url/latest/download"; else base="$release_url/download/v$version"; fi
  archive="polyarch-linux-$arch.tar.gz"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/polyarch-install.XXXXXX")
  if ! fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || ! fetch "$base/$archive" "$tmp/$archive"; then
    rm -rf -- "$tmp"
    say "cannot download $base/$archive"
    return 2
  fi
  want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS" | head -n 1)
  got=$(sha256sum "$tmp/$archive" | cut -d' ' -f1)
  if [[ -z "$want" ]]; then
    rm -rf -- "$tmp"
    die "SHA256SUMS of $base lists no checksum for $archive: refusing to install it"
  fi
  if [[ "$want" != "$got" ]]; then
    rm -rf -- "$tmp"
    die "checksum mismatch for $base/$archive: expected sha256 $want, got $got: refusing to install it"
  fi
  mkdir -p "$tmp/x" "$install_dir"
  tar -xzf "$tmp/$archive" -C "$tmp/x" || { rm -rf -- "$tmp"; die "cannot extract $archive"; }
  local binary
  binary=$(find "$tmp/x" -type f -name polyarch | head -n 1)
  [[ -n "$binary" ]] || { rm -rf -- "$tmp"; die "$archive holds no polyarch binary"; }
  install -m 0755 "$binary" "$install_dir/polyarch"
  rm -rf -- "$tmp"
  say "installed polyarch $version ($arch, sha256 $got) from $base"
  echo "$install_dir/polyarch"
}

from_source() {
  [[ -n "$source_dir" && -f "$source_dir/CMakeLists.txt" ]] || { say "no source checkout to build from"; return 1; }
  local build="$install_dir/build"
  say "building polyarch from $source_dir"
  mkdir -p "$install_dir"
  { cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    && cmake --build "$build" --target polyarch; } >&2 || die "building from source failed"
  echo "$build/polyarch"
}

result=""
if [[ "$from" == auto || "$from" == path ]]; then result=$(from_path) || true; fi
if [[ -z "$result" && ("$from" == auto || "$from" == release) ]]; then
  status=0
  result=$(from_release) || status=$?
  # A refused download (checksum) ends here; a missing one may build.
  ((status != 1)) || exit 1
fi
if [[ -z "$result" && ("$from" == auto || "$from" == source) ]]; then result=$(from_source) || true; fi
[[ -n "$result" && -x "$result" ]] || die "no polyarch binary: not on PATH, no release download, no source build"
echo "$result"
