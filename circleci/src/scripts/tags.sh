# Computes the tags from images and tag rules with `polyarch tags` (the
# docker/metadata-action rules over CIRCLE_BRANCH, CIRCLE_TAG, CIRCLE_SHA1,
# CIRCLE_PULL_REQUEST …). polyarch prints them and leaves them in $BASH_ENV
# as POLYARCH_RESULT_TAGS (and POLYARCH_RESULT_VERSION) for the next steps;
# the step appends POLYARCH_RESULT_TAGS from what it printed unless polyarch
# did (an older release).
ARGS=(--ci circleci tags)
pa_add --image "$PA_IMAGES"
pa_add --rule "${PA_TAG_RULES:-}"
pa_add --flavor "${PA_FLAVOR:-}"
echo "polyarch ${ARGS[*]}"
touch "${BASH_ENV:?}"
before=$(wc -c <"$BASH_ENV")
tags=$(polyarch "${ARGS[@]}")
[[ -z "$tags" ]] || printf '%s\n' "$tags"
if ! grep -q '^export POLYARCH_RESULT_TAGS=' < <(tail -c +"$((before + 1))" "$BASH_ENV"); then
  printf 'export POLYARCH_RESULT_TAGS=%q\n' "$(paste -sd, - <<<"$tags")" >>"$BASH_ENV"
fi
