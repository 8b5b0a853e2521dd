# Shows what polyarch left in $BASH_ENV for the job's later steps (CircleCI
# sources it before each step, so these come from there).
echo "POLYARCH_RESULT_DIGEST=${POLYARCH_RESULT_DIGEST:-}"
echo "POLYARCH_RESULT_TAGS=${POLYARCH_RESULT_TAGS:-}"
echo "POLYARCH_RESULT_PLATFORMS=${POLYARCH_RESULT_PLATFORMS:-}"
