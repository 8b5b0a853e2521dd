"""The execution half of orb_run.py: runs concrete steps in order the way a
CircleCI job does (see orb_run.py's description)."""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import orb_steps

DEFAULT_SHELL = "/bin/bash -eo pipefail"


def say(text):
    """Prints one line of the job's log at once."""
    print(text, flush=True)


def step_name(kind, config):
    """What the UI would call the step: its name, else its command's first line."""
    if kind != "run":
        return config.get("name") or kind
    return config.get("name") or config["command"].strip().split("\n")[0]


def base_environment(options, job, executor, job_env, bash_env):
    """The environment every step starts from (before its own and $BASH_ENV)."""
    env = dict(os.environ)
    env.update({"CIRCLECI": "true", "CI": "true", "CIRCLE_JOB": job,
                "CIRCLE_WORKING_DIRECTORY": options.workdir, "CIRCLE_NODE_INDEX": "0",
                "CIRCLE_NODE_TOTAL": "1", "BASH_ENV": bash_env, "CIRCLE_SHELL_ENV": bash_env})
    env.setdefault("CIRCLE_BUILD_NUM", "1")
    for source in (executor.get("environment"), job_env):
        if isinstance(source, dict):
            env.update({k: orb_text(v) for k, v in source.items()})
    return env


def orb_text(value):
    """A config value as an environment variable's text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def run_step(config, env, options, shell, scratch, background):
    """Runs one run step; its exit status (0 for a background one)."""
    script = os.path.join(scratch, f"step-{len(os.listdir(scratch))}.sh")
    with open(script, "w", encoding="utf-8") as f:
        f.write(config["command"])
    step_env = dict(env)
    raw = config.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    step_env.update({k: orb_text(v) for k, v in raw.items()})
    cwd = os.path.join(options.workdir, os.path.expanduser(config.get("working_directory") or "."))
    os.makedirs(cwd, exist_ok=True)
    argv = shlex.split(config.get("shell") or shell) + [script]
    process = subprocess.Popen(argv, cwd=cwd, env=step_env, stdin=subprocess.DEVNULL)
    if config.get("background"):
        background.append(process)
        return 0
    return process.wait()


def checkout(config, options):
    """The checkout step: --checkout-from copied into the working directory."""
    target = os.path.join(options.workdir, config.get("path") or ".")
    if not options.checkout_from:
        say("checkout: no --checkout-from; the working directory is left as it is")
        return
    shutil.copytree(options.checkout_from, target, symlinks=True, dirs_exist_ok=True)
    say(f"checkout: copied {options.checkout_from} to {target}")


def run_job(steps, executor, job_env, options):
    """Runs the steps; 0 when every one succeeded, else 1."""
    job = options.job_name or options.command or options.job
    os.makedirs(options.workdir, exist_ok=True)
    os.makedirs(os.path.join(options.state, "bash_env"), exist_ok=True)
    bash_env = os.path.join(os.path.abspath(options.state), "bash_env", job)
    open(bash_env, "w").close()
    env = base_environment(options, job, executor, job_env, bash_env)
    shell = executor.get("shell") or DEFAULT_SHELL
    store = orb_steps.Store(os.path.abspath(options.state), job)
    if executor:
        machine = executor.get("machine")
        image = machine.get("image") if isinstance(machine, dict) else machine
        say(f"executor {executor.get('name', '(inline)')}: machine image {image}, "
            f"resource class {executor.get('resource_class', 'medium')}")
    failed, background = False, []
    with tempfile.TemporaryDirectory(prefix="orb-run-") as scratch:
        for kind, config in steps:
            when = "always" if kind in ("store_artifacts", "store_test_results") else config.get("when", "on_success")
            if (when == "on_success" and failed) or (when == "on_fail" and not failed):
                say(f"==> {step_name(kind, config)} (skipped: {when})")
                continue
            say(f"==> {step_name(kind, config)}")
            try:
                if kind == "run":
                    status = run_step(config, env, options, shell, scratch, background)
                    if status != 0:
                        say(f"Exited with code exit status {status}")
                        failed = True
                elif kind == "checkout":
                    checkout(config, options)
                elif kind == "save_cache":
                    store.save_cache(config, env, options.workdir, say)
                elif kind == "restore_cache":
                    store.restore_cache(config, env, options.workdir, say)
                elif kind == "persist_to_workspace":
                    store.persist(config, options.workdir, say)
                elif kind == "attach_workspace":
                    store.attach(config, options.workdir, say)
                elif kind == "store_artifacts":
                    store.store_artifacts(config, options.workdir, say)
                else:
                    say(f"{kind}: nothing to do here")
            except (orb_steps.StepError, OSError) as error:
                say(f"error: {error}")
                failed = True
        for process in background:
            process.terminate()
            process.wait()
    say(f"job {job}: {'failed' if failed else 'succeeded'}")
    sys.stdout.flush()
    return 1 if failed else 0
