#!/usr/bin/env python3
"""Runs a CodeBuild buildspec (version 0.2) on this machine as CodeBuild
runs it in a build container, for the plugin tests (CodeBuild has no local
runner that needs no image pull).

  codebuild_run.py --src DIR --work DIR [--batch] [--env K=V …] [--env-file F] BUILDSPEC

What it does, after AWS's buildspec and batch build references:
- every build starts from a fresh copy of --src (CODEBUILD_SRC_DIR, the
  working directory), with the environment of this process, then the
  buildspec's env variables, the project's (--env, --env-file), a batch
  task's env variables, and CodeBuild's own (CODEBUILD_*, AWS_REGION…);
- the phases install, pre_build, build, post_build run in order; each
  command in a new shell (env.shell: bash or /bin/sh) that starts with the
  variables (exported or not) and the working directory the previous command
  left, as in version 0.2; shell functions and options do not carry over;
- a failed command skips the rest of the phase's commands, then `finally`
  runs; a failed install or pre_build ends the build, a failed build still
  runs post_build with CODEBUILD_BUILD_SUCCEEDING=0; a phase's on-failure
  ABORT ends the build there, CONTINUE goes on to the next phase;
- artifacts (files, base-directory, discard-paths) are copied to
  WORK/BUILD/artifacts after post_build, even when the build failed, and a
  pattern list that matches nothing fails the build, as in CodeBuild;
- env exported-variables go to WORK/BUILD/exported.env (NAME=VALUE lines);
- TMPDIR and HOME are the build's own (WORK/BUILD/tmp and WORK/BUILD/home),
  as each build has its own /tmp and /root: logins (~/.docker) are not shared;
- --batch runs the batch build-graph: one build per task, one after another
  in dependency order, each with its task's env and its own copy of the
  source (builds of a batch share no files), fast-fail and ignore-failure
  honoured. Each task's env type and compute type are shown; all run here.

WORK/BUILD is WORK/build, or WORK/IDENTIFIER for a batch task; it also gets
`result` (SUCCEEDED or FAILED) and `phases` (one "PHASE STATUS" a line).
Exit status: 0 succeeded, 1 failed, 2 invalid buildspec or usage.
"""
import argparse
import os
import shutil
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codebuild_phases  # noqa: E402
import codebuild_spec  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description="run a CodeBuild buildspec's phases here")
    p.add_argument("buildspec", help="path of the buildspec, relative to --src unless absolute")
    p.add_argument("--src", required=True, help="the source directory each build gets a copy of")
    p.add_argument("--work", required=True, help="where builds run and results go")
    p.add_argument("--batch", action="store_true", help="run the batch build-graph")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="project variable")
    p.add_argument("--env-file", action="append", default=[], help="project variables, NAME=VALUE a line")
    p.add_argument("--source-version", default="", help="CODEBUILD_SOURCE_VERSION (default: the commit)")
    p.add_argument("--webhook-trigger", default="", help="CODEBUILD_WEBHOOK_TRIGGER: branch/B, tag/T or pr/N")
    p.add_argument("--head-ref", default="", help="CODEBUILD_WEBHOOK_HEAD_REF (default: from the trigger)")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--project", default="polyarch-test")
    p.add_argument("--repo-url", default="https://github.com/acme/app.git")
    p.add_argument("--build-number", type=int, default=1, help="the first build's number")
    p.add_argument("--timeout", type=int, default=600, help="seconds per build")
    return p.parse_args()


def project_env(args):
    env = {}
    lines = list(args.env)
    for name in args.env_file:
        with open(name, encoding="utf-8") as f:
            lines += [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    for line in lines:
        name, sep, value = line.partition("=")
        if not sep or not codebuild_spec.VARIABLE.match(name):
            raise codebuild_spec.SpecError(f"invalid project variable {line.split('=')[0]!r}: want NAME=VALUE")
        env[name] = value
    return env


def commit_of(src):
    try:
        out = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def builtin_env(args, number, src_dir, commit, identifier):
    build_uuid = str(uuid.uuid4())
    trigger = args.webhook_trigger
    head = args.head_ref
    if not head and trigger.startswith("branch/"):
        head = "refs/heads/" + trigger[7:]
    elif not head and trigger.startswith("tag/"):
        head = "refs/tags/" + trigger[4:]
    env = {
        "CODEBUILD_BUILD_ID": f"{args.project}:{build_uuid}",
        "CODEBUILD_BUILD_ARN": f"arn:aws:codebuild:{args.region}:{args.account}:build/{args.project}:{build_uuid}",
        "CODEBUILD_BUILD_NUMBER": str(number),
        "CODEBUILD_BUILD_IMAGE": "aws/codebuild/amazonlinux2-x86_64-standard:5.0",
        "CODEBUILD_INITIATOR": "GitHub-Hookshot/polyarch" if trigger else "polyarch-test-user",
        "CODEBUILD_RESOLVED_SOURCE_VERSION": commit,
        "CODEBUILD_SOURCE_VERSION": args.source_version or commit,
        "CODEBUILD_SOURCE_REPO_URL": args.repo_url,
        "CODEBUILD_SRC_DIR": src_dir,
        "CODEBUILD_START_TIME": "0",
        "CODEBUILD_BUILD_SUCCEEDING": "1",
        "TMPDIR": os.path.join(os.path.dirname(src_dir), "tmp"),
        "HOME": os.path.join(os.path.dirname(src_dir), "home"),
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
    }
    if trigger:
        env["CODEBUILD_WEBHOOK_TRIGGER"] = trigger
        env["CODEBUILD_WEBHOOK_HEAD_REF"] = head
        env["CODEBUILD_WEBHOOK_EVENT"] = "PULL_REQUEST_UPDATED" if trigger.startswith("pr/") else "PUSH"
    if identifier:
        env["CODEBUILD_BATCH_BUILD_IDENTIFIER"] = identifier
    return env


def build_env(spec, project, task_vars, builtin):
    """CodeBuild's precedence: buildspec < project < batch task < CodeBuild's own."""
    # This machine's environment stands for the image's, without CodeBuild's
    # own variables or a registry login file another build could share.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CODEBUILD_") and k not in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    spec_env = spec.get("env") or {}
    env.update(codebuild_spec.variables("env.variables", spec_env.get("variables")))
    for key in ("parameter-store", "secrets-manager"):
        for name in codebuild_spec.variables(f"env.{key}", spec_env.get(key)):
            if name not in project and name not in task_vars:
                raise codebuild_spec.SpecError(f"env.{key}.{name}: give its value with --env-file (no AWS here)")
    env.update(project)
    env.update(task_vars)
    for name in builtin:
        if not name.startswith("CODEBUILD_") and name in project:
            continue  # the project may set AWS_REGION
        env[name] = builtin[name]
    return env


def run_one(args, spec_path, name, number, task, project):
    """One build: a fresh source copy, the phases, artifacts, exported variables."""
    out = os.path.join(args.work, name)
    src_dir = os.path.join(out, "src")
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(args.src, src_dir, symlinks=True)
    os.makedirs(os.path.join(out, "tmp"))
    os.makedirs(os.path.join(out, "home"))
    # The buildspec is read from the build's own checkout, like CodeBuild.
    relative = task.get("buildspec") if task and task.get("buildspec") else spec_path
    path = relative if os.path.isabs(relative) else os.path.join(src_dir, relative)
    spec = codebuild_spec.load(path)
    task_env = (task or {}).get("env", {})
    task_vars = codebuild_spec.variables("env.variables", task_env.get("variables"))
    builtin = builtin_env(args, number, src_dir, commit_of(args.src), task["identifier"] if task else "")
    env = build_env(spec, project, task_vars, builtin)
    if task:
        print(f"[Batch] Build {name} #{number}: type {task_env.get('type', 'LINUX_CONTAINER')}, "
              f"compute {task_env.get('compute-type', 'project default')} (runs on this host: {os.uname().machine})",
              flush=True)
    build = codebuild_phases.Build(spec, env, src_dir, out, args.timeout)
    ok = build.run()
    print(f"[Container] Build {name} {'SUCCEEDED' if ok else 'FAILED'}", flush=True)
    return ok


def run_batch(args, spec_path, project):
    spec = codebuild_spec.load(spec_path if os.path.isabs(spec_path) else os.path.join(args.src, spec_path))
    if "batch" not in spec:
        raise codebuild_spec.SpecError(f"{spec_path}: no batch section to run with --batch")
    batch = spec["batch"]
    results = {}
    failed = False
    for i, task in enumerate(codebuild_spec.graph_order(batch["build-graph"])):
        ident = task["identifier"]
        blocked = [d for d in task.get("depend-on", []) if results.get(d) is False]
        if blocked or (failed and batch.get("fast-fail", False)):
            why = f"dependency {blocked[0]} failed" if blocked else "fast-fail after a failed build"
            print(f"[Batch] Build {ident} not started: {why}", flush=True)
            results[ident] = False
            failed = True
            continue
        ok = run_one(args, spec_path, ident, args.build_number + i, task, project)
        results[ident] = ok or bool(task.get("ignore-failure", False))
        failed = failed or not results[ident]
    print(f"[Batch] {'SUCCEEDED' if not failed else 'FAILED'}: "
          + ", ".join(f"{k} {'ok' if v else 'failed'}" for k, v in results.items()), flush=True)
    return not failed


def main():
    args = parse_args()
    args.src = os.path.abspath(args.src)
    args.work = os.path.abspath(args.work)
    spec_path = args.buildspec
    try:
        project = project_env(args)
        os.makedirs(args.work, exist_ok=True)
        if args.batch:
            ok = run_batch(args, spec_path, project)
        else:
            ok = run_one(args, spec_path, "build", args.build_number, None, project)
    except codebuild_spec.SpecError as e:
        print(f"codebuild_run: error: {e}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
