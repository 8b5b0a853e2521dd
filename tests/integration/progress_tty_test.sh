#!/usr/bin/env bash
# polyarch build's progress display really appears on a terminal: a FROM
# scratch build (COPY one file, buildah, the host's platform, into an OCI
# archive) with stderr on a pseudo-terminal 60 columns wide draws one line
# redrawn in place (cursor up, erase) and ends on "PLATFORM  done"; a failed
# build ends on "PLATFORM  failed" with the error after it. The same build
# with stderr to a file, or on a terminal with TERM=dumb or --quiet, has no
# escape sequence at all and prints the plain "[PLATFORM] …" lines as before.
# Needs no emulation, so it takes no binfmt lock.
#
# Standalone (root): POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#                      bash tests/integration/progress_tty_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ((EUID != 0)); then echo "SKIP: not root: buildah builds as root here"; exit 0; fi
command -v buildah >/dev/null 2>&1 || { echo "SKIP: buildah is not installed"; exit 0; }
case "$(uname -m)" in
  x86_64) platform=linux/amd64 ;;
  aarch64) platform=linux/arm64 ;;
  *) echo "SKIP: no native platform row for $(uname -m)"; exit 0 ;;
esac
require_polyarch
require_tools python3
make_workdir >/dev/null
w=$WORKDIR
cols=60
esc=$'\x1b'

mkdir -p "$w/ctx" "$w/bad" "$w/out"
echo "hello" >"$w/ctx/hello.txt"
printf 'FROM scratch\nCOPY hello.txt /hello.txt\n' >"$w/ctx/Dockerfile"
printf 'FROM scratch\nCOPY missing.txt /missing.txt\n' >"$w/bad/Dockerfile"

# on_tty NAME ARGS...: runs $POLYARCH ARGS with stdout in out/NAME.out and
# stderr on a fresh pseudo-terminal $cols columns wide, whose bytes land in
# out/NAME.tty; sets RUN_STATUS, RUN_OUT and RUN_TTY. TERM comes from the caller.
on_tty() {
  local name=$1
  shift
  RUN_OUT="$w/out/$name.out"
  RUN_TTY="$w/out/$name.tty"
  RUN_STATUS=0
  python3 - "$RUN_OUT" "$RUN_TTY" "$cols" "$POLYARCH" "$@" <<'PY' || RUN_STATUS=$?
import fcntl, os, pty, select, struct, subprocess, sys, termios
out_path, tty_path, cols, argv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
with open(out_path, "wb") as out:
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=slave,
                             start_new_session=True)
os.close(slave)
data = b""
while True:
    ready, _, _ = select.select([master], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        data += chunk
    elif child.poll() is not None:
        break
status = child.wait()
with open(tty_path, "wb") as tty:
    tty.write(data)
sys.exit(status)
PY
}

# tty_lines FILE: the lines a terminal shows for FILE's bytes, one per line
# drawn: CR LF ends a line, a leading CR and cursor-up go, erase-to-end goes.
tty_lines() {
  sed -e 's/\r$//' -e 's/^\r//' -e "s/^${esc}\[[0-9]*A//" -e "s/${esc}\[K\$//" "$1"
}

# 1. On a terminal: the plan line, then the display, ending on "done".
TERM=xterm on_tty tty build "$w/ctx" --platform "$platform" --backend buildah --tag app:1 \
  --output "oci:$w/tty.oci.tar"
((RUN_STATUS == 0)) || fail "build on a terminal exited $RUN_STATUS: $(tail -n 5 "$RUN_TTY")"
[[ "$(cat "$RUN_OUT")" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "stdout was not the index digest: $(cat "$RUN_OUT")"
tty_lines "$RUN_TTY" >"$w/tty.lines"
assert_eq "plan: $platform native" "$(head -n 1 "$w/tty.lines")" "first line on the terminal"
last=$(tail -n 1 "$w/tty.lines")
[[ "$last" =~ ^"$platform  done            built in "[0-9]+"s, "[0-9]+" B"$ ]] \
  || fail "the final line on the terminal is '$last', not '$platform  done            built in Ns, N B'"
grep -q "$esc\[K" "$RUN_TTY" || fail "no erase-to-end-of-line sequence on the terminal"
grep -q $'\r'"$esc\[1A$platform  done" "$RUN_TTY" || fail "the final frame was not drawn over the last one"
grep -q "^$platform  building [0-9]*s" "$w/tty.lines" || fail "no 'building Ns' frame: $(cat "$w/tty.lines")"
if grep -q "^\[$platform\] " "$w/tty.lines"; then
  fail "plain builder lines on the terminal: $(grep "^\[$platform\] " "$w/tty.lines" | head -n 2)"
fi
# Every line fits the terminal's width (TIOCGWINSZ), one column to spare.
longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n }' "$w/tty.lines")
((longest <= cols - 1)) || fail "a line of $longest columns on a $cols-column terminal: $(cat "$w/tty.lines")"
"$POLYARCH" manifest inspect "oci:$w/tty.oci.tar" >"$w/inspect.txt" || fail "manifest inspect of the archive exited $?"
grep -q "^$platform " "$w/inspect.txt" || fail "the archive holds no $platform image: $(cat "$w/inspect.txt")"

# 2. stderr to a file: the plain lines, word for word, and no escape sequence.
expect_success plain build "$w/ctx" --platform "$platform" --backend buildah --tag app:1 \
  --output "oci:$w/plain.oci.tar"
if grep -q "$esc" "$RUN_ERR"; then fail "escape sequences in stderr written to a file: $(cat -v "$RUN_ERR")"; fi
assert_eq "plan: $platform native" "$(head -n 1 "$RUN_ERR")" "first line of the plain output"
grep -qxF "[$platform] STEP 2/2: COPY hello.txt /hello.txt" "$RUN_ERR" \
  || fail "no plain '[$platform] STEP 2/2: …' line: $(cat "$RUN_ERR")"
if grep -q "  done" "$RUN_ERR"; then fail "a progress line in the plain output: $(cat "$RUN_ERR")"; fi

# 3. A terminal with TERM=dumb gets the same plain lines; --quiet prints nothing.
TERM=dumb on_tty dumb build "$w/ctx" --platform "$platform" --backend buildah --tag app:1 \
  --output "oci:$w/dumb.oci.tar"
((RUN_STATUS == 0)) || fail "build with TERM=dumb exited $RUN_STATUS: $(tail -n 5 "$RUN_TTY")"
if grep -q "$esc" "$RUN_TTY"; then fail "escape sequences with TERM=dumb: $(cat -v "$RUN_TTY")"; fi
grep -q "^\[$platform\] STEP 2/2: COPY hello.txt /hello.txt"$'\r'"\$" "$RUN_TTY" \
  || fail "no plain builder line with TERM=dumb: $(cat -v "$RUN_TTY")"
TERM=xterm on_tty quiet --quiet build "$w/ctx" --platform "$platform" --backend buildah --tag app:1 \
  --output "oci:$w/quiet.oci.tar"
((RUN_STATUS == 0)) || fail "build --quiet exited $RUN_STATUS: $(tail -n 5 "$RUN_TTY")"
[[ ! -s "$RUN_TTY" ]] || fail "build --quiet wrote to the terminal: $(cat -v "$RUN_TTY")"

# 4. A failed build on a terminal: its final line says "failed" with the
# builder's last line, cut to the terminal's width, and the error follows it.
TERM=xterm on_tty bad build "$w/bad" --platform "$platform" --backend buildah --tag app:1 \
  --output "oci:$w/bad.oci.tar"
assert_eq 1 "$RUN_STATUS" "exit status of a failed build on a terminal"
[[ ! -s "$RUN_OUT" ]] || fail "a failed build printed on stdout: $(cat "$RUN_OUT")"
tty_lines "$RUN_TTY" >"$w/bad.lines"
failed_line=$(tail -n 2 "$w/bad.lines" | head -n 1)
error_line=$(tail -n 1 "$w/bad.lines")
full="$platform  failed          Error: building at STEP \"COPY missing.txt /missing.txt\""
assert_eq "${full:0:cols-1}" "$failed_line" "the final line of a failed build on a $cols-column terminal"
assert_contains "$error_line" "polyarch: error: build for $platform failed (buildah exit " "error after the display"
assert_contains "$error_line" 'Error: building at STEP "COPY missing.txt /missing.txt"' "error after the display"
[[ ! -e "$w/bad.oci.tar" ]] || fail "a failed build wrote $w/bad.oci.tar"

echo "PASS progress_tty_test"
