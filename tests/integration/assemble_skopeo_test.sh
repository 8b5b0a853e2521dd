#!/usr/bin/env bash
# polyarch assemble builds a three-platform image from cross-compiled static
# binaries, reproducibly; skopeo (an independent client) pushes it to a real
# registry unchanged; each platform's image holds the right binary, which
# prints its own platform when run (natively or under QEMU).
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/assemble_skopeo_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools skopeo docker-registry openssl python3 file tar gzip sha256sum cmp \
  gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc qemu-aarch64-static qemu-arm-static
make_workdir >/dev/null
W=$WORKDIR

# 1. Three static binaries, one per platform.
bash "$SOURCE_DIR/examples/hello/build.sh" "$W/bin" >/dev/null \
  || fail "examples/hello/build.sh failed"

# assemble OUTPUT: the same assemble command every time.
assemble() {
  "$POLYARCH" assemble \
    --platform "linux/amd64=$W/bin/amd64/hello" \
    --platform "linux/arm64=$W/bin/arm64/hello" \
    --platform "linux/arm/v7=$W/bin/arm-v7/hello" \
    --entrypoint /hello --tag hello:1.0 --output "oci:$1" \
    || fail "polyarch assemble --output oci:$1 exited $?"
}

# 2. Reproducible: the same inputs twice give the same index and archive.
assemble "$W/hello.oci.tar"
assemble "$W/hello2.oci.tar"
"$POLYARCH" manifest inspect "oci:$W/hello.oci.tar" --raw >"$W/index.json" \
  || fail "polyarch manifest inspect oci:$W/hello.oci.tar --raw exited $?"
"$POLYARCH" manifest inspect "oci:$W/hello2.oci.tar" --raw >"$W/index2.json" \
  || fail "polyarch manifest inspect oci:$W/hello2.oci.tar --raw exited $?"
[[ -s "$W/index.json" ]] || fail "polyarch manifest inspect --raw printed nothing"
index_digest=$(sha256sum <"$W/index.json" | cut -d' ' -f1)
assert_eq "$index_digest" "$(sha256sum <"$W/index2.json" | cut -d' ' -f1)" \
  "index digest of a second identical assemble"
assert_same_file "$W/hello.oci.tar" "$W/hello2.oci.tar" "archives of two identical assembles"

# 3. skopeo pushes the whole index (found by its ref.name "1.0") to a
#    registry, which then serves exactly the index polyarch wrote.
start_registry "$W/registry"
run_skopeo copy --all --dest-tls-verify=false \
  "oci-archive:$W/hello.oci.tar:1.0" "docker://$REGISTRY/hello:1.0" >/dev/null \
  || fail "skopeo copy --all oci-archive:$W/hello.oci.tar:1.0 to the registry exited $?"
run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/hello:1.0" >"$W/pushed.json" \
  || fail "skopeo inspect --raw docker://$REGISTRY/hello:1.0 exited $?"
assert_same_file "$W/index.json" "$W/pushed.json" "index served by the registry"
assert_eq "sha256:$index_digest" \
  "$(run_skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/hello:1.0")" \
  "digest the registry reports for hello:1.0"

# platform_manifest_digest PLATFORM: the index entry's digest for it.
platform_manifest_digest() {
  python3 - "$W/index.json" "$1" <<'PY'
import json, sys
index = json.load(open(sys.argv[1], "rb"))
found = []
for entry in index.get("manifests", []):
    p = entry.get("platform", {})
    name = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
    if name == sys.argv[2]:
        found.append(entry["digest"])
print(found[0] if len(found) == 1 else "%d entries for %s" % (len(found), sys.argv[2]))
PY
}

python3 - "$W/index.json" <<'PY' || fail "index does not list exactly linux/amd64, linux/arm64, linux/arm/v7"
import json, sys
index = json.load(open(sys.argv[1], "rb"))
names = sorted("/".join(x for x in (e["platform"]["os"], e["platform"]["architecture"],
                                    e["platform"].get("variant")) if x)
               for e in index["manifests"])
sys.exit(names != ["linux/amd64", "linux/arm/v7", "linux/arm64"])
PY

# check_platform PLATFORM DIRNAME RUNNER...: pulls that platform's image from
# the registry, checks its manifest and config, extracts /hello from its
# layer and runs it with RUNNER (empty: natively).
check_platform() {
  local platform=$1 name=$2
  shift 2
  local arch variant="" dir="$W/pulled/$name"
  IFS=/ read -r _ arch variant <<<"$platform"
  local overrides=(--override-os linux --override-arch "$arch")
  [[ -z "$variant" ]] || overrides+=(--override-variant "$variant")
  mkdir -p "$W/pulled"

  run_skopeo "${overrides[@]}" copy --src-tls-verify=false \
    "docker://$REGISTRY/hello:1.0" "dir:$dir" >/dev/null \
    || fail "skopeo copy of $platform from docker://$REGISTRY/hello:1.0 exited $?"
  assert_eq "$(platform_manifest_digest "$platform")" \
    "sha256:$(sha256sum <"$dir/manifest.json" | cut -d' ' -f1)" \
    "$platform manifest pulled by skopeo versus the index entry"

  local config_digest config
  config_digest=$(json_field "$dir/manifest.json" config.digest)
  config="$dir/${config_digest#sha256:}"
  [[ -f "$config" ]] || fail "$platform: config blob missing from $dir"
  assert_eq linux "$(json_field "$config" os)" "$platform config os"
  assert_eq "$arch" "$(json_field "$config" architecture)" "$platform config architecture"
  assert_eq "$variant" "$(json_field "$config" variant)" "$platform config variant"
  assert_eq '["/hello"]' "$(json_field "$config" config.Entrypoint)" "$platform config entrypoint"

  # The layer is the gzip'd tar blob that holds hello.
  local blob layer=""
  for blob in "$dir"/*; do
    [[ "$(file -b "$blob")" == gzip* ]] || continue
    if tar -tzf "$blob" | grep -x '\(\./\)\?hello' >/dev/null; then
      layer=$blob
    fi
  done
  [[ -n "$layer" ]] || fail "$platform: no gzip layer in $dir holds hello"
  assert_eq "sha256:$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)" \
    "$(json_field "$config" rootfs.diff_ids.0)" "$platform diff_id of the layer"

  mkdir -p "$dir/rootfs"
  tar -xzf "$layer" -C "$dir/rootfs"
  [[ -x "$dir/rootfs/hello" ]] || fail "$platform: /hello in the layer is not executable"
  local output
  output=$("$@" "$dir/rootfs/hello") || fail "$platform: running /hello exited $?"
  assert_eq "hello from $platform" "$output" "$platform /hello output"
}

# 4. Each platform's image runs and says which platform it is.
check_platform linux/amd64 amd64
check_platform linux/arm64 arm64 qemu-aarch64-static
check_platform linux/arm/v7 arm-v7 qemu-arm-static

# 5. The layer cache ($XDG_CACHE_HOME/polyarch/layers): --no-cache makes no
#    entry; a push fills it (one entry per platform); a second push takes the
#    layers from it; all three push the index the archive above holds.
layers="$XDG_CACHE_HOME/polyarch/layers"
rm -rf "$XDG_CACHE_HOME/polyarch"
# push_hello TAG [OPTION…]: assembles the same image and pushes it as hello:TAG.
push_hello() {
  local tag=$1
  shift
  "$POLYARCH" -q assemble \
    --platform "linux/amd64=$W/bin/amd64/hello" \
    --platform "linux/arm64=$W/bin/arm64/hello" \
    --platform "linux/arm/v7=$W/bin/arm-v7/hello" \
    --entrypoint /hello --tag "$REGISTRY/hello:$tag" --push "$@" >/dev/null \
    || fail "polyarch assemble --push to hello:$tag $* exited $?"
}
# cache_entries: how many entries the layer cache holds.
cache_entries() { find "$layers" -name '*.json' 2>/dev/null | wc -l; }
# pushed_index TAG: the sha256 of the index the registry serves for hello:TAG.
pushed_index() {
  run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/hello:$1" | sha256sum | cut -d' ' -f1
}
push_hello uncached --no-cache
assert_eq 0 "$(cache_entries)" "layer cache entries after assemble --no-cache"
push_hello cold
assert_eq 3 "$(cache_entries)" "layer cache entries after one assemble --push"
assert_eq 700 "$(stat -c %a "$layers")" "mode of the layer cache directory"
push_hello warm
assert_eq 3 "$(cache_entries)" "layer cache entries after a second assemble --push"
for tag in uncached cold warm; do
  assert_eq "$index_digest" "$(pushed_index "$tag")" "index pushed as hello:$tag versus the archive's"
done

echo "PASS assemble_skopeo"
