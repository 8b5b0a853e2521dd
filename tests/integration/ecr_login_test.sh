#!/usr/bin/env bash
# ECR logins without the AWS CLI: `polyarch login --aws REGISTRY` signs
# ecr:GetAuthorizationToken with Signature Version 4 and saves the token's
# password for a real docker-registry (htpasswd user "AWS"). The endpoint is
# fake_ecr.js, which checks every signature with @aws-sdk/signature-v4 and
# refuses a bad one as AWS does. Cases: a long-term key pair (saved 0600 in
# config.json; a push and skopeo then use that login), temporary keys whose
# session token must be sent and signed, the container credentials endpoint
# (FULL_URI + token file), a wrong secret key, missing credentials, a bad
# container token, an ECR host name picking the AWS route and its region by
# itself. No secret may appear in any output.
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/ecr_login_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=ecr.sh
source "$(dirname "${BASH_SOURCE[0]}")/ecr.sh"

require_polyarch
require_tools skopeo docker-registry openssl htpasswd python3 node stat base64
make_workdir >/dev/null
W=$WORKDIR
unset DOCKER_AUTH_CONFIG SSL_CERT_FILE
start_ecr_registry "$W/registry"
start_fake_ecr "$W/ecr" "$ECR_REGISTRY_PASSWORD" "$REGISTRY"

# aws_env_reset: no AWS variable of the caller's, a fresh empty DOCKER_CONFIG
# dir named after $1, and the fake as the ECR endpoint.
aws_env_reset() {
  local name
  for name in $(compgen -e | grep '^AWS_' || true); do unset "$name"; done
  export DOCKER_CONFIG="$W/docker-$1"
  mkdir -p "$DOCKER_CONFIG"
  export AWS_ENDPOINT_URL_ECR=$FAKE_ECR AWS_REGION=$FAKE_ECR_REGION
}

# auth_of CONFIG_JSON HOST: the "auth" field saved for HOST.
auth_of() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"])' "$1" "$2"
}

# last_request FIELD: FIELD of the fake's last logged request.
last_request() {
  tail -n 1 "$FAKE_ECR_LOG" >"$W/last.json"
  json_field "$W/last.json" "$1"
}

# expect_saved WHAT: config.json holds exactly AWS:password for $REGISTRY, mode 0600.
expect_saved() {
  local file="$DOCKER_CONFIG/config.json"
  [[ -f "$file" ]] || fail "$1: no $file"
  assert_eq 600 "$(stat -c %a "$file")" "$1: mode of config.json"
  assert_eq "$(printf 'AWS:%s' "$ECR_REGISTRY_PASSWORD" | base64 -w0)" "$(auth_of "$file" "$REGISTRY")" \
    "$1: the saved auth"
}

# expect_nothing_saved WHAT: no config.json was written.
expect_nothing_saved() {
  [[ ! -e "$DOCKER_CONFIG/config.json" ]] || fail "$1: config.json was written: $(cat "$DOCKER_CONFIG/config.json")"
}

# 1. A long-term key pair from the environment, at -v.
aws_env_reset keys
export AWS_ACCESS_KEY_ID=$FAKE_ECR_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FAKE_ECR_SECRET_ACCESS_KEY
expect_success keys -v login --aws "$REGISTRY"
assert_contains "$(cat "$RUN_ERR")" "Login Succeeded" "login --aws with keys"
[[ ! -s "$RUN_OUT" ]] || fail "login printed on stdout: $(cat "$RUN_OUT")"
expect_saved "login --aws with keys"
assert_eq 200 "$(last_request status)" "GetAuthorizationToken answered"
assert_eq "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" "$(last_request target)" "X-Amz-Target"
assert_eq "content-type;host;x-amz-date;x-amz-target" "$(last_request signedHeaders)" "signed headers without a token"
assert_eq false "$(last_request tokenSent)" "a session token sent for long-term keys"
if grep -qF "$FAKE_ECR_SECRET_ACCESS_KEY" "$DOCKER_CONFIG/config.json"; then fail "config.json holds the AWS secret key"; fi

# 2. The saved login is all a push needs, and skopeo reads it too.
echo "pushed with an ECR login" >"$W/payload.txt"
expect_success push assemble --platform "linux/amd64=$W/payload.txt" --tag "$REGISTRY/app:1" --push
digest=$(head -n 1 "$RUN_OUT")
run_skopeo inspect --raw --tls-verify=false --authfile "$DOCKER_CONFIG/config.json" "docker://$REGISTRY/app:1" \
  >"$W/pushed.json" || fail "skopeo with the saved login cannot read $REGISTRY/app:1"
assert_eq "$digest" "sha256:$(sha256sum <"$W/pushed.json" | cut -d' ' -f1)" "digest of the pushed image"
if run_skopeo inspect --raw --tls-verify=false --no-creds "docker://$REGISTRY/app:1" >/dev/null 2>&1; then
  fail "the registry answered without a login: the test proves nothing"
fi

# 3. Temporary keys: the session token is sent and signed (AWS_ENDPOINT_URL
#    and AWS_DEFAULT_REGION this time); without it AWS refuses the key.
aws_env_reset session
unset AWS_ENDPOINT_URL_ECR AWS_REGION
export AWS_ENDPOINT_URL=$FAKE_ECR AWS_DEFAULT_REGION=$FAKE_ECR_REGION
export AWS_ACCESS_KEY_ID=$FAKE_ECR_TEMP_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FAKE_ECR_TEMP_SECRET_ACCESS_KEY
export AWS_SESSION_TOKEN=$FAKE_ECR_SESSION_TOKEN
expect_success session login --aws "$REGISTRY"
expect_saved "login --aws with a session token"
assert_eq "content-type;host;x-amz-date;x-amz-security-token;x-amz-target" "$(last_request signedHeaders)" \
  "signed headers with a token"
assert_eq true "$(last_request tokenSent)" "session token sent"
aws_env_reset no-token
export AWS_ACCESS_KEY_ID=$FAKE_ECR_TEMP_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FAKE_ECR_TEMP_SECRET_ACCESS_KEY
expect_failure 1 no-token login --aws "$REGISTRY"
assert_eq "polyarch: error: cannot log in to $REGISTRY through AWS: GetAuthorizationToken at $FAKE_ECR/ answered HTTP 403 (UnrecognizedClientException: The security token included in the request is invalid.)" \
  "$RUN_ERROR" "temporary keys without their token"
expect_nothing_saved "temporary keys without their token"

# 4. A wrong secret key: the signature does not check out; nothing is saved.
aws_env_reset wrong
export AWS_ACCESS_KEY_ID=$FAKE_ECR_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FAKE_ECR_TEMP_SECRET_ACCESS_KEY
expect_failure 1 wrong login --aws "$REGISTRY"
assert_eq "polyarch: error: cannot log in to $REGISTRY through AWS: GetAuthorizationToken at $FAKE_ECR/ answered HTTP 403 (InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.)" \
  "$RUN_ERROR" "a wrong secret key"
assert_eq InvalidSignatureException "$(last_request error)" "the fake's verdict on a wrong secret key"
expect_nothing_saved "a wrong secret key"

# 5. No credentials at all, half a key pair, no region: bad input, no request.
aws_env_reset none
mark=$(log_mark "$FAKE_ECR_LOG")
expect_failure 2 none login --aws "$REGISTRY"
assert_eq "polyarch: error: cannot log in to $REGISTRY through AWS: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or run where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI is set" \
  "$RUN_ERROR" "no AWS credentials"
export AWS_ACCESS_KEY_ID=$FAKE_ECR_ACCESS_KEY_ID
expect_failure 2 half login --aws "$REGISTRY"
assert_eq "polyarch: error: cannot log in to $REGISTRY through AWS: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither" \
  "$RUN_ERROR" "half a key pair"
unset AWS_REGION
export AWS_SECRET_ACCESS_KEY=$FAKE_ECR_SECRET_ACCESS_KEY
expect_failure 2 no-region login --aws "$REGISTRY"
assert_eq "polyarch: error: no AWS region for \"$REGISTRY\": set AWS_REGION (the host is not an ECR registry ACCOUNT.dkr.ecr.REGION.amazonaws.com, which names its region)" \
  "$RUN_ERROR" "no region"
expect_failure 2 aws-and-user login --aws -u AWS "$REGISTRY"
assert_eq "polyarch: error: login through AWS takes no -u or --password-stdin: the password comes from ecr:GetAuthorizationToken" \
  "$RUN_ERROR" "--aws with -u"
expect_failure 2 aws-no-registry login --aws
assert_eq "polyarch: error: login --aws needs a registry, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com" \
  "$RUN_ERROR" "--aws without a registry"
assert_eq "" "$(fake_ecr_requests "$mark")" "requests sent without credentials or region"
expect_nothing_saved "no credentials"

# 6. The container credentials endpoint (FULL_URI, token from a file).
aws_env_reset container
printf '%s\n' "$FAKE_ECR_CONTAINER_TOKEN" >"$W/container-token"
chmod 600 "$W/container-token"
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKE_ECR_CONTAINER_URI
export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$W/container-token"
export AWS_CONTAINER_AUTHORIZATION_TOKEN=not-the-token   # the file wins, as in the AWS SDKs
mark=$(log_mark "$FAKE_ECR_LOG")
expect_success container -v login --aws "$REGISTRY"
expect_saved "login --aws from the container endpoint"
fake_ecr_requests "$mark" >"$W/container.log"
assert_eq 2 "$(wc -l <"$W/container.log")" "requests of a container login"
head -n 1 "$W/container.log" >"$W/first.json"
assert_eq "GET $FAKE_ECR_CONTAINER_PATH 200" \
  "$(json_field "$W/first.json" method) $(json_field "$W/first.json" path) $(json_field "$W/first.json" status)" \
  "the container credentials request"
assert_eq "$FAKE_ECR_CONTAINER_ACCESS_KEY_ID" "$(last_request keyId)" "key signing after the container answered"
assert_eq true "$(last_request tokenSent)" "container session token sent"
assert_eq 200 "$(last_request status)" "GetAuthorizationToken with container credentials"
aws_env_reset container-bad
export AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKE_ECR_CONTAINER_URI AWS_CONTAINER_AUTHORIZATION_TOKEN=not-the-token
expect_failure 1 container-bad login --aws "$REGISTRY"
assert_eq "polyarch: error: cannot log in to $REGISTRY through AWS: cannot get AWS credentials from the container credentials endpoint $FAKE_ECR_CONTAINER_URI: HTTP 401" \
  "$RUN_ERROR" "a wrong container authorization token"
expect_nothing_saved "a wrong container authorization token"
aws_env_reset container-remote
export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/credentials
expect_failure 2 container-remote login --aws "$REGISTRY"
assert_eq "polyarch: error: cannot log in to $REGISTRY through AWS: AWS_CONTAINER_CREDENTIALS_FULL_URI \"http://example.com/credentials\" must use https, or http to a loopback or container credentials address (169.254.170.2, 169.254.170.23, [fd00:ec2::23])" \
  "$RUN_ERROR" "plain http to a remote credentials host"

# 7. An ECR host name alone picks the AWS route, and its own region (over
#    AWS_REGION): the fake, scoped to us-east-1, names the region it got.
aws_env_reset ecr-host
export AWS_ACCESS_KEY_ID=$FAKE_ECR_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$FAKE_ECR_SECRET_ACCESS_KEY
ecr_host=123456789012.dkr.ecr.eu-west-1.amazonaws.com
expect_failure 1 ecr-host login "$ecr_host"
assert_eq "polyarch: error: cannot log in to $ecr_host through AWS: GetAuthorizationToken at $FAKE_ECR/ answered HTTP 403 (InvalidSignatureException: Credential should be scoped to a valid region, not 'eu-west-1'.)" \
  "$RUN_ERROR" "an ECR host's own region"
expect_failure 2 ecr-host-user login -u AWS "$ecr_host"
assert_eq "polyarch: error: login reads the password from stdin: add --password-stdin" "$RUN_ERROR" \
  "an ECR host with -u takes the ordinary route"
expect_nothing_saved "an ECR host name"

# 8. No secret in any output: keys, tokens, the registry password.
assert_no_fake_ecr_secret "a secret of the ECR test"
assert_secret_absent "$(printf 'AWS:%s' "$ECR_REGISTRY_PASSWORD" | base64 -w0)" "the saved auth"
echo "PASS ecr_login_test"
