#!/usr/bin/env python3
"""Runs one command or job of a packed CircleCI orb as a CircleCI job would
(CircleCI has no local runner that takes orbs), for the plugin tests:

  orb_run.py ORB.yml (--command NAME | --job NAME) --workdir DIR --state DIR
             [--param NAME=VALUE …] [--params FILE.yml] [--job-name NAME]
             [--checkout-from DIR]
  orb_run.py ORB.yml --check-examples   (orb_examples.py: exit 1 naming problems)

- Arguments are checked against the declared parameters as the config
  compiler does: unknown or missing ones fail; boolean (YAML 1.1 words),
  integer, enum, env_var_name (a POSIX name: the step gets the name, never
  the value), string, steps, executor; defaults fill the rest. VALUE is read
  as YAML, as in a config file. A job also takes pre-steps and post-steps,
  as a workflow's job invocation does.
- `<< parameters.x >>` is replaced in each command's or job's steps: a whole
  value keeps the argument's type (a boolean condition, a list of steps),
  inside text it becomes text (true/false); `\\<<` is a literal `<<` (how
  `orb pack` escapes inlined scripts) and turns into `<<` only at the end.
- when/unless steps are decided by logic statements (and, or, not, equal,
  matches; false, null, 0, NaN and "" are false); the orb's commands are
  expanded where they are invoked, nested.
- run steps go in order, each a new `/bin/bash -eo pipefail SCRIPT` (or the
  step's or executor's shell) in the working directory, with the caller's
  environment (the project's variables), CIRCLECI=true, CI=true,
  CIRCLE_JOB, CIRCLE_WORKING_DIRECTORY, CIRCLE_BUILD_NUM (default 1),
  CIRCLE_NODE_INDEX/TOTAL, the executor's and job's environment, the
  step's environment, and BASH_ENV: one file for the whole job
  (STATE/bash_env/JOB), which bash sources when each step starts. `when`
  is on_success (default), always or on_fail; store_artifacts and
  store_test_results always run; background steps are stopped at the end.
- special steps (orb_steps.py) use STATE as CircleCI's storage; checkout
  copies --checkout-from into the working directory (else does nothing).

Exit status: 0 when every step succeeded, 1 when one failed, 2 for a bad
orb or invocation ("orb_run: error: …").
"""
import argparse
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import orb_pack  # noqa: E402
from orb_exec import run_job  # noqa: E402

REFERENCE = re.compile(r"(?<!\\)<<\s*([A-Za-z_][\w.-]*)\s*>>")
POSIX_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NOT_A_REFERENCE = object()
SPECIAL = {"checkout", "save_cache", "restore_cache", "store_artifacts", "store_test_results",
           "persist_to_workspace", "attach_workspace", "add_ssh_keys", "setup_remote_docker"}


class OrbError(Exception):
    """The orb or the invocation is invalid (exit 2)."""


def text_of(value):
    """A value as CircleCI writes it into text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def check_value(name, spec, value, where):
    """value, checked against its parameter's type (a string as text); raises OrbError."""
    kind = spec.get("type")
    bad = None
    if kind == "boolean" and not isinstance(value, bool):
        bad = "boolean"
    elif kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        bad = "integer"
    elif kind == "string" and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
        bad = "string"
    elif kind == "enum" and value not in (spec.get("enum") or []):
        raise OrbError(f"{where}: argument {name} is {value!r}, not one of {spec.get('enum')}")
    elif kind == "env_var_name" and not (isinstance(value, str) and POSIX_NAME.match(value)):
        raise OrbError(f"{where}: argument {name} is {value!r}, not an environment variable name")
    elif kind == "steps" and not isinstance(value, list):
        bad = "steps (a list)"
    elif kind == "executor" and not (isinstance(value, str) or (isinstance(value, dict) and "name" in value)):
        bad = "executor (a name, or a map with name)"
    elif kind not in ("boolean", "integer", "string", "enum", "env_var_name", "steps", "executor"):
        raise OrbError(f"{where}: parameter {name} has unknown type {kind!r}")
    if bad:
        raise OrbError(f"{where}: argument {name} is {value!r} ({type(value).__name__}): expected type {bad}")
    return str(value) if kind == "string" else value


def bind(declared, given, where):
    """The parameter values of one invocation: checked arguments plus defaults."""
    declared = declared or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise OrbError(f"{where}: unexpected argument(s): {', '.join(unknown)}")
    values = {}
    for name, spec in declared.items():
        if name in given:
            values[name] = check_value(name, spec, given[name], where)
        elif "default" in spec:
            values[name] = check_value(name, spec, spec["default"], where + " (default)")
        else:
            raise OrbError(f"{where}: missing required argument {name}")
    return values


def substitute(value, params, where):
    """value with `<< parameters.x >>` replaced (typed for a whole value)."""
    if isinstance(value, dict):
        return {k: substitute(v, params, where) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params, where) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(reference):
        scope, _, name = reference.partition(".")
        if scope in ("pipeline", "matrix"):
            raise OrbError(f"{where}: << {reference} >> is not available inside an orb")
        if scope != "parameters":
            return NOT_A_REFERENCE  # a heredoc word, say: left as it is
        if name not in params:
            raise OrbError(f"{where}: unknown parameter << {reference} >>")
        return params[name]

    whole = REFERENCE.fullmatch(value.strip())
    if whole and whole.group(1).startswith("parameters."):
        return lookup(whole.group(1))

    def one(match):
        found = lookup(match.group(1))
        return match.group(0) if found is NOT_A_REFERENCE else text_of(found)
    return REFERENCE.sub(one, value)


def truthy(value, where):
    """A logic statement's value (configuration-reference, logic statements)."""
    if isinstance(value, dict):
        if len(value) != 1:
            raise OrbError(f"{where}: a logic statement has one key, not {sorted(value)}")
        (op, arg), = value.items()
        if op == "and":
            return all(truthy(v, where) for v in arg)
        if op == "or":
            return any(truthy(v, where) for v in arg)
        if op == "not":
            return not truthy(arg, where)
        if op == "equal":
            return all(v == arg[0] for v in arg[1:])
        if op == "matches":
            return re.fullmatch(arg["pattern"], text_of(arg["value"])) is not None
        raise OrbError(f"{where}: unknown logic operator {op!r}")
    if value is None or value is False or value == "" or value == []:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (value == 0 or (isinstance(value, float) and math.isnan(value)))
    return True


def unescape(value):
    """value with every `\\<<` turned into `<<` (after all substitution)."""
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(unescape(v) for v in value)
    return value.replace("\\<<", "<<") if isinstance(value, str) else value


class Expander:
    """Turns a job's or command's steps into concrete (type, config) steps."""

    def __init__(self, orb):
        self.commands = orb.get("commands") or {}
        self.depth = 0

    def steps(self, steps, params, where):
        """The concrete steps of STEPS with PARAMS substituted."""
        out = []
        for step in substitute(steps or [], params, where):
            out.extend(self.step(step, where))
        return out

    def step(self, step, where):
        """The concrete steps one (already substituted) step stands for."""
        if isinstance(step, str):
            name, config = step, None
        elif isinstance(step, dict) and len(step) == 1:
            (name, config), = step.items()
        else:
            raise OrbError(f"{where}: a step is one key, not {step!r}")
        if name in ("when", "unless"):
            if truthy(config["condition"], where) == (name == "when"):
                inner = config["steps"] if isinstance(config["steps"], list) else [config["steps"]]
                return [s for item in inner for s in self.step(item, where)]
            return []
        if name == "steps":
            return [s for item in (config or []) for s in self.step(item, where)]
        if name == "run":
            return [("run", {"command": config} if isinstance(config, str) else dict(config))]
        if name in SPECIAL:
            return [(name, config or {})]
        if name not in self.commands:
            raise OrbError(f"{where}: unknown step or command {name!r}")
        self.depth += 1
        if self.depth > 50:
            raise OrbError(f"{where}: commands invoke each other without end")
        command = self.commands[name]
        inner = f"command {name}"
        out = self.steps(command.get("steps"), bind(command.get("parameters"), config or {}, inner), inner)
        self.depth -= 1
        return out


def parse_args(argv):
    """The command line; exits 2 with usage when it is wrong."""
    parser = argparse.ArgumentParser(prog="orb_run.py", description="Run a packed orb's command or job.")
    parser.add_argument("orb")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--command")
    target.add_argument("--job")
    target.add_argument("--check-examples", action="store_true")
    parser.add_argument("--workdir")
    parser.add_argument("--state")
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--params")
    parser.add_argument("--job-name")
    parser.add_argument("--checkout-from")
    options = parser.parse_args(argv)
    if not options.check_examples and not (options.workdir and options.state):
        parser.error("--command and --job need --workdir and --state")
    return options


def arguments(options):
    """The invocation's arguments: --params, then each --param over them."""
    given = {}
    if options.params:
        with open(options.params, encoding="utf-8") as f:
            given.update(orb_pack.load(f.read(), options.params) or {})
    for item in options.param:
        name, sep, text = item.partition("=")
        if not sep:
            raise OrbError(f"--param {item!r}: expected NAME=VALUE")
        given[name] = orb_pack.load(text, f"--param {name}") if text.strip() else ""
    return given


def plan(orb, options):
    """(steps, executor config, job environment) of the command or job."""
    expander = Expander(orb)
    given = arguments(options)
    if options.command:
        command = (orb.get("commands") or {}).get(options.command)
        if command is None:
            raise OrbError(f"no command {options.command!r} in the orb")
        return expander.step({options.command: given}, "invocation"), {}, {}
    job = (orb.get("jobs") or {}).get(options.job)
    if job is None:
        raise OrbError(f"no job {options.job!r} in the orb")
    where = f"job {options.job}"
    around = {key: given.pop(key, None) or [] for key in ("pre-steps", "post-steps")}
    params = bind(job.get("parameters"), given, where)
    body = substitute({k: v for k, v in job.items() if k not in ("steps", "parameters")}, params, where)
    executor = body.get("executor")
    if executor is not None:
        name = executor if isinstance(executor, str) else executor["name"]
        definition = (orb.get("executors") or {}).get(name)
        if definition is None:
            raise OrbError(f"{where}: no executor {name!r} in the orb")
        args = {} if isinstance(executor, str) else {k: v for k, v in executor.items() if k != "name"}
        inner = f"executor {name}"
        values = bind(definition.get("parameters"), args, inner)
        executor = substitute({k: v for k, v in definition.items() if k != "parameters"}, values, inner)
        executor["name"] = name
    else:
        executor = {k: body[k] for k in ("machine", "docker", "macos", "resource_class", "shell") if k in body}
    steps = (expander.steps(around["pre-steps"], {}, "pre-steps") + expander.steps(job.get("steps"), params, where)
             + expander.steps(around["post-steps"], {}, "post-steps"))
    return steps, executor, body.get("environment") or {}


def environment_of(value):
    """An environment map (or KEY=VALUE list) as text values."""
    if isinstance(value, list):
        return dict(item.split("=", 1) for item in value)
    return {k: text_of(v) for k, v in (value or {}).items()}


def main(argv):
    options = parse_args(argv)
    try:
        with open(options.orb, encoding="utf-8") as f:
            orb = orb_pack.load(f.read(), options.orb)
        if options.check_examples:
            from orb_examples import check_examples  # the usage examples' check
            problems = check_examples(orb)
            for problem in problems:
                print(f"orb_run: {problem}", file=sys.stderr)
            return 1 if problems else 0
        steps, executor, job_env = plan(orb, options)
    except (OrbError, orb_pack.PackError, OSError) as error:
        print(f"orb_run: error: {error}", file=sys.stderr)
        return 2
    return run_job(unescape(steps), unescape(executor), environment_of(unescape(job_env)), options)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
