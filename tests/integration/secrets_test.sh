#!/usr/bin/env bash
# Secrets stay off command lines and out of logs: `polyarch -v build --secret
# id=…,env=VAR --push` through a fake buildah on PATH (it records its own
# /proc/self/cmdline and its parent's, i.e. what `ps` shows) to a real TLS +
# htpasswd docker-registry logged into with --password-stdin. Neither the
# secret's value, the password nor its base64 form may appear in any argv
# or in polyarch's output at -v; config.json is 0600 with no temporary file
# left beside it; the image lands.
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/secrets_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools docker-registry openssl htpasswd python3 base64 stat skopeo
make_workdir >/dev/null
W=$WORKDIR
export DOCKER_CONFIG="$W/docker-config"
unset DOCKER_AUTH_CONFIG SSL_CERT_FILE
start_registry "$W/registry" tls htpasswd

SECRET_VALUE="build-secret-$(openssl rand -hex 12)"
BASIC=$(printf '%s' "$REGISTRY_USER:$REGISTRY_PASSWORD" | base64 -w0)

# A one-platform image layout the fake builder hands back on `buildah push`.
printf 'hello\n' >"$W/hello"
expect_success template assemble --platform "linux/amd64=$W/hello" --tag app:1 \
  --output "oci-dir:$W/template"

# The fake buildah: records argv (NUL-separated, as /proc/PID/cmdline holds
# it) of itself and of its parent, then plays its part of the protocol.
mkdir -p "$W/bin" "$W/ctx"
cat >"$W/bin/buildah" <<FAKE
#!/bin/sh
{ cat /proc/\$\$/cmdline; printf '\n'; cat /proc/\$PPID/cmdline; printf '\n'; } >>"$W/cmdlines"
case "\$1" in
  build) while [ \$# -gt 0 ]; do
           if [ "\$1" = --iidfile ]; then echo "sha256:$(printf '%064d' 7)" >"\$2"; fi
           shift
         done ;;
  push) dest=\$(eval echo "\\\${\$#}"); cp -r "$W/template" "\${dest#oci:}" ;;
esac
exit 0
FAKE
chmod +x "$W/bin/buildah"
printf 'FROM scratch\nRUN --mount=type=secret,id=tok true\n' >"$W/ctx/Dockerfile"

# Log in the way CI should: the password on stdin.
expect_success login login "$REGISTRY" -u "$REGISTRY_USER" --password-stdin \
  --ca-cert "$REGISTRY_CA" <<<"$REGISTRY_PASSWORD"
assert_eq 600 "$(stat -c %a "$DOCKER_CONFIG/config.json")" "config.json mode"
assert_eq "config.json" "$(ls -A "$DOCKER_CONFIG")" "files beside config.json"

PATH="$W/bin:$PATH" MY_SECRET="$SECRET_VALUE" expect_success build -v build "$W/ctx" \
  --backend buildah --platform linux/amd64 --secret id=tok,env=MY_SECRET \
  --tag "$REGISTRY/app:1" --push --ca-cert "$REGISTRY_CA"
[[ -s "$W/cmdlines" ]] || fail "the fake buildah never ran"
cmdlines=$(tr '\0' ' ' <"$W/cmdlines")
assert_contains "$cmdlines" "build --platform linux/amd64" "the builder's command line"
assert_contains "$cmdlines" "--secret id=tok,env=MY_SECRET" "the builder's command line"
for secret in "$SECRET_VALUE" "$REGISTRY_PASSWORD" "$BASIC"; do
  if grep -qF -e "$secret" "$W/cmdlines"; then fail "a secret is on a command line: $cmdlines"; fi
done
assert_secret_absent "$SECRET_VALUE" "the build secret"
assert_secret_absent "$REGISTRY_PASSWORD" "the registry password"
assert_secret_absent "$BASIC" "the base64 login"
grep -q '^polyarch: [A-Z]* https://' "$RUN_ERR" || fail "-v printed no request lines: $(head -n 5 "$RUN_ERR")"

# The image is there, and config.json is still private and alone.
run_skopeo inspect --raw --cert-dir "$REGISTRY_CERT_DIR" \
  --creds "$REGISTRY_USER:$REGISTRY_PASSWORD" "docker://$REGISTRY/app:1" >"$W/pushed.json" \
  || fail "skopeo cannot read $REGISTRY/app:1"
assert_eq 600 "$(stat -c %a "$DOCKER_CONFIG/config.json")" "config.json mode after the build"
assert_eq "config.json" "$(ls -A "$DOCKER_CONFIG")" "files beside config.json after the build"
echo "PASS"
