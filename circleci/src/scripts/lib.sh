# shellcheck shell=bash
# Helpers shared by the orb's steps: `circleci orb pack` inlines this file
# before each step's own script. Settings arrive as PA_* step variables
# (POLYARCH_* ones are polyarch's own configuration; its outputs are
# POLYARCH_RESULT_*, which it never reads).

# pa_expand TEXT: TEXT with $NAME and ${NAME} replaced by the variable's value
# (empty when unset) and $$ by a literal $; nothing else is evaluated.
pa_expand() {
  local text=$1 out=""
  while [[ "$text" == *'$'* ]]; do
    out+=${text%%'$'*}
    text=${text#*'$'}
    if [[ "$text" == '$'* ]]; then
      out+='$'
      text=${text:1}
    elif [[ "$text" =~ ^\{([A-Za-z_][A-Za-z0-9_]*)\}(.*)$ ]] || [[ "$text" =~ ^([A-Za-z_][A-Za-z0-9_]*)(.*)$ ]]; then
      out+=${!BASH_REMATCH[1]:-}
      text=${BASH_REMATCH[2]}
    else
      out+='$'
    fi
  done
  printf '%s' "$out$text"
}

# pa_true VALUE: succeeds for a true boolean parameter (true, 1, yes or on).
pa_true() {
  case "${1,,}" in
    true | 1 | yes | on) return 0 ;;
    *) return 1 ;;
  esac
}

# pa_lines TEXT [commas]: prints each non-empty line of TEXT, trimmed and
# expanded; with "commas", commas separate items too.
pa_lines() {
  local text=$1 line
  [[ "${2:-}" != commas ]] || text=${text//,/$'\n'}
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    line=${line%"${line##*[![:space:]]}"}
    [[ -z "$line" ]] || pa_expand "$line"$'\n'
  done <<<"$text"
}

# pa_add FLAG TEXT [commas]: appends FLAG ITEM to ARGS for each item of TEXT.
pa_add() {
  local item
  while IFS= read -r item; do
    [[ -z "$item" ]] || ARGS+=("$1" "$item")
  done < <(pa_lines "$2" "${3:-}")
}

# pa_add_tags: appends --tag REF to ARGS for each tag: the tags parameter,
# else the ones the tags step computed from images and tag rules (it leaves
# them in POLYARCH_RESULT_TAGS through $BASH_ENV).
pa_add_tags() {
  if [[ -n "$(pa_lines "${PA_TAGS:-}" commas)" ]]; then
    pa_add --tag "$PA_TAGS" commas
  elif [[ -n "${PA_IMAGES:-}" ]]; then
    pa_add --tag "${POLYARCH_RESULT_TAGS:-}" commas
  fi
}

# pa_slug TEXT: TEXT with every run of characters other than letters, digits,
# dots and dashes turned into one dash (linux/arm/v7 -> linux-arm-v7).
pa_slug() {
  local text=$1
  text=${text//[^A-Za-z0-9.-]/-}
  while [[ "$text" == *--* ]]; do text=${text//--/-}; done
  text=${text#-}
  printf '%s' "${text%-}"
}
