#!/usr/bin/env bash
# manifest verify and merge against a real docker-registry:
# - verify passes an assembled three-platform image and fails (exit 1, the
#   report on stdout, one error line on stderr) an image whose linux/arm64
#   entry holds the amd64 binary, from the registry and from an oci: archive;
# - merge joins two hand-written digest files (made from `manifest inspect
#   --format json`) into an index that skopeo sees with both platforms, in the
#   legs' own repository and in another one (children mounted by digest).
#
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/verify_merge_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_polyarch
require_tools skopeo docker-registry openssl python3 gcc aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc
make_workdir >/dev/null
W=$WORKDIR
export DOCKER_CONFIG="$W/docker-config"
unset DOCKER_AUTH_CONFIG
mkdir -p "$DOCKER_CONFIG"

bash "$SOURCE_DIR/examples/hello/build.sh" "$W/bin" >/dev/null || fail "examples/hello/build.sh failed"
start_registry "$W/registry"
R=$REGISTRY

# 1. A good image passes, platform by platform.
expect_success assemble-good assemble --entrypoint /hello --tag "$R/hello:good" --push \
  --platform "linux/amd64=$W/bin/amd64/hello" --platform "linux/arm64=$W/bin/arm64/hello" \
  --platform "linux/arm/v7=$W/bin/arm-v7/hello"
expect_success verify-good manifest verify "$R/hello:good"
assert_eq "linux/amd64   ok  (1 ELF file)
linux/arm64   ok  (1 ELF file)
linux/arm/v7  ok  (1 ELF file)" "$(cat "$RUN_OUT")" "manifest verify of the good image"
assert_eq "" "$(cat "$RUN_ERR")" "stderr of manifest verify of the good image"

# 2. An arm64 entry holding the amd64 binary fails, naming file and arch.
expect_success assemble-wrong assemble --entrypoint /hello --tag "$R/hello:wrong" --push \
  --platform "linux/amd64=$W/bin/amd64/hello" --platform "linux/arm64=$W/bin/amd64/hello"
wrong_report="linux/amd64  ok  (1 ELF file)
linux/arm64  MISMATCH  /hello is an x86-64 ELF (linux/amd64)"
wrong_error="polyarch: error: 1 platform(s) failed verification: linux/arm64"
run_polyarch verify-wrong manifest verify "$R/hello:wrong"
assert_eq 1 "$RUN_STATUS" "exit status of manifest verify of the wrong image"
assert_eq "$wrong_report" "$(cat "$RUN_OUT")" "manifest verify report of the wrong image"
assert_eq "$wrong_error" "$(cat "$RUN_ERR")" "manifest verify error of the wrong image"

run_polyarch verify-wrong-json --format json manifest verify "$R/hello:wrong"
assert_eq 1 "$RUN_STATUS" "exit status of manifest verify --format json"
python3 - "$RUN_OUT" <<'PY' || fail "manifest verify --format json: unexpected report: $(cat "$RUN_OUT")"
import json, sys
report = json.load(open(sys.argv[1]))
got = [(p["platform"], p["ok"], p["elfFiles"], p["problems"]) for p in report["platforms"]]
sys.exit(report["ok"] is not False or got != [
    ("linux/amd64", True, 1, []),
    ("linux/arm64", False, 1, ["/hello is an x86-64 ELF (linux/amd64)"])])
PY

expect_success verify-wrong-amd64 manifest verify --platform linux/amd64 "$R/hello:wrong"
assert_eq "linux/amd64  ok  (1 ELF file)" "$(cat "$RUN_OUT")" "manifest verify --platform linux/amd64"

# The same image as an OCI archive gives the same report.
expect_success assemble-wrong-oci assemble --entrypoint /hello --tag hello:wrong \
  --output "oci:$W/wrong.oci.tar" \
  --platform "linux/amd64=$W/bin/amd64/hello" --platform "linux/arm64=$W/bin/amd64/hello"
run_polyarch verify-wrong-oci manifest verify "oci:$W/wrong.oci.tar"
assert_eq 1 "$RUN_STATUS" "exit status of manifest verify oci:"
assert_eq "$wrong_report" "$(cat "$RUN_OUT")" "manifest verify report of oci:$W/wrong.oci.tar"
assert_eq "$wrong_error" "$(cat "$RUN_ERR")" "manifest verify error of oci:$W/wrong.oci.tar"

# 3. merge: two legs' digest files, written by hand from manifest inspect.
expect_success inspect-good manifest inspect --format json "$R/hello:good"
mkdir -p "$W/legs"
python3 - "$RUN_OUT" "$R/hello" "$W/legs" <<'PY' || fail "cannot write digest files"
import json, sys
inspect = json.load(open(sys.argv[1]))
for entry in inspect["manifests"]:
    if entry["platform"] not in ("linux/amd64", "linux/arm64"):
        continue
    leg = {k: entry[k] for k in ("platform", "digest", "size", "mediaType")}
    leg["image"] = sys.argv[2]
    name = entry["platform"].replace("/", "-")
    with open(f"{sys.argv[3]}/{name}.json", "w") as f:
        json.dump(leg, f)
PY

mark=$(log_mark "$REGISTRY_LOG")
expect_success merge merge --tag "$R/hello:merged" --tag "$R/merged/hello:1.0" --tag "$R/merged/hello:latest" \
  "$W/legs"
merged_digest=$(cat "$RUN_OUT")
for ref in "$R/hello:merged" "$R/merged/hello:1.0" "$R/merged/hello:latest"; do
  run_skopeo inspect --raw --tls-verify=false "docker://$ref" >"$W/merged.json" \
    || fail "skopeo inspect --raw docker://$ref exited $?"
  assert_eq "$merged_digest" "sha256:$(sha256sum <"$W/merged.json" | cut -d' ' -f1)" "digest of $ref"
  python3 - "$W/merged.json" "$W/legs" <<'PY' || fail "$ref does not hold exactly the two legs: $(cat "$W/merged.json")"
import json, sys
index = json.load(open(sys.argv[1]))
legs = [json.load(open(f"{sys.argv[2]}/{n}.json")) for n in ("linux-amd64", "linux-arm64")]
got = [("/".join(x for x in (e["platform"]["os"], e["platform"]["architecture"], e["platform"].get("variant")) if x),
        e["digest"], e["size"], e["mediaType"]) for e in index["manifests"]]
want = [(l["platform"], l["digest"], l["size"], l["mediaType"]) for l in legs]
sys.exit(index["mediaType"] != "application/vnd.oci.image.index.v1+json" or got != want)
PY
done
# The other repository got its blobs by cross-repository mount, and the
# merged image there is whole and right.
registry_requests "$REGISTRY_LOG" "$mark" | grep -q "^POST /v2/merged/hello/blobs/uploads/?.*mount=.* 201$" \
  || fail "merge did not mount blobs into merged/hello: $(registry_requests "$REGISTRY_LOG" "$mark")"
expect_success verify-merged manifest verify "$R/merged/hello:1.0"
assert_eq "linux/amd64  ok  (1 ELF file)
linux/arm64  ok  (1 ELF file)" "$(cat "$RUN_OUT")" "manifest verify of the merged image"

# 4. A leg whose manifest is not in its repository is refused; nothing is tagged.
python3 - "$W/legs/linux-arm64.json" "$W/missing.json" <<'PY'
import json, sys
leg = json.load(open(sys.argv[1]))
leg["digest"] = "sha256:" + "0" * 64
json.dump(leg, open(sys.argv[2], "w"))
PY
expect_failure 1 merge-missing merge --tag "$R/hello:broken" "$W/legs/linux-amd64.json" "$W/missing.json"
assert_eq "polyarch: error: linux/arm64 image sha256:$(printf '0%.0s' {1..64}) named by \"$W/missing.json\" is not in $R/hello" \
  "$RUN_ERROR" "merge of a missing leg"
if run_skopeo inspect --raw --tls-verify=false "docker://$R/hello:broken" >/dev/null 2>&1; then
  fail "merge of a missing leg tagged hello:broken anyway"
fi

echo "PASS verify_merge"
