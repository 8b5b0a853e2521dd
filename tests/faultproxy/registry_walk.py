#!/usr/bin/env python3
"""Walks a registry and checks that nothing tagged points at something missing.

    registry_walk.py HOST:PORT [--json FILE]

Over the Distribution API (plain HTTP, straight to the registry): the
catalog, every repository's tags, every tag's manifest (its bytes must match
Docker-Content-Digest), every index's children (fetched by digest from the
same repository, their bytes matching the digest), and every image
manifest's config and layers (HEAD in the same repository, size as
declared). Prints one line of counts; with --json also writes them and every
tag's digest to FILE ({"tags": {"repo:tag": "sha256:…"}, …}). Exits 1 naming
each tag whose manifest, child or blob is missing or wrong.
"""

import argparse
import hashlib
import json
import sys
import urllib.error
import urllib.request

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")


class Walker:
    def __init__(self, host):
        self.base = f"http://{host}/v2/"
        self.counts = {"repositories": 0, "tags": 0, "manifests": 0, "blobs": 0}
        self.problems = []
        self.tags = {}
        self.checked_manifests = {}
        self.checked_blobs = set()

    def request(self, method, path, accept=None):
        req = urllib.request.Request(self.base + path, method=method)
        if accept:
            req.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def paged(self, path, key):
        items, url = [], path + ("&" if "?" in path else "?") + "n=1000"
        while url:
            status, headers, body = self.request("GET", url)
            if status == 404 and key == "tags":
                return []  # blobs only (mounted or uploaded), never a manifest
            if status != 200:
                raise SystemExit(f"GET {url}: HTTP {status}")
            items += json.loads(body).get(key) or []
            link = headers.get("Link", "")
            url = link[link.index("</v2/") + 5:link.index(">")] if link.startswith("</v2/") else ""
        return items

    def manifest(self, repo, ref, where):
        """Checks one manifest and what it points at; returns its digest or None."""
        key = (repo, ref)
        if key in self.checked_manifests:
            return self.checked_manifests[key]
        status, headers, body = self.request("GET", f"{repo}/manifests/{ref}", ACCEPT)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        result = None
        if status != 200:
            self.problems.append(f"{where}: manifest {repo}@{ref} is missing (HTTP {status})")
        elif ref.startswith("sha256:") and digest != ref:
            self.problems.append(f"{where}: manifest {repo}@{ref} has bytes of digest {digest}")
        elif headers.get("Docker-Content-Digest", digest) != digest:
            self.problems.append(f"{where}: {repo}:{ref} is served with digest "
                                 f"{headers.get('Docker-Content-Digest')} but its bytes are {digest}")
        else:
            result = digest
            self.counts["manifests"] += 1
            doc = json.loads(body)
            if doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
                for child in doc.get("manifests", []):
                    self.manifest(repo, child["digest"], f"{where} -> {child['digest']}")
            else:
                for blob in [doc["config"]] + doc.get("layers", []):
                    self.blob(repo, blob, where)
        self.checked_manifests[key] = result
        return result

    def blob(self, repo, descriptor, where):
        key = (repo, descriptor["digest"])
        if key in self.checked_blobs:
            return
        self.checked_blobs.add(key)
        status, headers, _ = self.request("HEAD", f"{repo}/blobs/{descriptor['digest']}")
        if status != 200:
            self.problems.append(f"{where}: blob {repo}@{descriptor['digest']} is missing (HTTP {status})")
        elif int(headers.get("Content-Length", -1)) != descriptor["size"]:
            self.problems.append(f"{where}: blob {repo}@{descriptor['digest']} has "
                                 f"{headers.get('Content-Length')} bytes, not {descriptor['size']}")
        else:
            self.counts["blobs"] += 1

    def walk(self):
        for repo in self.paged("_catalog", "repositories"):
            self.counts["repositories"] += 1
            for tag in self.paged(f"{repo}/tags/list", "tags"):
                self.counts["tags"] += 1
                self.tags[f"{repo}:{tag}"] = self.manifest(repo, tag, f"{repo}:{tag}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", help="HOST:PORT, plain HTTP")
    parser.add_argument("--json", help="write the counts and tags to FILE")
    args = parser.parse_args()
    walker = Walker(args.registry)
    walker.walk()
    counts = walker.counts
    print(f"walked {counts['repositories']} repositories, {counts['tags']} tags, "
          f"{counts['manifests']} manifests, {counts['blobs']} blobs: "
          f"{len(walker.problems)} problems")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"counts": counts, "tags": walker.tags, "problems": walker.problems}, out, indent=1)
    for problem in walker.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if walker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
