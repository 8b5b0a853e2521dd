#!/usr/bin/env bash
# Resumable work: polyarch push, copy and assemble --push (build's publish
# step: the same push_to_tags -> copy_image path) are killed with SIGKILL in
# the middle of their blob uploads, and run again. tests/faultproxy holds
# every blob upload after the first K (the kill lands while uploads are in
# flight, with exactly K blobs in the registry); the second run must upload
# exactly the missing blobs — counted at the proxy, and in the registry's
# own access log — push each manifest once, and end with the same digest as
# an uninterrupted run. Between the runs no tag exists (nothing is tagged
# before its children), and afterwards a walk of the registry finds nothing
# missing.
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/reliability_resume_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../faultproxy/faultproxy.sh
source "$SOURCE_DIR/tests/faultproxy/faultproxy.sh"

require_polyarch
require_tools skopeo docker-registry python3 curl sha256sum head
make_workdir >/dev/null
W=$WORKDIR
export DOCKER_CONFIG="$W/docker-config"
unset DOCKER_AUTH_CONFIG
mkdir -p "$DOCKER_CONFIG"

# 1. Three platforms, 256 KiB of random bytes each: six blobs (a layer and a
#    config per platform), three manifests and an index.
for p in amd64 arm64 arm-v7; do
  mkdir -p "$W/root/$p"
  head -c 262144 /dev/urandom >"$W/root/$p/data.bin"
  echo "linux/$p" >"$W/root/$p/platform.txt"
done
ASSEMBLE=(assemble --platform "linux/amd64=$W/root/amd64" --platform "linux/arm64=$W/root/arm64"
  --platform "linux/arm/v7=$W/root/arm-v7" --entrypoint /data.bin)
"$POLYARCH" -q "${ASSEMBLE[@]}" --tag app:1 --output "oci:$W/app.oci.tar" >"$W/app.digest" \
  || fail "polyarch assemble --output oci:$W/app.oci.tar exited $?"
WANT=$(cat "$W/app.digest")
"$POLYARCH" manifest inspect --raw "oci:$W/app.oci.tar" >"$W/index.json" \
  || fail "polyarch manifest inspect --raw oci:$W/app.oci.tar exited $?"
assert_eq "$WANT" "sha256:$(sha256sum <"$W/index.json" | cut -d' ' -f1)" "digest of the archive's index"
BLOBS=6

# 2. Registry S holds the source of the copy; registry D receives everything,
#    through the proxy P.
mkdir -p "$W/source" "$W/dest"
: >"$W/source/registry.log"
: >"$W/dest/registry.log"
start_registry "$W/source"
S=$REGISTRY
"$POLYARCH" -q push "oci:$W/app.oci.tar" "$S/app:1" >/dev/null || fail "push to the source registry exited $?"
start_registry "$W/dest"
D=$REGISTRY
D_LOG=$REGISTRY_LOG
start_faultproxy "$D" "$W/proxy" --rate 0
P=$FAULTPROXY

# blobs_in REPO: how many of the image's six blobs registry D holds in REPO.
blobs_in() {
  python3 - "$W/app.oci.tar" "$D" "$1" <<'PY'
import json, sys, tarfile, urllib.request, urllib.error
archive, registry, repo = sys.argv[1:]
with tarfile.open(archive) as tar:
    read = lambda d: tar.extractfile("blobs/sha256/" + d.split(":")[1]).read()
    index = json.loads(read(json.load(tar.extractfile("index.json"))["manifests"][0]["digest"]))
    digests = set()
    for child in index["manifests"]:
        manifest = json.loads(read(child["digest"]))
        digests |= {manifest["config"]["digest"]} | {l["digest"] for l in manifest["layers"]}
present = 0
for digest in digests:
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/blobs/{digest}", method="HEAD")
    try:
        urllib.request.urlopen(req, timeout=10)
        present += 1
    except urllib.error.HTTPError as e:
        if e.code != 404:
            raise
print(present)
PY
}

# kill_and_resume NAME REPO KEEP ARGS…: runs polyarch ARGS (which write
# P/REPO:1) with the proxy holding every blob upload after the first KEEP,
# SIGKILLs it once the other uploads are held, checks what is left, then
# runs ARGS again without the hold and checks that exactly the missing
# blobs were uploaded and the digest is WANT.
kill_and_resume() {
  local name=$1 repo=$2 keep=$3 pid status mark first second
  shift 3
  faultproxy_reset
  faultproxy_config "{\"hold_uploads_after\": $keep}"
  "$POLYARCH" -q "$@" >"$W/$name.first.out" 2>"$W/$name.first.err" &
  pid=$!
  # Four uploads at a time: once KEEP are in, the remaining ones (at most
  # four) hang at the proxy, mid-transfer.
  local held=$((BLOBS - keep > 4 ? 4 : BLOBS - keep))
  faultproxy_wait_for uploaded "$keep" "$name, first run"
  faultproxy_wait_for held "$held" "$name, first run"
  kill -KILL "$pid"
  status=0
  wait "$pid" 2>/dev/null || status=$?  # (no "Killed" notice)
  assert_eq 137 "$status" "exit status of the killed $name"
  # The held uploads die with their client; only then may the hold go.
  faultproxy_wait_for dropped "$held" "$name, after the kill"
  faultproxy_counters "$W/$name.first.json"
  first=$(faultproxy_count "$W/$name.first.json" uploaded)
  assert_eq "$keep" "$first" "blobs uploaded by the killed $name"
  assert_eq "$keep" "$(blobs_in "$repo")" "blobs of $repo in the registry after the killed $name"
  if curl -fs -o /dev/null "http://$D/v2/$repo/manifests/1"; then
    fail "$repo:1 exists after the killed $name: a tag before its children"
  fi

  faultproxy_config '{"hold_uploads_after": null}'
  faultproxy_reset
  mark=$(log_mark "$D_LOG")
  expect_success "$name.second" "$@"
  assert_eq "$WANT" "$(head -n 1 "$RUN_OUT")" "digest printed by the second $name"
  faultproxy_counters "$W/$name.second.json"
  second=$(faultproxy_count "$W/$name.second.json" uploaded)
  assert_eq $((BLOBS - keep)) "$second" "blobs uploaded by the second $name (counted at the proxy)"
  assert_eq $((BLOBS - keep)) "$(faultproxy_count "$W/$name.second.json" "requests.PUT blob-upload")" \
    "blob upload PUTs of the second $name"
  assert_eq $((BLOBS - keep)) "$(registry_requests "$D_LOG" "$mark" | grep -c "^PUT /v2/$repo/blobs/uploads/.* 201$")" \
    "blob uploads of the second $name in the registry's log"
  assert_eq "$BLOBS" "$(faultproxy_count "$W/$name.second.json" "requests.HEAD blob")" \
    "blob HEADs of the second $name"
  # Three manifests by digest and the index under its tag, once each.
  assert_eq 4 "$(faultproxy_count "$W/$name.second.json" "requests.PUT manifest")" \
    "manifest PUTs of the second $name"
  python3 - "$W/$name.first.json" "$W/$name.second.json" <<'PY' || fail "$name: the second run uploaded a blob the first had"
import json, sys
first, second = (set(json.load(open(f))["uploaded"]) for f in sys.argv[1:])
sys.exit(1 if first & second or len(first | second) != 6 else 0)
PY
  assert_eq "$BLOBS" "$(blobs_in "$repo")" "blobs of $repo in the registry after the second $name"
  run_skopeo inspect --raw --tls-verify=false "docker://$D/$repo:1" >"$W/$name.index.json" \
    || fail "skopeo inspect --raw docker://$D/$repo:1 exited $?"
  assert_same_file "$W/index.json" "$W/$name.index.json" "index of $repo:1 read by skopeo"
  echo "$name: killed after $first of $BLOBS blob uploads ($held held); the second run uploaded $second"
}

# 3. push of an oci: archive, copy from registry S (streamed from S straight
#    into the upload), and assemble --push (build's publish step).
kill_and_resume push pushed 2 push "oci:$W/app.oci.tar" "$P/pushed:1"
kill_and_resume copy copied 3 copy "$S/app:1" "$P/copied:1"
kill_and_resume publish published 1 "${ASSEMBLE[@]}" --tag "$P/published:1" --push

python3 "$SOURCE_DIR/tests/faultproxy/registry_walk.py" "$D" \
  || fail "registry D holds tags that point at missing manifests or blobs"
echo "PASS reliability_resume"
