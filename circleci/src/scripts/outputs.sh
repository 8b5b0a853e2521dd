# Shows what polyarch left in $BASH_ENV for the job's later steps (CircleCI
# sources it before each step, so these come from there).
echo "POLYARCH_DIGEST=${POLYARCH_DIGEST:-}"
echo "POLYARCH_TAGS=${POLYARCH_TAGS:-}"
echo "POLYARCH_PLATFORMS=${POLYARCH_PLATFORMS:-}"
