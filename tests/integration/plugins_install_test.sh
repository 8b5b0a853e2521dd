#!/usr/bin/env bash
# plugins/install.sh, the one way every plugin gets the binary: polyarch on
# PATH is used as it is; else a release archive from a local HTTP server
# (python3 -m http.server serving a fake release) installs when its SHA-256
# matches SHA256SUMS and is refused, with nothing installed, when it does
# not; a pinned version takes download/vVERSION/, "latest" latest/download/.
#
# Standalone: POLYARCH=/path/to/polyarch bash tests/integration/plugins_install_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools python3 sha256sum tar
make_workdir >/dev/null
w=$WORKDIR
install_sh="$SOURCE_DIR/plugins/install.sh"
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) echo "SKIP: no release name for $(uname -m)"; exit 0 ;; esac

# A fake release: a "polyarch" that prints its version, in 1.2.3 and latest.
make_release() {
  local dir=$1 version=$2
  mkdir -p "$dir/pkg"
  printf '#!/bin/sh\necho "polyarch %s"\n' "$version" >"$dir/pkg/polyarch"
  chmod +x "$dir/pkg/polyarch"
  tar -czf "$dir/polyarch-linux-$arch.tar.gz" -C "$dir/pkg" polyarch
  (cd "$dir" && sha256sum "polyarch-linux-$arch.tar.gz" >SHA256SUMS)
}
make_release "$w/www/download/v1.2.3" 1.2.3
make_release "$w/www/latest/download" 9.9.9
make_release "$w/www/download/v6.6.6" 6.6.6
echo "0000000000000000000000000000000000000000000000000000000000000000  polyarch-linux-$arch.tar.gz" \
  >"$w/www/download/v6.6.6/SHA256SUMS"

python3 -u -c '
import http.server, socketserver, sys, functools
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
with socketserver.TCPServer(("127.0.0.1", 0), handler) as s:
    print("listening on 127.0.0.1:%d" % s.server_address[1], flush=True)
    s.serve_forever()' "$w/www" >"$w/http.log" 2>&1 &
_integ_pids+=("$!")
url="http://$(_integ_wait_listening "$!" "$w/http.log" "http.server")"

# install NAME [VAR=VALUE…]: runs install.sh with a PATH that has no polyarch
# (unless PATH is given), stdout in $w/NAME.out, stderr in $w/NAME.err.
install() {
  local name=$1
  shift
  STATUS=0
  env PATH=/usr/bin:/bin POLYARCH_RELEASE_URL="$url" POLYARCH_INSTALL_DIR="$w/inst-$name" \
    POLYARCH_SOURCE_DIR=/nonexistent "$@" bash "$install_sh" >"$w/$name.out" 2>"$w/$name.err" || STATUS=$?
}

# 1. On PATH: used as it is.
mkdir -p "$w/onpath"
ln -s "$POLYARCH" "$w/onpath/polyarch"
install path PATH="$w/onpath:/usr/bin:/bin"
assert_eq 0 "$STATUS" "install.sh with polyarch on PATH"
assert_eq "$w/onpath/polyarch" "$(tail -n 1 "$w/path.out")" "binary found on PATH"

# 2. A pinned release with a good checksum installs that version.
install pinned POLYARCH_VERSION=1.2.3
assert_eq 0 "$STATUS" "install.sh of v1.2.3: $(cat "$w/pinned.err")"
assert_eq "$w/inst-pinned/polyarch" "$(tail -n 1 "$w/pinned.out")" "installed path"
assert_eq "polyarch 1.2.3" "$("$w/inst-pinned/polyarch" --version)" "installed version"

# 3. A pinned version other than PATH's downloads instead.
install pinned-other PATH="$w/onpath:/usr/bin:/bin" POLYARCH_VERSION=v1.2.3
assert_eq 0 "$STATUS" "install.sh of v1.2.3 next to another polyarch on PATH"
assert_eq "$w/inst-pinned-other/polyarch" "$(tail -n 1 "$w/pinned-other.out")" "pinned version wins over PATH"

# 4. latest.
install latest
assert_eq "polyarch 9.9.9" "$("$(tail -n 1 "$w/latest.out")" --version)" "latest release"

# 5. A bad checksum refuses, installs nothing, and builds nothing instead.
install bad POLYARCH_VERSION=6.6.6
assert_eq 1 "$STATUS" "install.sh with a bad checksum"
assert_contains "$(cat "$w/bad.err")" "polyarch-install: error: checksum mismatch for $url/download/v6.6.6/polyarch-linux-$arch.tar.gz: expected sha256 0000000000000000000000000000000000000000000000000000000000000000, got " "error for a bad checksum"
assert_contains "$(cat "$w/bad.err")" ": refusing to install it" "error for a bad checksum"
[[ ! -e "$w/inst-bad/polyarch" ]] || fail "a binary with a bad checksum was installed"
[[ ! -s "$w/bad.out" ]] || fail "install.sh printed a path although it refused: $(cat "$w/bad.out")"

# 6. No such release and no source: a clear failure.
install missing POLYARCH_VERSION=4.0.0
assert_eq 1 "$STATUS" "install.sh of a release that does not exist"
assert_contains "$(cat "$w/missing.err")" "polyarch-install: error: no polyarch binary: not on PATH, no release download, no source build" "error without any way"
echo "PASS plugins_install_test"
