# shellcheck shell=bash
# The shell half of the GitLab component, inlined into each template's script
# (tests/plugins/sync_plugins.py copies it, with plugins/install.sh, between
# the markers). Settings arrive as PA_* job variables (not POLYARCH_*, which polyarch
# itself reads as configuration).
POLYARCH=$(bash "${TMPDIR:-/tmp}/polyarch-install-${CI_JOB_ID:-${CODEBUILD_BUILD_NUMBER:-0}}.sh" | tail -n 1)
[[ -x "$POLYARCH" ]] || { echo "polyarch: no binary (see the install log above)" >&2; exit 1; }
echo "polyarch: $POLYARCH"

# polyarch_each FLAG TEXT: appends FLAG LINE to ARGS for each non-empty line
# of TEXT (with commas as line breaks when FLAG is --tag).
polyarch_each() {
  local flag=$1 text=$2 line
  [[ "$flag" != --tag ]] || text=${text//,/$'\n'}
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [[ -z "$line" ]] || ARGS+=("$flag" "$line")
  done <<<"$text"
}

# polyarch_login: logs in to CI_REGISTRY with the job's credentials (stdin).
polyarch_login() {
  [[ "${PA_REGISTRY_LOGIN:-true}" == true && -n "${CI_REGISTRY:-}" ]] || return 0
  if [[ -n "${CI_REGISTRY_USER:-}" && -n "${CI_REGISTRY_PASSWORD:-}" ]]; then
    printf '%s' "$CI_REGISTRY_PASSWORD" | "$POLYARCH" login "$CI_REGISTRY" -u "$CI_REGISTRY_USER" --password-stdin
  elif [[ -n "${CI_JOB_TOKEN:-}" ]]; then
    printf '%s' "$CI_JOB_TOKEN" | "$POLYARCH" login "$CI_REGISTRY" -u gitlab-ci-token --password-stdin
  fi
}

# polyarch_tags: the tags, or `polyarch tags` over PA_TAG_RULES.
polyarch_tags() {
  if [[ -n "${PA_TAGS//[[:space:],]/}" ]]; then
    polyarch_each --tag "$PA_TAGS"
  else
    local rules=() line
    while IFS= read -r line; do [[ -z "$line" ]] || rules+=(--rule "$line"); done <<<"${PA_TAG_RULES:-}"
    polyarch_each --tag "$("$POLYARCH" --ci gitlab tags --image "${CI_REGISTRY_IMAGE:?no tags and no CI_REGISTRY_IMAGE}" "${rules[@]}")"
  fi
}

# polyarch_build: one `polyarch build` from the POLYARCH_* variables; a leg of
# a split build when PA_DIGEST_FILE is set.
polyarch_build() {
  polyarch_login
  ARGS=(--ci gitlab build "${PA_CONTEXT:-.}" --platform "$PA_PLATFORMS")
  polyarch_tags
  [[ -z "${PA_FILE:-}" ]] || ARGS+=(--file "$PA_FILE")
  [[ -z "${PA_TARGET:-}" ]] || ARGS+=(--target "$PA_TARGET")
  [[ -z "${PA_BACKEND:-}" || "$PA_BACKEND" == auto ]] || ARGS+=(--backend "$PA_BACKEND")
  [[ -z "${PA_PROVENANCE:-}" ]] || ARGS+=(--provenance "$PA_PROVENANCE")
  polyarch_each --cache "${PA_CACHE:-}"
  polyarch_each --build-arg "${PA_BUILD_ARGS:-}"
  polyarch_each --label "${PA_LABELS:-}"
  polyarch_each --annotation "${PA_ANNOTATIONS:-}"
  if [[ -n "${PA_DIGEST_FILE:-}" ]]; then
    mkdir -p "$(dirname "$PA_DIGEST_FILE")"
    ARGS+=(--push-by-digest --digest-file "$PA_DIGEST_FILE")
  elif [[ "${PA_PUSH:-true}" == true ]]; then
    ARGS+=(--push)
  elif [[ -n "${PA_OUTPUT:-}" ]]; then
    ARGS+=(--output "$PA_OUTPUT")
  fi
  if [[ -n "${PA_SUMMARY:-}" ]] && "$POLYARCH" build --help 2>&1 | grep -q -- --summary; then
    ARGS+=(--summary "$PA_SUMMARY")
  fi
  local line
  while IFS= read -r line; do [[ -z "$line" ]] || ARGS+=("$line"); done <<<"${PA_EXTRA_ARGS:-}"
  echo "polyarch ${ARGS[*]}"
  "$POLYARCH" "${ARGS[@]}"
}

# polyarch_merge: `polyarch merge` of the digest files in PA_DIGESTS.
polyarch_merge() {
  polyarch_login
  ARGS=(--ci gitlab merge)
  polyarch_tags
  polyarch_each --annotation "${PA_ANNOTATIONS:-}"
  ARGS+=("$PA_DIGESTS")
  echo "polyarch ${ARGS[*]}"
  local dotenv=${POLYARCH_DOTENV:-polyarch.env} digest
  rm -f "$dotenv"
  digest=$("$POLYARCH" "${ARGS[@]}")
  echo "$digest"
  # A polyarch whose merge writes no CI outputs: the report from its stdout.
  # An older polyarch's lines (POLYARCH_DIGEST, POLYARCH_TAGS …) go: later
  # jobs' polyarch would read POLYARCH_TAGS and POLYARCH_PLATFORMS as settings.
  if ! grep -q '^POLYARCH_RESULT_DIGEST=' "$dotenv" 2>/dev/null; then
    local tags=() i
    for ((i = 0; i < ${#ARGS[@]}; i++)); do [[ "${ARGS[i]}" != --tag ]] || tags+=("${ARGS[i + 1]}"); done
    {
      grep -v '^POLYARCH_\(DIGEST\|TAGS\|PLATFORMS\)=' "$dotenv" 2>/dev/null || true
      printf 'POLYARCH_RESULT_DIGEST=%s\nPOLYARCH_RESULT_TAGS=%s\n' "$(tail -n 1 <<<"$digest")" "$(IFS=,; echo "${tags[*]}")"
    } >"$dotenv.new"
    mv "$dotenv.new" "$dotenv"
  fi
}
