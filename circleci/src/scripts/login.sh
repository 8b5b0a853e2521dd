# Logs in to PA_REGISTRY with the credentials in the environment variables
# that PA_USERNAME_VAR and PA_PASSWORD_VAR name (env_var_name parameters).
# The password reaches `polyarch login` on stdin only: never argv, never the log.
registry=$(pa_expand "$PA_REGISTRY")
user=${!PA_USERNAME_VAR:-}
password=${!PA_PASSWORD_VAR:-}
if [[ -z "$user" || -z "$password" ]]; then
  echo "polyarch: cannot log in to $registry: set \$$PA_USERNAME_VAR and \$$PA_PASSWORD_VAR" \
    "(project or context environment variables), or leave the registry parameter empty" >&2
  exit 1
fi
printf '%s' "$password" | polyarch --ci circleci login "$registry" -u "$user" --password-stdin
