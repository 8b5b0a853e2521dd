#!/usr/bin/env bash
# polyarch against a plain-HTTP docker-registry on loopback: push, manifest
# inspect (raw, table, json), copy (registry<->registry with cross-repository
# mounts, --platform subsets, registry<->oci:/oci-dir:), manifest create from
# single-platform tags (children mounted, index pushed once per tag,
# --dry-run, refused inputs), and the errors for an unknown tag and a
# registry that is down. skopeo is the independent judge of what the
# registry holds; the registry's access log proves which blobs were mounted.
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/registry_plain_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools skopeo docker-registry openssl python3 sha256sum cmp \
  gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc
make_workdir >/dev/null
W=$WORKDIR
# Never read or write the machine's own docker login.
export DOCKER_CONFIG="$W/docker-config"
unset DOCKER_AUTH_CONFIG
mkdir -p "$DOCKER_CONFIG"

readonly OCI_INDEX=application/vnd.oci.image.index.v1+json
readonly OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
readonly DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
readonly DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json

# digest_of FILE: "sha256:<hex>" of the file's bytes.
digest_of() {
  echo "sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
}

# skopeo_raw REF OUT: the registry's manifest bytes for REF, via skopeo.
skopeo_raw() {
  run_skopeo inspect --raw --tls-verify=false "docker://$1" >"$2" \
    || fail "skopeo inspect --raw docker://$1 exited $?"
}

# children INDEX_FILE: one "platform digest size mediaType" line per entry.
children() {
  python3 - "$1" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1], "rb"))["manifests"]:
    p = e.get("platform", {})
    name = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
    print(name, e["digest"], e["size"], e["mediaType"])
PY
}

# child_digest INDEX_FILE PLATFORM: the digest of that platform's entry.
child_digest() {
  children "$1" | awk -v p="$2" '$1 == p { print $2 }'
}

# assert_registry_matches REF FILE WHAT: skopeo and polyarch both read
# exactly FILE's bytes for REF.
assert_registry_matches() {
  local ref=$1 expected=$2 what=$3 name
  name=$(echo "$ref" | tr -c 'A-Za-z0-9\n' '_')
  skopeo_raw "$ref" "$W/skopeo-$name.json"
  assert_same_file "$expected" "$W/skopeo-$name.json" "$what (skopeo inspect --raw $ref)"
  expect_success "raw-$name" manifest inspect --raw "$ref"
  assert_same_file "$expected" "$RUN_OUT" "$what (polyarch manifest inspect --raw $ref)"
}

# blob_puts REPO MARK: blob upload PUTs into REPO logged after MARK.
blob_puts() {
  registry_requests "$REGISTRY_LOG" "$2" | grep -c "^PUT /v2/$1/blobs/uploads/" || true
}

# mounts REPO MARK: the digests mounted into REPO (201) after MARK, sorted.
mounts() {
  registry_requests "$REGISTRY_LOG" "$2" \
    | sed -n "s|^POST /v2/$1/blobs/uploads/?.*mount=\(sha256:[0-9a-f]\{64\}\).* 201\$|\1|p" | sort -u
}

# blobs_of INDEX_FILE: every config and layer digest of the index's children
# (read from the local layout, one a line, sorted).
blobs_of() {
  local digest
  for digest in $(children "$1" | awk '{ print $2 }'); do
    "$POLYARCH" manifest inspect --raw "$R/hello@$digest" \
      | python3 -c 'import json, sys; m = json.load(sys.stdin)
print(m["config"]["digest"])
for l in m["layers"]: print(l["digest"])'
  done | sort -u
}

# 1. A three-platform image from examples/hello, as an OCI archive.
bash "$SOURCE_DIR/examples/hello/build.sh" "$W/bin" >/dev/null || fail "examples/hello/build.sh failed"
"$POLYARCH" assemble \
  --platform "linux/amd64=$W/bin/amd64/hello" \
  --platform "linux/arm64=$W/bin/arm64/hello" \
  --platform "linux/arm/v7=$W/bin/arm-v7/hello" \
  --entrypoint /hello --tag hello:1.0 --output "oci:$W/hello.oci.tar" >/dev/null \
  || fail "polyarch assemble exited $?"
"$POLYARCH" manifest inspect --raw "oci:$W/hello.oci.tar" >"$W/index.json" \
  || fail "polyarch manifest inspect --raw oci:$W/hello.oci.tar exited $?"
INDEX_DIGEST=$(digest_of "$W/index.json")
AMD64=$(child_digest "$W/index.json" linux/amd64)
ARM64=$(child_digest "$W/index.json" linux/arm64)
ARMV7=$(child_digest "$W/index.json" linux/arm/v7)
[[ -n "$AMD64" && -n "$ARM64" && -n "$ARMV7" ]] || fail "assembled index lacks a platform: $(children "$W/index.json")"

start_registry "$W/registry"
R=$REGISTRY

# 2. push: the registry serves the layout's index and children byte for byte.
expect_success push push "oci:$W/hello.oci.tar" "$R/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(cat "$RUN_OUT")" "digest printed by polyarch push"
assert_eq "blobs: 6 copied, 0 mounted, 0 already there" "$(tail -n 1 "$RUN_ERR")" "push summary"
assert_registry_matches "$R/hello:1.0" "$W/index.json" "pushed index"
for digest in "$AMD64" "$ARM64" "$ARMV7"; do
  skopeo_raw "$R/hello@$digest" "$W/child.json"
  assert_eq "$digest" "$(digest_of "$W/child.json")" "digest of the child manifest skopeo reads"
  assert_registry_matches "$R/hello@$digest" "$W/child.json" "child manifest $digest"
done
BLOBS=$(blobs_of "$W/index.json")
assert_eq 6 "$(echo "$BLOBS" | wc -l)" "distinct config and layer blobs of the image"

# Pushing again finds every blob already there.
expect_success push-again push "oci:$W/hello.oci.tar" "$R/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(cat "$RUN_OUT")" "digest printed by a second push"
assert_eq "blobs: 0 copied, 0 mounted, 6 already there" "$(tail -n 1 "$RUN_ERR")" "second push summary"

# 3. Images skopeo pushed are read correctly: an OCI index (table and json)…
run_skopeo copy --all --dest-tls-verify=false \
  "oci-archive:$W/hello.oci.tar:1.0" "docker://$R/skopeo/hello:all" >/dev/null \
  || fail "skopeo copy --all to docker://$R/skopeo/hello:all exited $?"
skopeo_raw "$R/skopeo/hello:all" "$W/skopeo-all.json"
assert_registry_matches "$R/skopeo/hello:all" "$W/skopeo-all.json" "index pushed by skopeo"

expect_success inspect-table manifest inspect "$R/skopeo/hello:all"
assert_eq "Name:      $R/skopeo/hello:all" "$(sed -n 1p "$RUN_OUT")" "table Name line"
assert_eq "MediaType: $OCI_INDEX" "$(sed -n 2p "$RUN_OUT")" "table MediaType line"
assert_eq "Digest:    $(digest_of "$W/skopeo-all.json")" "$(sed -n 3p "$RUN_OUT")" "table Digest line"
assert_eq "$(children "$W/skopeo-all.json")" \
  "$(awk 'NR > 5 { print $1, $2, $3, $4 }' "$RUN_OUT")" "table rows (platform digest size media type)"

expect_success inspect-json manifest inspect --format json "$R/skopeo/hello:all"
python3 - "$RUN_OUT" "$W/skopeo-all.json" "$R/skopeo/hello:all" <<'PY' || fail "manifest inspect --format json of an OCI index: see above"
import hashlib, json, sys
got = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read()
index = json.loads(raw)
def name(p):
    return "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
want = {"name": sys.argv[3], "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": "sha256:" + hashlib.sha256(raw).hexdigest(), "size": len(raw),
        "manifests": [{"platform": name(e["platform"]), "digest": e["digest"], "size": e["size"],
                       "mediaType": e["mediaType"]} for e in index["manifests"]]}
got_rows = [{k: m.get(k) for k in ("platform", "digest", "size", "mediaType")} for m in got.get("manifests", [])]
got_top = {k: got.get(k) for k in ("name", "mediaType", "digest", "size")}
got_top["manifests"] = got_rows
if got_top != want:
    print("want", json.dumps(want, indent=1), "\ngot", json.dumps(got_top, indent=1), file=sys.stderr)
    sys.exit(1)
PY

# …a Docker manifest list (skopeo --all --format v2s2)…
run_skopeo copy --all --format v2s2 --dest-tls-verify=false \
  "oci-archive:$W/hello.oci.tar:1.0" "docker://$R/skopeo/hello:list" >/dev/null \
  || fail "skopeo copy --all --format v2s2 to docker://$R/skopeo/hello:list exited $?"
skopeo_raw "$R/skopeo/hello:list" "$W/skopeo-list.json"
assert_eq "$DOCKER_LIST" "$(json_field "$W/skopeo-list.json" mediaType)" "media type skopeo pushed"
assert_registry_matches "$R/skopeo/hello:list" "$W/skopeo-list.json" "Docker list pushed by skopeo"
expect_success inspect-list-table manifest inspect "$R/skopeo/hello:list"
assert_eq "MediaType: $DOCKER_LIST" "$(sed -n 2p "$RUN_OUT")" "table MediaType of a Docker list"
assert_eq "Digest:    $(digest_of "$W/skopeo-list.json")" "$(sed -n 3p "$RUN_OUT")" "table Digest of a Docker list"
assert_eq "$(children "$W/skopeo-list.json")" \
  "$(awk 'NR > 5 { print $1, $2, $3, $4 }' "$RUN_OUT")" "table rows of a Docker list"

# …and a single arm64 image in Docker media types (skopeo --format v2s2).
run_skopeo --override-os linux --override-arch arm64 copy --format v2s2 --dest-tls-verify=false \
  "oci-archive:$W/hello.oci.tar:1.0" "docker://$R/skopeo/hello:arm64-v2s2" >/dev/null \
  || fail "skopeo copy --format v2s2 to docker://$R/skopeo/hello:arm64-v2s2 exited $?"
skopeo_raw "$R/skopeo/hello:arm64-v2s2" "$W/skopeo-v2s2.json"
assert_eq "$DOCKER_MANIFEST" "$(json_field "$W/skopeo-v2s2.json" mediaType)" "media type skopeo pushed"
assert_registry_matches "$R/skopeo/hello:arm64-v2s2" "$W/skopeo-v2s2.json" "Docker manifest pushed by skopeo"
V2S2_DIGEST=$(digest_of "$W/skopeo-v2s2.json")
V2S2_SIZE=$(wc -c <"$W/skopeo-v2s2.json" | tr -d ' ')
expect_success inspect-v2s2-table manifest inspect "$R/skopeo/hello:arm64-v2s2"
assert_eq "MediaType: $DOCKER_MANIFEST" "$(sed -n 2p "$RUN_OUT")" "table MediaType of a Docker manifest"
assert_eq "linux/arm64 $V2S2_DIGEST $V2S2_SIZE $DOCKER_MANIFEST" \
  "$(awk 'NR > 5 { print $1, $2, $3, $4 }' "$RUN_OUT")" "table row of a Docker manifest"
expect_success inspect-v2s2-json manifest inspect --format json "$R/skopeo/hello:arm64-v2s2"
assert_eq "$DOCKER_MANIFEST" "$(json_field "$RUN_OUT" mediaType)" "json mediaType of a Docker manifest"
assert_eq "$V2S2_DIGEST" "$(json_field "$RUN_OUT" digest)" "json digest of a Docker manifest"
assert_eq "linux/arm64" "$(json_field "$RUN_OUT" manifests.0.platform)" "json platform of a Docker manifest"

# 4. copy to another repository of the same registry mounts every blob: the
#    log shows a 201 mount for each and no blob upload PUT at all.
mark=$(log_mark "$REGISTRY_LOG")
expect_success copy-mount copy -v "$R/hello:1.0" "$R/copied/hello:1.0"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by polyarch copy"
assert_eq "blobs: 0 copied, 6 mounted, 0 already there" "$(tail -n 1 "$RUN_ERR")" "copy summary"
sleep 0.3 # the access log line follows the response
assert_eq 0 "$(blob_puts copied/hello "$mark")" "blob upload PUTs into copied/hello"
assert_eq "$BLOBS" "$(mounts copied/hello "$mark")" "blobs mounted into copied/hello"
assert_registry_matches "$R/copied/hello:1.0" "$W/index.json" "copied index"

# 5. copy --platform linux/arm64: an index with only arm64, under a new digest.
expect_success copy-arm64 copy --platform linux/arm64 "$R/hello:1.0" "$R/arm64only/hello:1.0"
ARM64_INDEX=$(sed -n 1p "$RUN_OUT")
skopeo_raw "$R/arm64only/hello:1.0" "$W/arm64-index.json"
assert_eq "$ARM64_INDEX" "$(digest_of "$W/arm64-index.json")" "digest of the narrowed index skopeo reads"
[[ "$ARM64_INDEX" != "$INDEX_DIGEST" ]] || fail "copy --platform linux/arm64 kept the full index's digest"
assert_eq "linux/arm64 $ARM64" "$(children "$W/arm64-index.json" | awk '{ print $1, $2 }')" \
  "entries of the narrowed index"
assert_eq "$OCI_INDEX" "$(json_field "$W/arm64-index.json" mediaType)" "narrowed index media type"
assert_eq "$OCI_MANIFEST" "$(json_field "$W/arm64-index.json" manifests.0.mediaType)" \
  "media type of the narrowed index's entry"
if run_skopeo inspect --raw --tls-verify=false "docker://$R/arm64only/hello@$AMD64" >/dev/null 2>&1; then
  fail "copy --platform linux/arm64 also copied the amd64 manifest"
fi

# 6. registry -> oci: archive -> registry, and registry -> oci-dir: (read by skopeo).
expect_success copy-to-oci copy "$R/hello:1.0" "oci:$W/roundtrip.oci.tar"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by copy to oci:"
expect_success roundtrip-raw manifest inspect --raw "oci:$W/roundtrip.oci.tar"
assert_same_file "$W/index.json" "$RUN_OUT" "index of the archive copied from the registry"
expect_success copy-from-oci copy "oci:$W/roundtrip.oci.tar" "$R/back/hello:2.0"
assert_eq "$INDEX_DIGEST" "$(sed -n 1p "$RUN_OUT")" "digest printed by copy from oci:"
assert_registry_matches "$R/back/hello:2.0" "$W/index.json" "index copied back from the archive"

expect_success copy-to-dir copy "$R/hello:1.0" "oci-dir:$W/roundtrip-dir"
run_skopeo inspect --raw "oci:$W/roundtrip-dir:1.0" >"$W/dir-index.json" \
  || fail "skopeo inspect --raw oci:$W/roundtrip-dir:1.0 exited $?"
assert_same_file "$W/index.json" "$W/dir-index.json" "index skopeo reads from the oci-dir: copy"
for blob in "$W/roundtrip-dir/blobs/sha256/"*; do
  assert_eq "sha256:${blob##*/}" "$(digest_of "$blob")" "blob $blob of the oci-dir: copy"
done

# 7. manifest create over three single-platform tags living in another
#    repository: children mounted, index pushed once per tag.
for platform in linux/amd64 linux/arm64 linux/arm/v7; do
  tag=$(echo "$platform" | tr -d /)
  expect_success "single-$tag" copy --platform "$platform" "$R/hello:1.0" "$R/single/hello:$tag"
done
mark=$(log_mark "$REGISTRY_LOG")
expect_success create manifest create --tag "$R/multi/hello:1.0" --tag "$R/multi/hello:latest" \
  "$R/single/hello:linuxamd64" "$R/single/hello:linuxarm64" "$R/single/hello:linuxarmv7"
CREATED=$(sed -n 1p "$RUN_OUT")
skopeo_raw "$R/multi/hello:1.0" "$W/created.json"
assert_eq "$CREATED" "$(digest_of "$W/created.json")" "digest of the created index skopeo reads"
assert_registry_matches "$R/multi/hello:latest" "$W/created.json" "created index under its second tag"
assert_eq "$(printf 'linux/amd64 %s\nlinux/arm64 %s\nlinux/arm/v7 %s' "$AMD64" "$ARM64" "$ARMV7")" \
  "$(children "$W/created.json" | awk '{ print $1, $2 }')" "entries of the created index"
sleep 0.3
assert_eq 0 "$(blob_puts multi/hello "$mark")" "blob upload PUTs into multi/hello"
assert_eq "$BLOBS" "$(mounts multi/hello "$mark")" "blobs mounted into multi/hello"
for tag in 1.0 latest; do
  assert_eq 1 "$(registry_requests "$REGISTRY_LOG" "$mark" | grep -c "^PUT /v2/multi/hello/manifests/$tag 201\$" || true)" \
    "PUTs of the index to multi/hello:$tag"
done
for digest in "$AMD64" "$ARM64" "$ARMV7"; do
  skopeo_raw "$R/multi/hello@$digest" "$W/child.json"
  assert_eq "$digest" "$(digest_of "$W/child.json")" "child $digest copied into multi/hello"
done

# --media-type docker over a Docker list's children gives a Docker list.
expect_success create-docker manifest create --media-type docker --tag "$R/multi/hello:docker" \
  "$R/skopeo/hello:list"
skopeo_raw "$R/multi/hello:docker" "$W/created-docker.json"
assert_eq "$(sed -n 1p "$RUN_OUT")" "$(digest_of "$W/created-docker.json")" \
  "digest of the created Docker list skopeo reads"
assert_eq "$DOCKER_LIST" "$(json_field "$W/created-docker.json" mediaType)" "media type of the created Docker list"
assert_eq "$(children "$W/skopeo-list.json" | awk '{ print $1, $2, $4 }')" \
  "$(children "$W/created-docker.json" | awk '{ print $1, $2, $4 }')" "entries of the created Docker list"

# --dry-run prints the index and pushes nothing.
mark=$(log_mark "$REGISTRY_LOG")
expect_success dry-run manifest create --dry-run --tag "$R/multi/hello:dry" \
  "$R/single/hello:linuxamd64" "$R/hello@$ARM64"
assert_eq "$OCI_INDEX" "$(json_field "$RUN_OUT" mediaType)" "media type of the --dry-run index"
assert_eq "linux/amd64 $AMD64 linux/arm64 $ARM64" \
  "$(children "$RUN_OUT" | awk '{ printf "%s%s %s", (NR > 1 ? " " : ""), $1, $2 }')" "entries of the --dry-run index"
sleep 0.3
assert_eq "" "$(registry_requests "$REGISTRY_LOG" "$mark" | grep -v '^\(GET\|HEAD\) ' || true)" \
  "requests other than GET/HEAD during --dry-run"
if run_skopeo inspect --raw --tls-verify=false "docker://$R/multi/hello:dry" >/dev/null 2>&1; then
  fail "manifest create --dry-run pushed multi/hello:dry"
fi

# Children by digest: the first create reads each manifest and its config and
# remembers the platform; the next makes one HEAD per child, one PUT per tag.
export XDG_CACHE_HOME="$W/cache-kids"
KIDS=("$R/hello@$AMD64" "$R/hello@$ARM64" "$R/hello@$ARMV7")
for n in 1 2; do
  mark=$(log_mark "$REGISTRY_LOG")
  expect_success "by-digest-$n" manifest create --tag "$R/hello:kids$n" "${KIDS[@]}"
  sleep 0.3
  registry_requests "$REGISTRY_LOG" "$mark" | awk '{ print $1 }' | sort | uniq -c \
    | awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1 }' >"$W/kinds$n"
  skopeo_raw "$R/hello:kids$n" "$W/kids$n.json"
  assert_eq "$(printf 'linux/amd64 %s\nlinux/arm64 %s\nlinux/arm/v7 %s' "$AMD64" "$ARM64" "$ARMV7")" \
    "$(children "$W/kids$n.json" | awk '{ print $1, $2 }')" "entries of the index over digests, run $n"
done
assert_same_file "$W/kids1.json" "$W/kids2.json" "index over digests, from the registry and from the cache"
assert_eq "GET=6 PUT=1" "$(cat "$W/kinds1")" "requests of the first create over digests"
assert_eq "HEAD=3 PUT=1" "$(cat "$W/kinds2")" "requests of the second create over digests"
ls "$XDG_CACHE_HOME/polyarch/platforms/sha256/${AMD64#sha256:}.json" >/dev/null \
  || fail "no platform remembered for $AMD64"

# Refused inputs: exit 2, one line, nothing pushed.
expect_failure 2 create-duplicate manifest create --tag "$R/multi/hello:dup" \
  "$R/single/hello:linuxamd64" "$R/hello:1.0"
assert_contains "$RUN_ERROR" "linux/amd64" "duplicate platform message"
expect_failure 2 create-docker-annotation manifest create --media-type docker --annotation a=b \
  --tag "$R/multi/hello:dockerann" "$R/single/hello:linuxamd64"
assert_contains "$RUN_ERROR" "annotation" "message refusing annotations on a Docker list"
for tag in dup dockerann; do
  if run_skopeo inspect --raw --tls-verify=false "docker://$R/multi/hello:$tag" >/dev/null 2>&1; then
    fail "a refused manifest create pushed multi/hello:$tag"
  fi
done

# 8. An unknown tag: exit 1, one line naming the registry.
expect_failure 1 unknown-tag manifest inspect "$R/hello:nope"
assert_contains "$RUN_ERROR" "$R" "unknown tag message"
expect_failure 1 unknown-tag-copy copy "$R/hello:nope" "$R/other/hello:nope"
assert_contains "$RUN_ERROR" "$R" "unknown tag message of copy"

# 9. The registry down: exit 1, one line naming the host, without a long wait.
kill "$REGISTRY_PID"
wait "$REGISTRY_PID" 2>/dev/null || true
start=$SECONDS
expect_failure 1 down-inspect manifest inspect "$R/hello:1.0"
assert_contains "$RUN_ERROR" "$R" "registry-down message of manifest inspect"
expect_failure 1 down-push push "oci:$W/hello.oci.tar" "$R/hello:2.0"
assert_contains "$RUN_ERROR" "$R" "registry-down message of push"
((SECONDS - start < 40)) || fail "two commands against a registry that is down took $((SECONDS - start)) s"

echo "PASS registry_plain"
