# Registers QEMU binfmt_misc handlers for the platforms this machine cannot
# run natively and proves each one runs (nothing to do for native ones).
# Registering needs root: through sudo when the job runs as another user.
platforms=$(pa_lines "$PA_PLATFORMS" commas | paste -sd, -)
ARGS=(emulate --platform "${platforms:-all}")
! pa_true "${PA_CHECK:-false}" || ARGS+=(--check)
polyarch=$(command -v polyarch) || { echo "polyarch: not on PATH: run polyarch/install first" >&2; exit 1; }
if [[ "$(id -u)" != 0 ]] && command -v sudo >/dev/null 2>&1; then
  echo "sudo polyarch ${ARGS[*]}"
  sudo -n "$polyarch" "${ARGS[@]}"
else
  echo "polyarch ${ARGS[*]}"
  "$polyarch" "${ARGS[@]}"
fi
