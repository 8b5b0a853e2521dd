"""Reads and checks a CodeBuild buildspec (version 0.2) the way CodeBuild
does before it runs one: the keys of AWS's buildspec reference and batch
build reference, their types, and a build graph whose dependencies exist and
form no cycle. Used by codebuild_run.py; needs PyYAML (Debian python3-yaml).
"""
import re

import yaml

PHASES = ["install", "pre_build", "build", "post_build"]
TOP_KEYS = {"version", "run-as", "env", "proxy", "batch", "phases", "reports", "artifacts", "cache"}
ENV_KEYS = {"shell", "variables", "parameter-store", "exported-variables", "secrets-manager", "git-credential-helper"}
PHASE_KEYS = {"run-as", "on-failure", "runtime-versions", "commands", "finally"}
ON_FAILURE = {"ABORT", "CONTINUE"}
SHELLS = {"bash", "/bin/sh"}
ARTIFACT_KEYS = {"files", "name", "discard-paths", "base-directory", "exclude-paths", "enable-symlinks",
                 "s3-prefix", "secondary-artifacts"}
CACHE_KEYS = {"key", "fallback-keys", "action", "paths"}
BATCH_KEYS = {"fast-fail", "build-graph", "build-list", "build-matrix", "build-fanout"}
TASK_KEYS = {"identifier", "buildspec", "debug-session", "depend-on", "env", "ignore-failure"}
TASK_ENV_KEYS = {"compute-type", "fleet", "image", "privileged-mode", "type", "variables"}
ENV_TYPES = {"LINUX_CONTAINER", "LINUX_GPU_CONTAINER", "ARM_CONTAINER", "WINDOWS_CONTAINER",
             "WINDOWS_SERVER_2019_CONTAINER", "WINDOWS_SERVER_2022_CONTAINER", "LINUX_LAMBDA_CONTAINER",
             "ARM_LAMBDA_CONTAINER", "LINUX_EC2", "ARM_EC2", "WINDOWS_EC2", "MAC_ARM"}
COMPUTE_TYPE = re.compile(r"^(BUILD_GENERAL1_(SMALL|MEDIUM|LARGE|XLARGE|2XLARGE)|BUILD_LAMBDA_\d+GB|"
                          r"ATTRIBUTE_BASED_COMPUTE|CUSTOM_INSTANCE_TYPE)$")
IDENTIFIER = re.compile(r"^[A-Za-z0-9_]+$")
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SpecError(Exception):
    """An invalid buildspec: the message names the file and the key."""


def _check_keys(where, mapping, allowed):
    if not isinstance(mapping, dict):
        raise SpecError(f"{where}: expected a mapping")
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _strings(where, value):
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{where}: expected a list of strings")
    return value


def variables(where, mapping):
    """Checks an env variables mapping; returns it with string values.
    Numbers become strings; booleans and nulls are refused (quote them)."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise SpecError(f"{where}: expected a mapping of NAME: value")
    out = {}
    for name, value in mapping.items():
        if not isinstance(name, str) or not VARIABLE.match(name):
            raise SpecError(f"{where}: invalid variable name {name!r}")
        if name.startswith("CODEBUILD_"):
            raise SpecError(f"{where}.{name}: the prefix CODEBUILD_ is reserved")
        if isinstance(value, bool) or value is None:
            raise SpecError(f"{where}.{name}: {value!r} is not a string: quote it")
        if not isinstance(value, (str, int, float)):
            raise SpecError(f"{where}.{name}: expected a string")
        out[name] = str(value)
    return out


def _check_env(where, env):
    _check_keys(where, env, ENV_KEYS)
    if "shell" in env and env["shell"] not in SHELLS:
        raise SpecError(f"{where}.shell: {env['shell']!r} is not a Linux shell (bash or /bin/sh)")
    variables(f"{where}.variables", env.get("variables"))
    for key in ("parameter-store", "secrets-manager"):
        variables(f"{where}.{key}", env.get(key))
    for name in _strings(f"{where}.exported-variables", env.get("exported-variables", [])):
        if name.startswith("AWS_"):
            raise SpecError(f"{where}.exported-variables: {name} cannot be exported (AWS_ prefix)")


def _check_phases(where, phases):
    _check_keys(where, phases, set(PHASES))
    for name, phase in phases.items():
        if phase is None:
            continue
        _check_keys(f"{where}.{name}", phase, PHASE_KEYS)
        if "run-as" in phase:
            raise SpecError(f"{where}.{name}.run-as: not supported by this harness (it runs as the current user)")
        if "on-failure" in phase and phase["on-failure"] not in ON_FAILURE:
            raise SpecError(f"{where}.{name}.on-failure: {phase['on-failure']!r} (want ABORT or CONTINUE)")
        for key in ("commands", "finally"):
            _strings(f"{where}.{name}.{key}", phase.get(key, []))


def _check_batch(where, batch):
    _check_keys(where, batch, BATCH_KEYS)
    kinds = [k for k in ("build-graph", "build-list", "build-matrix", "build-fanout") if k in batch]
    if len(kinds) != 1:
        raise SpecError(f"{where}: give exactly one of build-graph, build-list, build-matrix, build-fanout")
    if kinds[0] != "build-graph":
        raise SpecError(f"{where}.{kinds[0]}: not supported by this harness (build-graph only)")
    tasks = batch["build-graph"]
    if not isinstance(tasks, list) or not tasks:
        raise SpecError(f"{where}.build-graph: expected a list of build tasks")
    seen = set()
    for i, task in enumerate(tasks):
        at = f"{where}.build-graph[{i}]"
        _check_keys(at, task, TASK_KEYS)
        ident = task.get("identifier")
        if not isinstance(ident, str) or not IDENTIFIER.match(ident):
            raise SpecError(f"{at}.identifier: required, letters, digits and underscores")
        if ident in seen:
            raise SpecError(f"{at}.identifier: {ident!r} is used twice")
        seen.add(ident)
        env = task.get("env", {})
        _check_keys(f"{at}.env", env, TASK_ENV_KEYS)
        if "type" in env and env["type"] not in ENV_TYPES:
            raise SpecError(f"{at}.env.type: unknown environment type {env['type']!r}")
        if "compute-type" in env and not COMPUTE_TYPE.match(str(env["compute-type"])):
            raise SpecError(f"{at}.env.compute-type: unknown compute type {env['compute-type']!r}")
        variables(f"{at}.env.variables", env.get("variables"))
        _strings(f"{at}.depend-on", task.get("depend-on", []))
    for i, task in enumerate(tasks):
        for dep in task.get("depend-on", []):
            if dep not in seen:
                raise SpecError(f"{where}.build-graph[{i}].depend-on: no task {dep!r}")
    graph_order(tasks)


def graph_order(tasks):
    """The tasks in an order that runs each after its dependencies (file
    order among ready ones). Raises SpecError on a cycle."""
    done, order = set(), []
    while len(order) < len(tasks):
        ready = [t for t in tasks if t["identifier"] not in done and set(t.get("depend-on", [])) <= done]
        if not ready:
            left = [t["identifier"] for t in tasks if t["identifier"] not in done]
            raise SpecError(f"batch.build-graph: dependency cycle among {', '.join(left)}")
        order.append(ready[0])
        done.add(ready[0]["identifier"])
    return order


def load(path):
    """The buildspec at path, checked. Raises SpecError."""
    try:
        with open(path, encoding="utf-8") as f:
            spec = yaml.safe_load(f)
    except OSError as e:
        raise SpecError(f"{path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise SpecError(f"{path}: not valid YAML: {e}") from e
    where = str(path)
    _check_keys(where, spec, TOP_KEYS)
    if str(spec.get("version")) != "0.2":
        raise SpecError(f"{where}: version: want 0.2, got {spec.get('version')!r}")
    _check_env(f"{where}: env", spec.get("env", {}))
    if "phases" not in spec:
        raise SpecError(f"{where}: phases: required")
    _check_phases(f"{where}: phases", spec["phases"])
    if "batch" in spec:
        _check_batch(f"{where}: batch", spec["batch"])
    if "artifacts" in spec:
        _check_keys(f"{where}: artifacts", spec["artifacts"], ARTIFACT_KEYS)
        _strings(f"{where}: artifacts.files", spec["artifacts"].get("files"))
    if "cache" in spec:
        _check_keys(f"{where}: cache", spec["cache"], CACHE_KEYS)
        _strings(f"{where}: cache.paths", spec["cache"].get("paths", []))
    return spec
