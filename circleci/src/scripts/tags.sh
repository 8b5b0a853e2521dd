# Computes the tags from images and tag rules with `polyarch tags` (the
# docker/metadata-action rules over CIRCLE_BRANCH, CIRCLE_TAG, CIRCLE_SHA1,
# CIRCLE_PULL_REQUEST …). polyarch prints them and leaves them in $BASH_ENV
# as POLYARCH_TAGS (and POLYARCH_VERSION) for the next steps.
ARGS=(--ci circleci tags)
pa_add --image "$PA_IMAGES"
pa_add --rule "${PA_TAG_RULES:-}"
pa_add --flavor "${PA_FLAVOR:-}"
pa_clear_outputs
echo "polyarch ${ARGS[*]}"
polyarch "${ARGS[@]}"
