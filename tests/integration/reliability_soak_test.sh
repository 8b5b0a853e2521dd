#!/usr/bin/env bash
# 200 registry operations through tests/faultproxy/faultproxy.py with 20% of
# requests faulted (500, 502 after the registry did the work, 503, 429 with
# Retry-After, reset, stall past the read timeout, a body cut half-way, a
# wrong Docker-Content-Digest, a manifest whose bytes do not match its
# digest), four at a time, 50 of each kind:
#   push     polyarch push of a prebuilt oci: archive (distinct per op)
#   publish  polyarch assemble --push: build's publish step (the same
#            push_to_tags -> copy_image path), without running buildah 50 times
#   copy     polyarch copy of a registry image, half to another repository
#            (mounts), half to an oci: archive (downloads)
#   create   polyarch manifest create over two single-platform manifests
# Every operation either succeeds, and its digest is then checked against
# the registry itself (and the archive, and the sources), or exits 1 with
# exactly one "polyarch: error: …" line; at most 4 of the 200 may fail
# (polyarch retries what is safe to retry and restarts lost uploads). Then
# 8 more operations at 80% faults, so that some do fail half-way; then each
# verification fault alone on every request, with its exact message. Then
# the registry is walked directly (catalog, tags, manifests, children,
# blobs): no tag may point at anything missing, nor may a failed
# operation's tag point at anything but what it would have written; then
# the failed operations run again without faults and must all succeed.
# POLYARCH_HTTP_TIMEOUT=1 and POLYARCH_HTTP_RETRY_DELAY_MS=50 keep stalls and
# Retry-After short; the registry stores in memory.
#
# SOAK_SEED=N picks another fault sequence (the default is fixed).
# Standalone: POLYARCH=/path/to/polyarch SOURCE_DIR=/work/main \
#               bash tests/integration/reliability_soak_test.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../faultproxy/faultproxy.sh
source "$SOURCE_DIR/tests/faultproxy/faultproxy.sh"

require_polyarch
require_tools skopeo docker-registry python3 curl openssl
make_workdir >/dev/null
W=$WORKDIR
export DOCKER_CONFIG="$W/docker-config"
unset DOCKER_AUTH_CONFIG
mkdir -p "$DOCKER_CONFIG" "$W/out" "$W/files" "$W/archives" "$W/copies"
export POLYARCH_HTTP_TIMEOUT=1 POLYARCH_HTTP_RETRY_DELAY_MS=50

SEED=${SOAK_SEED:-9}
readonly RATE=0.2 PARALLEL=4 PER_KIND=50
started=$SECONDS

# 1. A registry (in memory), and the proxy in front of it (no faults yet).
start_memory_registry "$W/registry"
start_faultproxy "$REGISTRY" "$W/proxy" --seed "$SEED" --rate 0 --stall 1.5 --retry-after 1
P=$FAULTPROXY

# files NAME: $W/files/NAME/amd64.txt and arm64.txt, distinct for each NAME.
files() {
  mkdir -p "$W/files/$1"
  echo "$1 for linux/amd64" >"$W/files/$1/amd64.txt"
  echo "$1 for linux/arm64" >"$W/files/$1/arm64.txt"
}

# assemble_to NAME ARGS…: a two-platform image of files NAME, written as ARGS say.
assemble_to() {
  local name=$1
  shift
  files "$name"
  "$POLYARCH" -q assemble --platform "linux/amd64=$W/files/$name/amd64.txt" \
    --platform "linux/arm64=$W/files/$name/arm64.txt" "$@"
}

# 2. Ten source images in the registry (straight, not through the proxy),
#    and one distinct oci: archive per push operation.
declare -A SOURCE CHILD
for j in $(seq 0 9); do
  SOURCE[$j]=$(assemble_to "source_$j" --tag "$REGISTRY/src-$j:1" --push) \
    || fail "assemble --push of source $j exited $?"
  curl -fsS -H "Accept: application/vnd.oci.image.index.v1+json" \
    "http://$REGISTRY/v2/src-$j/manifests/1" >"$W/src-$j.json" || fail "cannot read src-$j:1"
  CHILD[$j,amd64]=$(json_field "$W/src-$j.json" manifests.0.digest)
  CHILD[$j,arm64]=$(json_field "$W/src-$j.json" manifests.1.digest)
done

# 3. The operations: "ID KIND EXPECTED TARGET ARGS…" per line of ops.txt.
#    EXPECTED is what a success must give: the digest printed ("-" when only
#    the registry can tell) or, for create, the index's children; TARGET is
#    the tag or archive written. ops_for PREFIX K prints operation K of each
#    kind: PREFIX "" for the soak, "storm-" for the storm of step 5.
ops_for() {
  local p=$1 k=$2 j=$(($2 % 10)) i=$((($2 + 3) % 10))
  assemble_to "${p}push_$k" --tag "push:1" --output "oci:$W/archives/${p}push-$k.tar" \
    >"$W/archives/${p}push-$k.digest" || fail "assemble of archive ${p}push-$k exited $?"
  echo "${p}push-$k push $(cat "$W/archives/${p}push-$k.digest") ${p}push-$k:1" \
    "push oci:$W/archives/${p}push-$k.tar $P/${p}push-$k:1"
  files "${p}publish_$k"
  echo "${p}publish-$k publish - ${p}publish-$k:1 assemble" \
    "--platform linux/amd64=$W/files/${p}publish_$k/amd64.txt" \
    "--platform linux/arm64=$W/files/${p}publish_$k/arm64.txt --tag $P/${p}publish-$k:1 --push"
  if ((k % 2 == 0)); then
    echo "${p}copy-$k copy ${SOURCE[$j]} ${p}copy-$k:1 copy $P/src-$j:1 $P/${p}copy-$k:1"
  else
    echo "${p}copy-$k copy-oci ${SOURCE[$j]} $W/copies/${p}copy-$k.tar" \
      "copy $P/src-$j:1 oci:$W/copies/${p}copy-$k.tar"
  fi
  echo "${p}create-$k create ${CHILD[$j,amd64]},${CHILD[$i,arm64]} ${p}create-$k:1 manifest create" \
    "--tag $P/${p}create-$k:1 $P/src-$j@${CHILD[$j,amd64]} $P/src-$i@${CHILD[$i,arm64]}"
}
for k in $(seq 0 $((PER_KIND - 1))); do ops_for "" "$k"; done >"$W/ops.txt"
for k in 0 1; do ops_for storm- "$k"; done >>"$W/ops.txt"
grep -v '^storm-' "$W/ops.txt" | cut -d' ' -f1 >"$W/soak.ids"
grep '^storm-' "$W/ops.txt" | cut -d' ' -f1 >"$W/storm.ids"
[[ "$(wc -l <"$W/soak.ids")" == $((4 * PER_KIND)) ]] || fail "ops.txt has $(wc -l <"$W/soak.ids") soak operations"

# run_op ID ARGS… (in the background): polyarch -q ARGS, keeping stdout,
# stderr and the exit status as out/ID.{out,err,status}.
run_op() {
  local id=$1 status=0
  shift
  "$POLYARCH" -q "$@" >"$W/out/$id.out" 2>"$W/out/$id.err" </dev/null || status=$?
  echo "$status" >"$W/out/$id.status"
}

# run_ops PHASE IDS_FILE: runs the operations of ops.txt listed in
# IDS_FILE, PARALLEL at a time.
run_ops() {
  local phase=$1 id args pid pids=() live
  while read -r id _ _ _ args; do
    grep -qx "$id" "$2" || continue
    while :; do
      live=()
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && live+=("$pid"); done
      pids=("${live[@]}")
      ((${#pids[@]} >= PARALLEL)) || break
      sleep 0.02
    done
    # shellcheck disable=SC2086 # ARGS are words without spaces
    run_op "$id.$phase" $args &
    pids+=($!)
  done <"$W/ops.txt"
  for pid in "${pids[@]}"; do wait "$pid" || true; done
}

# check PHASE IDS_FILE: verifies each operation's result (see verify.py
# below); writes the ids that failed cleanly to failed.PHASE.
check() {
  python3 - "$W" "$1" "$2" "$REGISTRY" <<'PY' || fail "phase $1: operations misbehaved (see above)"
import hashlib, json, os, re, sys, tarfile, urllib.request, urllib.error
work, phase, ids_file, registry = sys.argv[1:]
ids = set(open(ids_file).read().split())
ACCEPT = ("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.list.v2+json, "
          "application/vnd.docker.distribution.manifest.v2+json")

def tag_digest(target):
    repo, tag = target.split(":")
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{tag}", headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
            return "sha256:" + hashlib.sha256(body).hexdigest(), json.loads(body)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None, None
        raise

def archive_digest(path):
    """The digest index.json names, after checking every blob's sha256."""
    with tarfile.open(path) as tar:
        names = {m.name.lstrip("./"): m for m in tar.getmembers()}
        for name, member in names.items():
            if name.startswith("blobs/sha256/") and member.isfile():
                data = tar.extractfile(member).read()
                if hashlib.sha256(data).hexdigest() != name.rsplit("/", 1)[1]:
                    return "archive blob " + name + " does not match its digest"
        index = json.load(tar.extractfile(names["index.json"]))
        return index["manifests"][0]["digest"]

problems, failed, succeeded, messages = [], [], 0, {}
for line in open(f"{work}/ops.txt"):
    op_id, kind, want, target = line.split()[:4]
    if op_id not in ids:
        continue
    base = f"{work}/out/{op_id}.{phase}"
    status = int(open(base + ".status").read())
    out, err = open(base + ".out").read(), open(base + ".err").read()
    if status == 1:
        lines = err.splitlines()
        if out or len(lines) != 1 or not lines[0].startswith("polyarch: error: "):
            problems.append(f"{op_id}: exit 1 but stdout {out!r}, stderr {err!r}")
        elif re.search(r"std::|basic_string|what\(\)|stoi|stoll|Unknown error|terminate", err):
            problems.append(f"{op_id}: unclear error: {err.strip()}")
        failed.append(op_id)
        shape = re.sub(r"sha256:[0-9a-f]{64}", "sha256:…", lines[0] if lines else err)
        shape = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "UUID", shape)
        shape = re.sub(r"127\.0\.0\.1:\d+(/[^ :@]*)?",
                       lambda m: "127.0.0.1:PORT" + ("/REPO" if m.group(1) else ""), shape)
        shape = re.sub(r"\d+ bytes", "N bytes", shape)
        messages[shape] = messages.get(shape, 0) + 1
        if kind in ("push", "copy"):
            # A failed operation may have written its tag last; then it is whole.
            got, _ = tag_digest(target)
            if got is not None and got != want:
                problems.append(f"{op_id}: failed, yet {target} points at {got}, not {want}")
        if kind == "copy-oci" and os.path.exists(target):
            problems.append(f"{op_id}: failed, yet wrote {target}")
        continue
    if status != 0:
        problems.append(f"{op_id}: exit {status}: {err.strip()}")
        continue
    printed = out.strip().splitlines()[0] if out.strip() else ""
    if err:
        problems.append(f"{op_id}: succeeded but said on stderr (with -q): {err.strip()}")
    if kind in ("push", "copy", "copy-oci") and printed != want:
        problems.append(f"{op_id}: printed {printed!r}, expected {want}")
    if kind == "copy-oci":
        got = archive_digest(target)
        if got != want:
            problems.append(f"{op_id}: archive {target}: {got}, expected {want}")
    else:
        got, doc = tag_digest(target)
        if got != printed:
            problems.append(f"{op_id}: registry has {target} at {got}, polyarch printed {printed}")
        if kind == "create" and doc is not None:
            children = ",".join(m["digest"] for m in doc["manifests"])
            if children != want:
                problems.append(f"{op_id}: index children {children}, expected {want}")
    succeeded += 1
for name in os.listdir(f"{work}/copies"):
    if not re.fullmatch(r"(storm-)?copy-\d+\.tar", name):
        problems.append(f"left behind in the archives' directory: {name}")
with open(f"{work}/failed.{phase}", "w") as f:
    f.write("".join(i + "\n" for i in failed))
print(f"phase {phase}: {succeeded + len(failed)} operations, {succeeded} succeeded, "
      f"{len(failed)} failed with one error line each")
for shape, count in sorted(messages.items(), key=lambda x: -x[1]):
    print(f"  {count:3d} x {shape}")
for problem in problems:
    print("PROBLEM " + problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
}

# 4. The soak: every operation once, 20% of requests faulted.
setup_seconds=$((SECONDS - started))
faultproxy_reset
faultproxy_config "{\"rate\": $RATE}"
soak_started=$SECONDS
run_ops soak "$W/soak.ids"
soak_seconds=$((SECONDS - soak_started))
faultproxy_counters "$W/counters.soak.json"
check soak "$W/soak.ids"
# polyarch retries what is safe to retry and restarts lost uploads, so at 20%
# almost everything succeeds (without that, about one operation in five fails).
(($(wc -l <"$W/failed.soak") <= 4)) \
  || fail "$(wc -l <"$W/failed.soak") of 200 operations failed at 20% faults (at most 4 may)"

# 5. A storm: 80% of requests faulted, so that operations do fail (half-way,
#    with some blobs and manifests written) and the failure path is proven.
faultproxy_reset
faultproxy_config "{\"rate\": 0.8, \"seed\": $((SEED + 1))}"
storm_started=$SECONDS
run_ops storm "$W/storm.ids"
storm_seconds=$((SECONDS - storm_started))
faultproxy_counters "$W/counters.storm.json"
check storm "$W/storm.ids"
[[ -s "$W/failed.storm" ]] || fail "no operation failed with 80% of requests faulted"

# 6. Each verification fault on every request: the exact error, nothing tagged.
#    A manifest whose bytes are not those of its Docker-Content-Digest:
faultproxy_config '{"rate": 1, "faults": ["manifest"]}'
curl -fsS -H "Accept: application/vnd.oci.image.index.v1+json" "http://$REGISTRY/v2/src-0/manifests/1" \
  | python3 -c 'import hashlib, sys; b = sys.stdin.buffer.read(); print("sha256:" + hashlib.sha256(b"{ " + b[1:]).hexdigest())' \
    >"$W/damaged.digest"
expect_failure 1 verify-manifest copy "$P/src-0:1" "$P/verify-m:1"
assert_eq "polyarch: error: manifest $P/src-0:1 does not match its digest: expected ${SOURCE[0]}, got $(cat "$W/damaged.digest")" \
  "$RUN_ERROR" "error for damaged manifest bytes"
#    A wrong Docker-Content-Digest on a manifest fetched by tag, and on the
#    answer to a manifest push (a single-platform image: one child, pushed first):
faultproxy_config '{"rate": 1, "faults": ["digest"]}'
wrong() { echo "sha256:$(printf 'faultproxy%s' "$1" | sha256sum | cut -d' ' -f1)"; }
expect_failure 1 verify-get copy "$P/src-1:1" "$P/verify-g:1"
assert_eq "polyarch: error: manifest $P/src-1:1 does not match its digest: expected $(wrong "${SOURCE[1]}"), got ${SOURCE[1]}" \
  "$RUN_ERROR" "error for a wrong Docker-Content-Digest on a GET"
files single
"$POLYARCH" -q assemble --platform "linux/arm64=$W/files/single/arm64.txt" --tag single:1 \
  --output "oci:$W/archives/single.tar" >"$W/single.digest" || fail "assemble of single.tar exited $?"
"$POLYARCH" manifest inspect --raw "oci:$W/archives/single.tar" >"$W/single.json" \
  || fail "manifest inspect --raw oci:$W/archives/single.tar exited $?"
single_child=$(json_field "$W/single.json" manifests.0.digest)
expect_failure 1 verify-put push "oci:$W/archives/single.tar" "$P/verify-d:1"
assert_eq "polyarch: error: registry $P answered the push of manifest verify-d@$single_child with digest $(wrong "$single_child"), not $single_child (the digest of the bytes sent)" \
  "$RUN_ERROR" "error for a wrong Docker-Content-Digest on a PUT"
for target in verify-m:1 verify-g:1 verify-d:1; do
  if curl -fs -o /dev/null "http://$REGISTRY/v2/${target%:*}/manifests/1"; then
    fail "$target exists although its operation failed"
  fi
done

# 7. Walk the registry itself: no tag may point at a missing manifest or blob.
python3 "$SOURCE_DIR/tests/faultproxy/registry_walk.py" "$REGISTRY" --json "$W/walk.json" \
  || fail "the registry holds tags that point at missing manifests or blobs (see above)"

# 8. The failed operations again, without faults: all succeed.
faultproxy_config '{"rate": 0}'
faultproxy_reset
cat "$W/failed.soak" "$W/failed.storm" >"$W/failed.all"
run_ops rerun "$W/failed.all"
check rerun "$W/failed.all"
[[ ! -s "$W/failed.rerun" ]] || fail "operations failed again without faults: $(tr '\n' ' ' <"$W/failed.rerun")"
expect_success verify-manifest.rerun copy "$P/src-0:1" "$P/verify-m:1"
assert_eq "${SOURCE[0]}" "$(head -n 1 "$RUN_OUT")" "digest of the copy to verify-m:1, run again"
expect_success verify-get.rerun copy "$P/src-1:1" "$P/verify-g:1"
assert_eq "${SOURCE[1]}" "$(head -n 1 "$RUN_OUT")" "digest of the copy to verify-g:1, run again"
expect_success verify-put.rerun push "oci:$W/archives/single.tar" "$P/verify-d:1"
assert_eq "$(cat "$W/single.digest")" "$(head -n 1 "$RUN_OUT")" "digest of the push to verify-d:1, run again"
python3 "$SOURCE_DIR/tests/faultproxy/registry_walk.py" "$REGISTRY" >/dev/null \
  || fail "after the re-runs, the registry holds tags that point at missing manifests or blobs"

# 9. skopeo, an independent client, reads one result of each kind byte for byte.
for id in push-1 publish-1 copy-2 create-1; do
  target=$(awk -v id="$id" '$1 == id { print $4 }' "$W/ops.txt")
  run_skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/$target" >"$W/skopeo.json" \
    || fail "skopeo inspect --raw docker://$REGISTRY/$target exited $?"
  phase=soak
  ! grep -qx "$id" "$W/failed.soak" || phase=rerun
  assert_eq "$(head -n 1 "$W/out/$id.$phase.out")" "sha256:$(sha256sum <"$W/skopeo.json" | cut -d' ' -f1)" \
    "digest of $target read by skopeo"
done

python3 - "$W" "$setup_seconds" "$soak_seconds" "$storm_seconds" $((SECONDS - started)) <<'PY'
import json, sys
work, setup_seconds, soak_seconds, storm_seconds, total_seconds = sys.argv[1:]
for phase, rate in (("soak", "20%"), ("storm", "80%")):
    counters = json.load(open(f"{work}/counters.{phase}.json"))
    failed = open(f"{work}/failed.{phase}").read().split()
    faults = counters["faults"]
    print(f"{phase} ({rate}): {len(open(f'{work}/{phase}.ids').read().split())} operations, "
          f"{len(failed)} failed, {counters['total']} requests, {sum(faults.values())} faults: "
          + ", ".join(f"{k} {v}" for k, v in sorted(faults.items())))
print(f"failed operations re-run without faults: all succeeded; setup {setup_seconds} s, "
      f"soak {soak_seconds} s, storm {storm_seconds} s, whole test {total_seconds} s")
PY
echo "PASS reliability_soak"
