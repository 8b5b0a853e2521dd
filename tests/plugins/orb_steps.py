"""CircleCI's special steps for orb_run.py, against a local state directory
that stands in for CircleCI's storage (shared by the jobs of one test):

  STATE/cache/index.json, STATE/cache/N/…   save_cache / restore_cache
  STATE/workspace/JOB/…                     persist_to_workspace (one layer a job)
  STATE/artifacts/JOB/…                     store_artifacts

As documented (configuration-reference, caching, workspaces, artifacts):
- cache keys are templates: {{ .Branch }} (CIRCLE_BRANCH), {{ .BuildNum }},
  {{ .Revision }} (CIRCLE_SHA1), {{ .Environment.NAME }} (the job's
  environment, not $BASH_ENV; "<no value>" when unset, as Go templates
  print), {{ checksum "FILE" }} (base64 of the file's SHA-256), {{ epoch }},
  {{ arch }} (OS, CPU architecture, family and model: linux-amd64-6_85);
- a saved key is immutable (saving it again is skipped); paths are relative
  to the working directory or absolute, no globs, restored where they were
  saved; restore tries `key` then `keys` in order, each as a prefix, and
  takes the most recently saved match; no match is a warning, not a failure;
- persist_to_workspace paths are globs relative to root (at least one match
  each); attach_workspace copies every job's layer to `at`, and two layers
  holding the same file fail, as for concurrent upstream jobs;
- store_artifacts copies a file to DESTINATION (default its name) or a
  directory under DESTINATION (default its name); a missing path warns.
"""
import base64
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import time

TEMPLATE = re.compile(r"\{\{\s*(.*?)\s*\}\}")
GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "s390x": "s390x",
           "ppc64le": "ppc64le", "riscv64": "riscv64"}


class StepError(Exception):
    """The step failed; the message says why."""


def arch():
    """{{ arch }}: linux-GOARCH, with the CPU family and model when known."""
    out = f"{platform.system().lower()}-{GO_ARCH.get(platform.machine(), platform.machine())}"
    fields = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if fields.get("cpu family") and fields.get("model"):
        out += f"-{fields['cpu family']}_{fields['model']}"
    return out


def render_key(template, env, workdir):
    """A cache key template with its {{ … }} values filled in."""
    def one(match):
        expr = match.group(1)
        simple = {".Branch": "CIRCLE_BRANCH", ".BuildNum": "CIRCLE_BUILD_NUM", ".Revision": "CIRCLE_SHA1"}
        if expr in simple:
            return env.get(simple[expr], "")
        if expr.startswith(".Environment."):
            return env.get(expr[len(".Environment."):], "<no value>")
        if expr == "epoch":
            return str(int(time.time()))
        if expr == "arch":
            return arch()
        checksum = re.fullmatch(r'checksum\s+"([^"]*)"', expr)
        if checksum:
            path = os.path.join(workdir, os.path.expanduser(checksum.group(1)))
            try:
                with open(path, "rb") as f:
                    return base64.b64encode(hashlib.sha256(f.read()).digest()).decode()
            except OSError as error:
                raise StepError(f"error computing checksum of {checksum.group(1)}: {error.strerror}") from None
        raise StepError(f"unknown cache key template {{{{ {expr} }}}}")
    return TEMPLATE.sub(one, template)


def _abs(path, workdir):
    return os.path.normpath(os.path.join(workdir, os.path.expanduser(path)))


def _copy(src, dst):
    """Copies src to dst; a directory that already exists keeps its own mode
    (a cache restored at "/" must not change /tmp's mode to its copy's)."""
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    if os.path.isdir(src) and not os.path.islink(src):
        existed = os.path.isdir(dst)
        os.makedirs(dst, exist_ok=True)
        for name in os.listdir(src):
            _copy(os.path.join(src, name), os.path.join(dst, name))
        if not existed:
            shutil.copystat(src, dst)
    else:
        shutil.copy2(src, dst, follow_symlinks=False)


class Store:
    """The state directory: caches, workspace layers and artifacts."""

    def __init__(self, state, job):
        self.state, self.job = state, job
        self.index_path = os.path.join(state, "cache", "index.json")

    def _index(self):
        try:
            with open(self.index_path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return []

    def save_cache(self, config, env, workdir, say):
        key = render_key(config["key"], env, workdir)
        index = self._index()
        if len(key) > 900:
            say(f"Warning: the cache key is {len(key)} characters, over the 900 allowed; not saving")
            return
        if any(entry["key"] == key for entry in index):
            say(f"Skipping cache generation, cache already exists for key: {key}")
            return
        found = []
        for path in config.get("paths") or []:
            full = _abs(path, workdir)
            if os.path.lexists(full):
                found.append(full)
            else:
                say(f"Warning: could not find {path} ({full}) to cache")
        if not found:
            say(f"No paths to cache for key: {key}")
            return
        number = max([entry["dir"] for entry in index], default=0) + 1
        for full in found:
            _copy(full, os.path.join(self.state, "cache", str(number), full.lstrip("/")))
        index.append({"key": key, "dir": number, "job": self.job})
        os.makedirs(os.path.dirname(self.index_path), exist_ok=True)
        with open(self.index_path, "w", encoding="utf-8") as f:
            json.dump(index, f, indent=1)
        say(f"Stored cache {key}: {' '.join(found)}")

    def restore_cache(self, config, env, workdir, say):
        templates = ([config["key"]] if config.get("key") else []) + list(config.get("keys") or [])
        index = self._index()
        for template in templates:
            key = render_key(template, env, workdir)
            matches = [entry for entry in index if entry["key"].startswith(key)]
            if not matches:
                say(f"No cache is found for key: {key}")
                continue
            entry = max(matches, key=lambda e: e["dir"])
            root = os.path.join(self.state, "cache", str(entry["dir"]))
            for item in os.listdir(root):
                _copy(os.path.join(root, item), os.path.join("/", item))
            say(f"Found a cache from job {entry['job']} at {entry['key']} (prefix {key})")
            return
        say("Warning: skipping this step: no cache found for any key")

    def persist(self, config, workdir, say):
        root = _abs(config["root"], workdir)
        layer = os.path.join(self.state, "workspace", self.job)
        for pattern in config.get("paths") or []:
            if os.path.isabs(pattern):
                raise StepError(f"persist_to_workspace path {pattern} must be relative to the root {root}")
            matches = sorted(glob.glob(os.path.join(root, pattern), include_hidden=True))
            if not matches:
                raise StepError(f"the path {pattern} did not match any files in {root}")
            for match in matches:
                relative = os.path.relpath(match, root)
                if relative == ".":
                    raise StepError("persist_to_workspace cannot persist the workspace root itself")
                _copy(match, os.path.join(layer, relative))
                say(f"Persisted {relative}")

    def attach(self, config, workdir, say):
        at = _abs(config["at"], workdir)
        base = os.path.join(self.state, "workspace")
        owner = {}
        layers = sorted(os.listdir(base)) if os.path.isdir(base) else []
        for job in layers:
            for folder, _, files in os.walk(os.path.join(base, job)):
                for name in files:
                    relative = os.path.relpath(os.path.join(folder, name), os.path.join(base, job))
                    if relative in owner:
                        raise StepError(f"Concurrent upstream jobs persisted the same file(s) into the "
                                        f"workspace: {relative} ({owner[relative]} and {job})")
                    owner[relative] = job
        for job in layers:
            _copy(os.path.join(base, job), at)
        say(f"Attached the workspace of {', '.join(layers) or 'no job'} at {at}: {len(owner)} files")

    def store_artifacts(self, config, workdir, say):
        path = _abs(config["path"], workdir)
        if not os.path.lexists(path):
            say(f"Warning: no artifact files found at {path}")
            return
        destination = (config.get("destination") or os.path.basename(path)).strip("/")
        _copy(path, os.path.join(self.state, "artifacts", self.job, destination))
        say(f"Uploaded {path} as {destination}")
