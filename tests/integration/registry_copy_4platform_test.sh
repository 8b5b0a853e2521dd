#!/usr/bin/env bash
# polyarch copy moves a four-platform image (linux/amd64, arm64, arm/v7,
# ppc64le; a 4 MiB random layer file each) between two registries; every
# blob is then pulled back from the destination over the Distribution API and
# its sha256 checked against its digest, and skopeo pulls the whole image.
# Failed copies (destination down, a source blob missing) exit 1 with one
# line and leave no tag in the destination.
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/registry_copy_4platform_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools skopeo docker-registry openssl python3 sha256sum cmp dd \
  gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc
make_workdir >/dev/null
W=$WORKDIR
export DOCKER_CONFIG="$W/docker-config"
unset DOCKER_AUTH_CONFIG
mkdir -p "$DOCKER_CONFIG"

# digest_of FILE: "sha256:<hex>" of the file's bytes.
digest_of() {
  echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
}

# tag_absent REF WHAT: fails when skopeo finds REF.
tag_absent() {
  if run_skopeo inspect --raw --tls-verify=false "docker://$1" >/dev/null 2>&1; then
    fail "$2: $1 exists"
  fi
}

# 1. Four root filesystems: hello (a text file for ppc64le, never run) and
#    4 MiB of random bytes, so every layer is distinct and incompressible.
bash "$SOURCE_DIR/examples/hello/build.sh" "$W/bin" >/dev/null || fail "examples/hello/build.sh failed"
mkdir -p "$W/root/ppc64le"
echo "hello from linux/ppc64le (not a program)" >"$W/root/ppc64le/hello"
for name in amd64 arm64 arm-v7; do
  mkdir -p "$W/root/$name"
  cp "$W/bin/$name/hello" "$W/root/$name/hello"
done
for name in amd64 arm64 arm-v7 ppc64le; do
  dd if=/dev/urandom of="$W/root/$name/random.bin" bs=1M count=4 status=none
done
"$POLYARCH" assemble \
  --platform "linux/amd64=$W/root/amd64" \
  --platform "linux/arm64=$W/root/arm64" \
  --platform "linux/arm/v7=$W/root/arm-v7" \
  --platform "linux/ppc64le=$W/root/ppc64le" \
  --entrypoint /hello --tag big:1.0 --output "oci:$W/big.oci.tar" >/dev/null \
  || fail "polyarch assemble of four platforms exited $?"
"$POLYARCH" manifest inspect --raw "oci:$W/big.oci.tar" >"$W/index.json" \
  || fail "polyarch manifest inspect --raw oci:$W/big.oci.tar exited $?"
INDEX_DIGEST=$(digest_of "$W/index.json")

# 2. Two registries: A holds the image (pushed by skopeo), B receives the copy.
start_registry "$W/registry-a"
A=$REGISTRY
start_registry "$W/registry-b"
B=$REGISTRY
B_PID=$REGISTRY_PID
run_skopeo copy --all --dest-tls-verify=false \
  "oci-archive:$W/big.oci.tar:1.0" "docker://$A/big:1.0" >/dev/null \
  || fail "skopeo copy --all to docker://$A/big:1.0 exited $?"

expect_success copy copy --jobs 4 "$A/big:1.0" "$B/big:1.0"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by copy A -> B"
assert_eq "blobs: 8 copied, 0 mounted, 0 already there" "$(tail -n 1 "$RUN_ERR")" "copy summary"
run_skopeo inspect --raw --tls-verify=false "docker://$B/big:1.0" >"$W/b-index.json" \
  || fail "skopeo inspect --raw docker://$B/big:1.0 exited $?"
assert_same_file "$W/index.json" "$W/b-index.json" "index B serves"

# 3. Pull every manifest and blob back from B by digest; each one's sha256
#    and size must match its descriptor, and there must be 4 platforms with a
#    layer of at least 4 MiB each.
python3 - "http://$B" big "$INDEX_DIGEST" <<'PY' || fail "pulling the image back from $B: see above"
import hashlib, json, sys, urllib.request

base, repo, top = sys.argv[1:4]
accept = ", ".join(["application/vnd.oci.image.index.v1+json",
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.docker.distribution.manifest.v2+json"])
checked = 0

def get(kind, digest, size=None):
    global checked
    request = urllib.request.Request("%s/v2/%s/%s/%s" % (base, repo, kind, digest),
                                     headers={"Accept": accept})
    data = urllib.request.urlopen(request, timeout=30).read()
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if actual != digest:
        sys.exit("%s %s: the bytes B serves hash to %s" % (kind, digest, actual))
    if size is not None and len(data) != size:
        sys.exit("%s %s: %d bytes, the descriptor says %d" % (kind, digest, len(data), size))
    checked += 1
    return data

index = json.loads(get("manifests", top))
platforms = []
for entry in index["manifests"]:
    p = entry["platform"]
    platforms.append("/".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x))
    manifest = json.loads(get("manifests", entry["digest"], entry["size"]))
    config = json.loads(get("blobs", manifest["config"]["digest"], manifest["config"]["size"]))
    if config["architecture"] != p["architecture"]:
        sys.exit("config of %s says architecture %s" % (platforms[-1], config["architecture"]))
    largest = 0
    for layer in manifest["layers"]:
        get("blobs", layer["digest"], layer["size"])
        largest = max(largest, layer["size"])
    if largest < 4 * 1024 * 1024:
        sys.exit("%s: largest layer is %d bytes, expected 4 MiB or more" % (platforms[-1], largest))
if sorted(platforms) != ["linux/amd64", "linux/arm/v7", "linux/arm64", "linux/ppc64le"]:
    sys.exit("platforms in B's index: %s" % platforms)
if checked != 1 + 4 + 8:
    sys.exit("checked %d manifests and blobs, expected 13" % checked)
PY

# An independent client pulls the whole image from B, verifying as it goes.
run_skopeo copy --all --src-tls-verify=false "docker://$B/big:1.0" "oci:$W/pulled:1.0" >/dev/null \
  || fail "skopeo copy --all docker://$B/big:1.0 oci:$W/pulled:1.0 exited $?"
assert_eq 13 "$(find "$W/pulled/blobs/sha256" -type f | wc -l | tr -d ' ')" "blobs skopeo pulled from $B"
for blob in "$W/pulled/blobs/sha256/"*; do
  assert_eq "sha256:${blob##*/}" "$(digest_of "$blob")" "blob $blob pulled by skopeo"
done

# 4. Copying again finds everything there.
expect_success copy-again copy "$A/big:1.0" "$B/big:1.0"
assert_eq "blobs: 0 copied, 0 mounted, 8 already there" "$(tail -n 1 "$RUN_ERR")" "second copy summary"

# 5. A source blob gone missing: the copy fails with one line naming the
#    source registry, and the destination gets no tag.
missing_blob=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["layers"][-1]["digest"])' \
  < <(run_skopeo inspect --raw --tls-verify=false "docker://$A/big@$(json_field "$W/index.json" manifests.3.digest)"))
blob_file="$W/registry-a/data/docker/registry/v2/blobs/sha256/${missing_blob:7:2}/${missing_blob#sha256:}/data"
[[ -f "$blob_file" ]] || fail "registry A stores no file $blob_file for $missing_blob"
rm -- "$blob_file"
expect_failure 1 copy-missing-blob copy --jobs 1 "$A/big:1.0" "$B/partial:1.0"
assert_contains "$RUN_ERROR" "$A" "missing-blob copy message"
tag_absent "$B/partial:1.0" "after a copy whose source lost a blob"

# 6. The destination down: exit 1, one line naming it, quickly; after a
#    restart on the same storage, no new tag exists and the old one is whole.
kill "$B_PID"
wait "$B_PID" 2>/dev/null || true
start=$SECONDS
expect_failure 1 copy-to-down copy "$A/big:1.0" "$B/big:2.0"
assert_contains "$RUN_ERROR" "$B" "destination-down message"
((SECONDS - start < 30)) || fail "copy to a registry that is down took $((SECONDS - start)) s"
start_registry "$W/registry-b"
tag_absent "$REGISTRY/big:2.0" "after a copy to a registry that was down"
run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/big:1.0" >"$W/b-index-again.json" \
  || fail "skopeo inspect --raw docker://$REGISTRY/big:1.0 after the restart exited $?"
assert_same_file "$W/index.json" "$W/b-index-again.json" "index B serves after the restart"

echo "PASS registry_copy_4platform"
