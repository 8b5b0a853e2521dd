"""One CodeBuild build's lifecycle for codebuild_run.py: the four phases
with CodeBuild's phase transitions, each command in a new shell that
inherits the variables and working directory the previous command left,
then UPLOAD_ARTIFACTS and the exported variables.
"""
import glob
import os
import shutil
import subprocess
import tempfile

from codebuild_spec import PHASES

# Shell state that is not carried from one command to the next.
_DROPPED = {"_", "SHLVL", "PWD", "OLDPWD", "__codebuild_status"}


def _first_line(command):
    lines = command.strip("\n").split("\n")
    return lines[0] + (f" … ({len(lines)} lines)" if len(lines) > 1 else "")


def log(text):
    print(f"[Container] {text}", flush=True)


class Build:
    """One build: spec (checked), env (the full environment), src_dir (its
    checkout and first working directory), out (where results go)."""

    def __init__(self, spec, env, src_dir, out, timeout):
        self.spec = spec
        self.env = dict(env)
        self.cwd = src_dir
        self.src_dir = src_dir
        self.out = out
        self.timeout = timeout
        self.succeeding = True
        shell = (spec.get("env") or {}).get("shell", "/bin/sh")
        self.shell = ["bash", "--noprofile", "--norc"] if shell == "bash" else ["/bin/sh"]

    def run(self):
        """Runs the build; returns True when it succeeded."""
        statuses, aborted, built = [], False, False
        phases = self.spec.get("phases") or {}
        for name in PHASES:
            phase = phases.get(name) or {}
            log(f"Entering phase {name.upper()}")
            ok = self._phase(phase)
            built = built or name == "build"
            statuses.append(f"{name.upper()} {'SUCCEEDED' if ok else 'FAILED'}")
            log(f"Phase complete: {name.upper()} State: {'SUCCEEDED' if ok else 'FAILED'}")
            if ok:
                continue
            self.succeeding = False
            policy = phase.get("on-failure")
            if policy == "CONTINUE":
                continue
            if policy == "ABORT" or name != "build":
                aborted = policy == "ABORT"
                break
        if built and not aborted:
            ok = self._upload_artifacts()
            statuses.append(f"UPLOAD_ARTIFACTS {'SUCCEEDED' if ok else 'FAILED'}")
            self.succeeding = self.succeeding and ok
        self._export()
        with open(os.path.join(self.out, "phases"), "w", encoding="utf-8") as f:
            f.write("".join(s + "\n" for s in statuses))
        with open(os.path.join(self.out, "result"), "w", encoding="utf-8") as f:
            f.write("SUCCEEDED\n" if self.succeeding else "FAILED\n")
        return self.succeeding

    def _phase(self, phase):
        ok = True
        for command in phase.get("commands") or []:
            if not self._command(command):
                ok = self.succeeding = False
                break
        for command in phase.get("finally") or []:
            if not self._command(command):
                ok = self.succeeding = False
                break
        return ok

    def _command(self, command):
        log(f"Running command {_first_line(command)}")
        env = dict(self.env)
        env["CODEBUILD_BUILD_SUCCEEDING"] = "1" if self.succeeding else "0"
        with tempfile.TemporaryDirectory(prefix="codebuild-cmd.") as tmp:
            with open(os.path.join(tmp, "command"), "w", encoding="utf-8") as f:
                f.write(command if command.endswith("\n") else command + "\n")
            # `set -a` exports plain assignments too: CodeBuild keeps them.
            wrapper = ("set -a\n"
                       f"trap '__codebuild_status=$?; env -0 >\"{tmp}/env\"; pwd >\"{tmp}/cwd\"; "
                       "exit $__codebuild_status' EXIT\n"
                       f'. "{tmp}/command"\n')
            try:
                status = subprocess.run(self.shell + ["-c", wrapper], env=env, cwd=self.cwd,
                                        stdin=subprocess.DEVNULL, timeout=self.timeout, check=False).returncode
            except subprocess.TimeoutExpired:
                log(f"Command timed out after {self.timeout} s: {_first_line(command)}")
                return False
            self._keep_state(tmp)
        if status != 0:
            log(f"Command did not exit successfully {_first_line(command)} exit status {status}")
            log(f"Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: "
                f"{_first_line(command)}. Reason: exit status {status}")
        return status == 0

    def _keep_state(self, tmp):
        try:
            with open(os.path.join(tmp, "env"), "rb") as f:
                entries = f.read().split(b"\0")
            with open(os.path.join(tmp, "cwd"), encoding="utf-8") as f:
                cwd = f.read().strip()
        except OSError:
            return  # the shell was replaced (exec) or killed: nothing to carry
        env = {}
        for entry in entries:
            name, sep, value = entry.decode("utf-8", "surrogateescape").partition("=")
            if sep and name not in _DROPPED and not name.startswith("BASH_FUNC_"):
                env[name] = value
        self.env = env
        if os.path.isdir(cwd):
            self.cwd = cwd

    def _upload_artifacts(self):
        spec = self.spec.get("artifacts")
        if not spec:
            return True
        log("Entering phase UPLOAD_ARTIFACTS")
        if spec.get("exclude-paths") or spec.get("secondary-artifacts"):
            log("Phase context status code: CLIENT_ERROR Message: exclude-paths and secondary-artifacts "
                "are not supported by this harness")
            return False
        base = os.path.join(self.src_dir, spec.get("base-directory", "") or "")
        discard = spec.get("discard-paths") in (True, "yes")
        found = []
        for pattern in spec["files"]:
            for path in glob.glob(os.path.join(base, pattern), recursive=True, include_hidden=True):
                if os.path.isfile(path) and path not in found:
                    found.append(path)
        if not found:
            log("Phase context status code: CLIENT_ERROR Message: no matching artifact paths found")
            return False
        target = os.path.join(self.out, "artifacts")
        for path in found:
            name = os.path.basename(path) if discard else os.path.relpath(path, base)
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy2(path, os.path.join(target, name))
            log(f"Artifact {name}")
        return True

    def _export(self):
        names = (self.spec.get("env") or {}).get("exported-variables") or []
        with open(os.path.join(self.out, "exported.env"), "w", encoding="utf-8") as f:
            for name in names:
                if name in self.env:
                    f.write(f"{name}={self.env[name]}\n")
