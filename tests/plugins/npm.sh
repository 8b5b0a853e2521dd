# npm packages for the plugin tests (sourced after tests/integration/lib.sh).
#
# plugins_npm NAME PACKAGE…: installs PACKAGEs (quietly, from the npm registry
# only) into $POLYARCH_PLUGIN_NPM/NAME (default /tmp/polyarch-plugin-npm/NAME),
# once: later runs reuse it. Sets NPM_DIR to that directory. Exits 0 with
# "SKIP: …" when npm is missing or the install fails: the only reason a
# plugin test skips. gitlab-ci-local needs the native module re2: its install
# compiles it with node-gyp (a few minutes, the first time only) against the
# local Node.js headers; RE2_DOWNLOAD_SKIP_* keep it from trying GitHub.
plugins_npm() {
  local name=$1
  shift
  local base=${POLYARCH_PLUGIN_NPM:-/tmp/polyarch-plugin-npm}
  NPM_DIR="$base/$name"
  local stamp="$NPM_DIR/.installed" want="$*"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v npm >/dev/null 2>&1 || { echo "SKIP: npm is not installed (needed for $want)"; exit 0; }
  mkdir -p "$NPM_DIR"
  (
    flock 9
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && exit 0
    RE2_DOWNLOAD_SKIP_PATH=1 RE2_DOWNLOAD_SKIP_VER=1 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
      --loglevel=error --no-save "$@" >"$NPM_DIR/install.log" 2>&1 || exit 1
    echo "$want" >"$stamp"
  ) 9>"$NPM_DIR/.lock" || { echo "SKIP: npm install $want failed (see $NPM_DIR/install.log)"; exit 0; }
}
