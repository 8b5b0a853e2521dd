# shellcheck shell=bash
# The shell half of the CodeBuild buildspecs: the install phase writes it to
# $PA_LIB (tests/plugins/sync_plugins.py copies this file, with
# plugins/install.sh, between the markers of codebuild/buildspec*.yml), and
# each later command runs one step of it: `bash "$PA_LIB" STEP`. CodeBuild
# keeps variables and the working directory from one command to the next,
# not shell functions, so every step is a whole script run.
#
# Steps: install (prints the binary's path), login, build (the one-job
# form), split (a leg or the merge of buildspec-batch.yml, by PA_STEP),
# report (prints the build report into the log).
# Settings arrive as PA_* variables (not POLYARCH_*, which polyarch itself
# reads as configuration); codebuild/README.md lists them.
set -euo pipefail

out_dir=${CODEBUILD_SRC_DIR:-$PWD}/${PA_OUT_DIR:-polyarch-out}

say() { echo "polyarch-codebuild: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# expand TEXT: TEXT with $NAME and ${NAME} replaced by environment values
# (CodeBuild passes env variables literally); nothing else is evaluated.
expand() {
  # shellcheck disable=SC2016 # a pattern that matches a literal $
  local text=$1 out="" name re='^([^$]*)\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))(.*)$'
  while [[ "$text" =~ $re ]]; do
    name=${BASH_REMATCH[3]:-${BASH_REMATCH[4]}}
    out+=${BASH_REMATCH[1]}${!name:-}
    text=${BASH_REMATCH[5]}
  done
  printf '%s' "$out$text"
}

# lines TEXT [SPLIT_COMMAS]: the non-empty lines of TEXT, trimmed.
lines() {
  local text=$1 line
  [[ -z "${2:-}" ]] || text=${text//,/$'\n'}
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [[ -z "$line" ]] || printf '%s\n' "$line"
  done <<<"$text"
}

# each FLAG TEXT [SPLIT_COMMAS]: appends FLAG LINE to ARGS for each line.
each() {
  local line
  while IFS= read -r line; do ARGS+=("$1" "$line"); done < <(lines "$2" "${3:-}")
}

# ecr_registry: ECR_REGISTRY, else this account's registry in this region
# (ACCOUNT.dkr.ecr.REGION.amazonaws.com from CODEBUILD_BUILD_ARN).
ecr_registry() {
  local arn=${CODEBUILD_BUILD_ARN:-} partition region account suffix=.amazonaws.com
  if [[ -n "${ECR_REGISTRY:-}" ]]; then
    expand "$ECR_REGISTRY"
    return
  fi
  IFS=: read -r _ partition _ region account _ <<<"$arn"
  [[ -n "$region" && -n "$account" ]] || return 0
  [[ "$partition" != aws-cn ]] || suffix=.amazonaws.com.cn
  printf '%s' "$account.dkr.ecr.$region$suffix"
}

step_install() {
  local installer="${TMPDIR:-/tmp}/polyarch-install-${CI_JOB_ID:-${CODEBUILD_BUILD_NUMBER:-0}}.sh" binary
  # A polyarch checkout among the build's sources can be built from.
  if [[ -z "${POLYARCH_SOURCE_DIR:-}" ]]; then
    if [[ -n "${CODEBUILD_SRC_DIR_polyarch:-}" ]]; then
      export POLYARCH_SOURCE_DIR=$CODEBUILD_SRC_DIR_polyarch
    elif [[ -f "${CODEBUILD_SRC_DIR:-.}/plugins/install.sh" && -d "${CODEBUILD_SRC_DIR:-.}/engine" ]]; then
      export POLYARCH_SOURCE_DIR=${CODEBUILD_SRC_DIR:-.}
    fi
  fi
  binary=$(bash "$installer" | tail -n 1)
  [[ -x "$binary" ]] || die "no polyarch binary (see the install log above)"
  "$binary" --version >&2
  echo "$binary"
}

step_login() {
  if [[ "${PA_ECR_LOGIN:-true}" == true ]]; then
    [[ -n "$ECR_REGISTRY" ]] || die "no ECR registry: set ECR_REGISTRY (or PA_ECR_LOGIN=false)"
    echo "polyarch login --aws $ECR_REGISTRY"
    polyarch login --aws "$ECR_REGISTRY"
  fi
  if [[ -n "${PA_LOGIN_REGISTRY:-}" ]]; then
    [[ -n "${PA_LOGIN_USERNAME:-}" && -n "${PA_LOGIN_PASSWORD:-}" ]] \
      || die "PA_LOGIN_REGISTRY needs PA_LOGIN_USERNAME and PA_LOGIN_PASSWORD (from secrets-manager)"
    echo "polyarch login $(expand "$PA_LOGIN_REGISTRY") -u $PA_LOGIN_USERNAME --password-stdin"
    printf '%s' "$PA_LOGIN_PASSWORD" | polyarch login "$(expand "$PA_LOGIN_REGISTRY")" -u "$PA_LOGIN_USERNAME" --password-stdin
  fi
}

# tags: the final tags, one a line: PA_TAGS, else `polyarch tags` over
# PA_IMAGE and PA_TAG_RULES.
tags() {
  local rules=() rule found
  if [[ -n "$(lines "${PA_TAGS:-}" ,)" ]]; then
    expand "$(lines "$PA_TAGS" ,)"
    echo
    return
  fi
  [[ -n "$PA_IMAGE" ]] || die "no tags: set PA_TAGS, or PA_IMAGE (with PA_TAG_RULES)"
  while IFS= read -r rule; do rules+=(--rule "$rule"); done < <(lines "${PA_TAG_RULES:-}")
  found=$(polyarch --ci codebuild tags --image "$PA_IMAGE" "${rules[@]}")
  [[ -n "$found" ]] || die "the tag rules give no tag for this build: set PA_TAGS or PA_TAG_RULES (e.g. type=sha)"
  echo "$found"
}

# build_args: ARGS for `polyarch build` from the PA_* settings.
build_args() {
  ARGS=(--ci codebuild build "${PA_CONTEXT:-.}" --platform "${PA_PLATFORMS:?PA_PLATFORMS is not set}")
  each --tag "$1"
  [[ -z "${PA_FILE:-}" ]] || ARGS+=(--file "$PA_FILE")
  [[ -z "${PA_TARGET:-}" ]] || ARGS+=(--target "$PA_TARGET")
  [[ -z "${PA_BACKEND:-}" || "$PA_BACKEND" == auto ]] || ARGS+=(--backend "$PA_BACKEND")
  [[ -z "${PA_PROVENANCE:-}" ]] || ARGS+=(--provenance "$PA_PROVENANCE")
  each --cache "$(expand "${PA_CACHE:-}")"
  each --build-arg "${PA_BUILD_ARGS:-}"
  each --label "${PA_LABELS:-}"
  each --annotation "${PA_ANNOTATIONS:-}"
}

# run_polyarch: prints and runs polyarch ARGS, the extra args last.
run_polyarch() {
  local line
  while IFS= read -r line; do ARGS+=("$line"); done < <(lines "${PA_EXTRA_ARGS:-}")
  echo "polyarch ${ARGS[*]}" >&2
  polyarch "${ARGS[@]}"
}

# summary_args FILE: --summary FILE when this polyarch writes build reports.
summary_args() {
  if polyarch build --help 2>&1 | grep -q -- --summary; then ARGS+=(--summary "$1"); fi
}

step_build() {
  local all
  all=$(tags)
  build_args "$all"
  mkdir -p "$out_dir"
  if [[ "${PA_PUSH:-true}" == true ]]; then
    ARGS+=(--push)
  else
    ARGS+=(--output "${PA_OUTPUT:-oci:$out_dir/image.oci.tar}")
  fi
  summary_args "$out_dir/summary.md"
  ARGS+=(--format json)
  run_polyarch >"$out_dir/build.json"
  cat "$out_dir/build.json"
}

# leg_ref LEG FIRST_TAG: where a leg's platforms are tagged for the merge:
# polyarch-COMMIT-LEG in the first tag's repository (TAG-LEG without a
# commit), so concurrent batches of other commits never mix.
leg_ref() {
  local leg=$1 first=$2 commit=${CODEBUILD_RESOLVED_SOURCE_VERSION:-} repository=$2 tag=latest
  if [[ "${first##*/}" == *:* ]]; then
    repository=${first%:*}
    tag=${first##*:}
  fi
  if [[ -n "$commit" ]]; then
    echo "$repository:polyarch-${commit:0:12}-$leg"
  else
    echo "$repository:$tag-$leg"
  fi
}

step_leg() {
  local all leg=${PA_LEG:-${CODEBUILD_BATCH_BUILD_IDENTIFIER:-}} digest_file ref
  [[ -n "$leg" ]] || die "no leg name: set PA_LEG (a batch build sets CODEBUILD_BATCH_BUILD_IDENTIFIER)"
  all=$(tags)
  ref=$(leg_ref "$leg" "$(head -n 1 <<<"$all")")
  digest_file="$out_dir/digests/$leg.json"
  mkdir -p "$out_dir/digests"
  build_args "$all"
  ARGS+=(--push-by-digest --digest-file "$digest_file")
  summary_args "$out_dir/summary-$leg.md"
  run_polyarch
  # The registry carries the leg to the merge build: its platforms under a tag.
  ARGS=(--ci codebuild merge --tag "$ref" "$digest_file")
  echo "polyarch ${ARGS[*]}" >&2
  polyarch "${ARGS[@]}"
}

step_merge() {
  local all first leg refs=() digest tags_line
  all=$(tags)
  first=$(head -n 1 <<<"$all")
  while IFS= read -r leg; do refs+=("$(leg_ref "$leg" "$first")"); done < <(lines "${PA_LEGS:?PA_LEGS is not set (the legs identifiers)}" ,)
  if polyarch merge --help 2>&1 | grep -q -- --from-tags; then
    ARGS=(--ci codebuild merge)
    each --tag "$all"
    if polyarch merge --help 2>&1 | grep -q -- --annotation; then each --annotation "${PA_ANNOTATIONS:-}"; fi
    # One --from-tags before each REF: right whether it is a switch over the
    # REF arguments or an option repeated per REF.
    for leg in "${refs[@]}"; do ARGS+=(--from-tags "$leg"); done
  else
    # A polyarch without merge --from-tags: the same index by manifest create.
    ARGS=(--ci codebuild manifest create)
    each --tag "$all"
    each --annotation "${PA_ANNOTATIONS:-}"
    ARGS+=("${refs[@]}")
  fi
  echo "polyarch ${ARGS[*]}" >&2
  digest=$(polyarch "${ARGS[@]}")
  echo "$digest"
  digest=$(tail -n 1 <<<"$digest")
  # A polyarch whose merge writes no CI outputs: the env file from its stdout.
  local env_file=${CODEBUILD_SRC_DIR:-.}/polyarch.env
  # An older polyarch's lines (POLYARCH_DIGEST, POLYARCH_TAGS …) go too: a
  # later polyarch would read POLYARCH_TAGS and POLYARCH_PLATFORMS as settings.
  if ! grep -q "^export POLYARCH_RESULT_DIGEST='$digest'" "$env_file" 2>/dev/null; then
    tags_line=$(paste -sd, <<<"$all")
    {
      grep -v '^export POLYARCH_\(RESULT_\)\?\(DIGEST\|TAGS\|PLATFORMS\)=' "$env_file" 2>/dev/null || true
      printf "export POLYARCH_RESULT_DIGEST='%s'\nexport POLYARCH_RESULT_TAGS='%s'\n" "$digest" "$tags_line"
    } >"$env_file.new"
    mv "$env_file.new" "$env_file"
  fi
  mkdir -p "$out_dir"
  printf '%s\n' "$digest" >"$out_dir/digest"
}

step_split() {
  case "${PA_STEP:-}" in
    leg) step_leg ;;
    merge) step_merge ;;
    "") die "PA_STEP is not set: start buildspec-batch.yml as a batch build (its build-graph sets PA_STEP for each build)" ;;
    *) die "unknown PA_STEP \"$PA_STEP\" (want leg or merge)" ;;
  esac
}

step_report() {
  local file
  for file in "$out_dir"/summary*.md; do
    [[ -f "$file" ]] || continue
    echo "---- ${file##*/}"
    cat "$file"
  done
}

# Expanded once, for every later expansion: ECR_REGISTRY (as derived), PA_IMAGE.
ECR_REGISTRY=$(ecr_registry)
PA_IMAGE=$(expand "${PA_IMAGE:-}")

case "${1:-}" in
  install) step_install ;;
  login) step_login ;;
  build) step_build ;;
  split) step_split ;;
  report) step_report ;;
  *) die "unknown step \"${1:-}\" (want install, login, build, split or report)" ;;
esac
