# `polyarch merge` of the digest files the legs left in PA_DIGEST_DIR (the
# attached workspace): one index over every leg, pushed under every tag.
# polyarch prints the index digest; the step appends POLYARCH_RESULT_DIGEST
# and POLYARCH_RESULT_TAGS to $BASH_ENV unless polyarch did.
digest_dir=$(pa_expand "$PA_DIGEST_DIR")
ARGS=(--ci circleci merge)
pa_add_tags
while IFS= read -r line; do ARGS+=("$line"); done < <(pa_lines "${PA_EXTRA_ARGS:-}")
ARGS+=("$digest_dir")
echo "polyarch ${ARGS[*]}"
before=$(wc -c <"${BASH_ENV:?}")
digest=$(polyarch "${ARGS[@]}")
echo "$digest"
if ! tail -c +"$((before + 1))" "$BASH_ENV" | grep -q '^export POLYARCH_RESULT_DIGEST='; then
  tags=()
  for ((i = 0; i < ${#ARGS[@]}; i++)); do [[ "${ARGS[i]}" != --tag ]] || tags+=("${ARGS[i + 1]}"); done
  printf 'export POLYARCH_RESULT_DIGEST=%q\nexport POLYARCH_RESULT_TAGS=%q\n' "$(tail -n 1 <<<"$digest")" \
    "$(IFS=,; echo "${tags[*]}")" >>"$BASH_ENV"
fi
