# One `polyarch build` from the PA_* settings (the build command's
# parameters); a leg of a split build when PA_DIGEST_DIR is set: each
# platform pushed by digest, the digests written to
# PA_DIGEST_DIR/<platforms>.json for the merge job. polyarch appends its
# outputs (POLYARCH_RESULT_DIGEST, POLYARCH_RESULT_TAGS,
# POLYARCH_RESULT_PLATFORMS) to $BASH_ENV.
platforms=$(pa_lines "$PA_PLATFORMS" commas | paste -sd, -)
[[ -n "$platforms" ]] || { echo "polyarch: the platforms parameter is empty" >&2; exit 1; }
ARGS=(--ci circleci build "$(pa_expand "${PA_CONTEXT:-.}")" --platform "$platforms")
pa_add_tags
[[ -z "${PA_FILE:-}" ]] || ARGS+=(--file "$(pa_expand "$PA_FILE")")
[[ -z "${PA_TARGET:-}" ]] || ARGS+=(--target "$(pa_expand "$PA_TARGET")")
[[ -z "${PA_BACKEND:-}" || "$PA_BACKEND" == auto ]] || ARGS+=(--backend "$PA_BACKEND")
[[ -z "${PA_PROVENANCE:-}" ]] || ARGS+=(--provenance "$PA_PROVENANCE")
[[ -z "${PA_JOBS:-}" ]] || ARGS+=(--jobs "$PA_JOBS")
[[ -z "${PA_CONFIG:-}" ]] || ARGS+=(--config "$(pa_expand "$PA_CONFIG")")
pa_add --cache "${PA_CACHE:-}"
pa_add --build-arg "${PA_BUILD_ARGS:-}"
pa_add --label "${PA_LABELS:-}"
pa_add --annotation "${PA_ANNOTATIONS:-}"
pa_add --secret "${PA_SECRETS:-}"
if [[ -n "${PA_DIGEST_DIR:-}" ]]; then
  digest_dir=$(pa_expand "$PA_DIGEST_DIR")
  mkdir -p "$digest_dir"
  ARGS+=(--push-by-digest --digest-file "$digest_dir/$(pa_slug "${platforms//,/_}").json")
elif pa_true "${PA_PUSH:-true}"; then
  ARGS+=(--push)
elif [[ -n "${PA_OUTPUT:-}" ]]; then
  ARGS+=(--output "$(pa_expand "$PA_OUTPUT")")
fi
# --summary only where this polyarch has it (a pinned older release may not).
if [[ -n "${PA_SUMMARY:-}" ]] && polyarch build --help 2>&1 | grep -- --summary >/dev/null; then
  summary=$(pa_expand "$PA_SUMMARY")
  mkdir -p "$(dirname "$summary")"
  ARGS+=(--summary "$summary")
fi
while IFS= read -r line; do ARGS+=("$line"); done < <(pa_lines "${PA_EXTRA_ARGS:-}")
echo "polyarch ${ARGS[*]}"
polyarch "${ARGS[@]}"
