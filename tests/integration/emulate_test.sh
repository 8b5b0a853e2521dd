#!/usr/bin/env bash
# polyarch emulate on the real binfmt_misc (root): registers QEMU handlers from
# qemu-user-static, proves arm64, arm/v7, ppc64le, s390x and riscv64 with the
# embedded probes, reports and repairs a disabled handler and one whose
# interpreter is missing, uninstalls only its own handlers, and finally puts
# binfmt_misc back exactly as it was (it passes whatever was registered before).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
PLATFORMS=linux/arm64,linux/arm/v7,linux/ppc64le,linux/s390x,linux/riscv64
HANDLERS=(qemu-aarch64 qemu-arm qemu-ppc64le qemu-s390x qemu-riscv64)
STATE_FILE=/run/polyarch/binfmt-handlers

skip() {
  echo "SKIP emulate_test: $*"
  exit 0
}
((EUID == 0)) || skip "not root: binfmt_misc cannot be mounted or written"
for h in aarch64 arm ppc64le s390x riscv64; do require_tools "qemu-$h-static"; done
if [[ ! -e "$BINFMT_DIR/register" ]]; then
  mount -t binfmt_misc binfmt_misc "$BINFMT_DIR" 2>/dev/null \
    || skip "binfmt_misc cannot be mounted on $BINFMT_DIR here"
  umount "$BINFMT_DIR"
fi

make_workdir >/dev/null
W=$WORKDIR
SAVED=$(mktemp -d "${TMPDIR:-/tmp}/polyarch-binfmt-saved.XXXXXX")
binfmt_save "$SAVED"
binfmt_snapshot >"$SAVED/before.txt"
if [[ -f "$STATE_FILE" ]]; then cp "$STATE_FILE" "$SAVED/state-file"; fi
restore_machine() {
  binfmt_restore "$SAVED"
  rm -f "$STATE_FILE"
  if [[ -f "$SAVED/state-file" ]]; then cp "$SAVED/state-file" "$STATE_FILE"; fi
  rm -rf -- "$SAVED"
}
trap '_st=$?; set +e; restore_machine; (exit $_st); _integ_cleanup' EXIT

# Start from "no handlers for these platforms" whatever the machine had: any
# handler whose interpreter is a QEMU for one of them goes (restored at exit).
if [[ -e "$BINFMT_DIR/register" ]]; then
  for entry in "$BINFMT_DIR"/*; do
    case "${entry##*/}" in register | status) continue ;; esac
    if grep -Eq '^interpreter .*(qemu-(aarch64|arm|ppc64le|s390x|riscv64)(-static)?|(aarch64|arm|ppc64le|s390x|riscv64)-binfmt-P)$' "$entry"; then
      echo -1 >"$entry"
    fi
  done
fi
rm -f "$STATE_FILE"

# json_platform FILE PLATFORM KEY: one field of one platform's report.
json_platform() {
  python3 - "$@" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for p in doc["platforms"]:
    if p["platform"] == sys.argv[2]:
        v = p[sys.argv[3]]
        print(v if isinstance(v, str) else json.dumps(v))
PY
}

# 1. Set up and prove the five platforms.
"$POLYARCH" emulate --platform "$PLATFORMS" --format json >"$W/setup.json" 2>"$W/setup.err" \
  || fail "emulate exited $? ($(cat "$W/setup.err"))"
for p in ${PLATFORMS//,/ }; do
  assert_eq emulated "$(json_platform "$W/setup.json" "$p" state)" "$p state"
  assert_eq true "$(json_platform "$W/setup.json" "$p" works)" "$p works"
  [[ "$(json_platform "$W/setup.json" "$p" flags)" == *F* ]] || fail "$p handler lacks the F flag"
done
assert_eq qemu-aarch64 "$(json_platform "$W/setup.json" linux/arm64 handler)" "arm64 handler"
assert_eq /usr/libexec/qemu-binfmt/aarch64-binfmt-P \
  "$(json_platform "$W/setup.json" linux/arm64 interpreter)" "arm64 interpreter"
assert_eq '["registered handler qemu-aarch64: /usr/libexec/qemu-binfmt/aarch64-binfmt-P (flags OPF)"]' \
  "$(json_platform "$W/setup.json" linux/arm64 actions)" "arm64 actions"
assert_eq true "$(json_field "$W/setup.json" binfmtMisc.mounted)" "binfmt_misc mounted"
for h in "${HANDLERS[@]}"; do
  assert_eq enabled "$(head -n 1 "$BINFMT_DIR/$h")" "$h entry"
  grep -q "^$h " "$STATE_FILE" || fail "$STATE_FILE does not record $h"
done
grep -qx 'flags: POF' "$BINFMT_DIR/qemu-aarch64" || fail "qemu-aarch64 flags: $(grep flags "$BINFMT_DIR/qemu-aarch64")"

# A second run changes nothing and says all five work.
"$POLYARCH" emulate --check --platform "$PLATFORMS" >"$W/check.txt"
assert_eq 5 "$(grep -c ' emulated  qemu-' "$W/check.txt")" "emulated rows in --check"

# The kernel really runs arm64 code now, even in a chroot with no QEMU (F flag).
if command -v aarch64-linux-gnu-gcc >/dev/null; then
  mkdir -p "$W/chroot"
  printf '#include <stdio.h>\nint main(void){puts("hello from arm64");return 0;}\n' >"$W/hello.c"
  aarch64-linux-gnu-gcc -static -o "$W/chroot/hello" "$W/hello.c"
  assert_eq "hello from arm64" "$(chroot "$W/chroot" /hello)" "arm64 binary in a chroot"
fi

# 2. A disabled handler is broken for --check (which changes nothing) and repaired by a run.
echo 0 >"$BINFMT_DIR/qemu-s390x"
status=0
"$POLYARCH" emulate --check --platform linux/s390x >"$W/disabled.txt" 2>"$W/disabled.err" || status=$?
assert_eq 1 "$status" "--check exit status with a disabled handler"
assert_eq "linux/s390x     broken    handler qemu-s390x is disabled" "$(tail -n 1 "$W/disabled.txt")" "--check row"
grep -qF "polyarch: error: linux/s390x is broken: handler qemu-s390x is disabled; fix: run \`polyarch emulate --platform linux/s390x\` as root, or run on a native linux/s390x runner" \
  "$W/disabled.err" || fail "--check stderr: $(cat "$W/disabled.err")"
assert_eq disabled "$(head -n 1 "$BINFMT_DIR/qemu-s390x")" "--check left the handler alone"
"$POLYARCH" emulate --platform linux/s390x >"$W/repair.txt" 2>"$W/repair.err" \
  || fail "repair exited $? ($(cat "$W/repair.err"))"
assert_eq "polyarch: linux/s390x: enabled handler qemu-s390x" "$(cat "$W/repair.err")" "repair stderr"
assert_eq enabled "$(head -n 1 "$BINFMT_DIR/qemu-s390x")" "qemu-s390x after repair"

# 3. A handler whose interpreter is missing is broken, and the report names the path.
riscv_magic=$(sed -n 's/^magic //p' "$BINFMT_DIR/qemu-riscv64" | sed 's/../\\x&/g')
riscv_mask=$(sed -n 's/^mask //p' "$BINFMT_DIR/qemu-riscv64" | sed 's/../\\x&/g')
printf '%s' ":polyarch-test-riscv64:M::$riscv_magic:$riscv_mask:/nonexistent/polyarch-test/qemu-riscv64:" \
  >"$BINFMT_DIR/register"
status=0
"$POLYARCH" emulate --check --platform linux/riscv64 --format json >"$W/gone.json" 2>/dev/null || status=$?
assert_eq 1 "$status" "--check exit status with a missing interpreter"
assert_eq broken "$(json_platform "$W/gone.json" linux/riscv64 state)" "riscv64 state"
assert_eq "interpreter /nonexistent/polyarch-test/qemu-riscv64 of handler polyarch-test-riscv64 does not exist" \
  "$(json_platform "$W/gone.json" linux/riscv64 reason)" "riscv64 reason"
"$POLYARCH" emulate --platform linux/riscv64 --format json >"$W/gone-fixed.json" 2>/dev/null \
  || fail "repairing riscv64 exited $?"
assert_eq emulated "$(json_platform "$W/gone-fixed.json" linux/riscv64 state)" "riscv64 after repair"
assert_eq disabled "$(head -n 1 "$BINFMT_DIR/polyarch-test-riscv64")" "broken handler disabled"
echo -1 >"$BINFMT_DIR/polyarch-test-riscv64"

# 4. --uninstall removes only what polyarch registered; --force removes the rest.
# Someone else registers ppc64le again, with another interpreter.
ppc_magic=$(sed -n 's/^magic //p' "$BINFMT_DIR/qemu-ppc64le" | sed 's/../\\x&/g')
ppc_mask=$(sed -n 's/^mask //p' "$BINFMT_DIR/qemu-ppc64le" | sed 's/../\\x&/g')
echo -1 >"$BINFMT_DIR/qemu-ppc64le"
printf '%s' ":qemu-ppc64le:M::$ppc_magic:$ppc_mask:/usr/bin/qemu-ppc64le-static:F" >"$BINFMT_DIR/register"
"$POLYARCH" emulate --uninstall --platform "$PLATFORMS" --format json >"$W/uninstall.json"
assert_eq '["qemu-aarch64","qemu-arm","qemu-s390x","qemu-riscv64"]' \
  "$(json_field "$W/uninstall.json" removed)" "handlers uninstalled"
for h in qemu-aarch64 qemu-arm qemu-s390x qemu-riscv64; do
  [[ ! -e "$BINFMT_DIR/$h" ]] || fail "$h is still registered after --uninstall"
done
[[ -e "$BINFMT_DIR/qemu-ppc64le" ]] || fail "--uninstall removed a handler polyarch did not register"
[[ ! -e "$STATE_FILE" ]] || fail "$STATE_FILE remains after --uninstall: $(cat "$STATE_FILE")"
assert_eq "removed handler qemu-ppc64le (/usr/bin/qemu-ppc64le-static)" \
  "$("$POLYARCH" emulate --uninstall --force --platform linux/ppc64le)" "--uninstall --force"

# 5. Without root, emulate says so and exits 1; --check still reports.
if command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$POLYARCH"; then
  status=0
  setpriv --reuid=65534 --regid=65534 --clear-groups "$POLYARCH" emulate --platform linux/arm64 \
    >/dev/null 2>"$W/noroot.err" || status=$?
  assert_eq 1 "$status" "non-root exit status"
  grep -qF "polyarch: error: setting up emulation needs root" "$W/noroot.err" \
    || fail "non-root stderr: $(cat "$W/noroot.err")"
  status=0
  setpriv --reuid=65534 --regid=65534 --clear-groups "$POLYARCH" emulate --check \
    --platform linux/arm64,linux/amd64 >"$W/noroot.txt" 2>/dev/null || status=$?
  assert_eq 1 "$status" "non-root --check exit status"
  grep -q '^linux/amd64     native' "$W/noroot.txt" || fail "non-root --check: $(cat "$W/noroot.txt")"
fi

# 6. Bad input is exit 2.
status=0
"$POLYARCH" emulate --platform linux/arm65 2>"$W/bad.err" || status=$?
assert_eq 2 "$status" "bad platform exit status"

# Finally the machine is exactly as it was.
cp "$SAVED/before.txt" "$W/before.txt"
trap _integ_cleanup EXIT
restore_machine
binfmt_snapshot >"$W/after.txt"
assert_same_file "$W/before.txt" "$W/after.txt" "binfmt_misc state after the test"
echo "PASS emulate_test"
