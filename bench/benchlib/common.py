"""Shared pieces of bench/run: constants, shell helpers, the registry."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIR = os.path.dirname(BENCH_DIR)
MIB = 1 << 20
CASES = ["index", "copy", "assemble", "build", "layer", "inspect"]
APT_TOOLS = {"skopeo": "skopeo", "buildah": "buildah", "/usr/bin/docker": "docker.io",
             "pigz": "pigz", "docker-registry": "docker-registry"}
ACCESS_LINE = re.compile(r'^127\.0\.0\.1 - - \[[^]]*\] "([A-Z]+) ([^ ]*) HTTP/[0-9.]*" (\d+)')


def say(text):
    print(text, file=sys.stderr, flush=True)


def sh(args, **kw):
    """Runs a command that must succeed; returns its stdout as text."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    result = subprocess.run(args, text=True, **kw)
    if result.returncode != 0:
        raise SystemExit("bench: %s exited %d: %s" % (" ".join(map(str, args)), result.returncode,
                                                      (result.stderr or "")[-2000:]))
    return result.stdout


def install_missing_tools():
    missing = [pkg for tool, pkg in APT_TOOLS.items() if shutil.which(tool) is None]
    if not missing:
        return
    say("bench: installing %s with apt-get" % " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", *missing], env=env,
                      stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, stdout=subprocess.DEVNULL)
        sh(["apt-get", "install", "-y", *missing], env=env)


class Registry:
    """A docker-registry (distribution 2.8) on a free loopback port."""

    def __init__(self, root, name):
        self.dir = os.path.join(root, "registry-" + name)
        os.makedirs(os.path.join(self.dir, "data"))
        self.log_path = os.path.join(self.dir, "registry.log")
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\nlog:\n  level: info\n  formatter: text\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"
                    "http:\n  addr: 127.0.0.1:0\n  secret: %s\n"
                    % (os.path.join(self.dir, "data"), os.urandom(16).hex()))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", config], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        self.address = None
        for _ in range(100):
            with open(self.log_path) as f:
                m = re.search(r"listening on (127\.0\.0\.1:\d+)", f.read())
            if m:
                self.address = m.group(1)
                break
            if self.proc.poll() is not None:
                raise SystemExit("bench: docker-registry exited at start (see %s)" % self.log_path)
            time.sleep(0.1)
        if not self.address:
            raise SystemExit("bench: docker-registry did not listen within 10 s")

    def mark(self):
        """The access log's size now, for requests_since()."""
        self.log.flush()
        return os.path.getsize(self.log_path)

    def requests_since(self, offset):
        """The requests logged after offset, as "METHOD PATH STATUS" strings."""
        time.sleep(0.05)  # the registry logs a request after answering it
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        out = []
        for line in text.splitlines():
            m = ACCESS_LINE.match(line)
            if m:
                out.append("%s %s %s" % m.groups())
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
