"""The harness of bench/run: inputs, alternating runs, results files."""

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time

from benchlib.common import (BENCH_DIR, MIB, SOURCE_DIR, Registry, say, sh)


class Bench:
    def __init__(self, args):
        self.args = args
        self.polyarch = os.path.abspath(args.polyarch)
        self.work = tempfile.mkdtemp(prefix="polyarch-bench.", dir=args.workdir)
        # polyarch's own cache (remembered platforms) starts empty every time.
        os.environ["XDG_CACHE_HOME"] = os.path.join(self.work, "cache")
        self.registries = []
        self.results = []  # one dict per (case, tool)
        self.notes = {}    # case -> list of notes
        self.skopeo_policy = os.path.join(self.work, "policy.json")
        with open(self.skopeo_policy, "w") as f:
            f.write('{"default":[{"type":"insecureAcceptAnything"}]}\n')
        # buildah/docker state of our own, removed at the end.
        self.buildah_root = os.path.join(self.work, "buildah-root")
        self.buildah_runroot = os.path.join(self.work, "buildah-runroot")
        self.docker_config = os.path.join(self.work, "docker-config")
        os.makedirs(self.docker_config)
        self.counter = 0
        self.load_start = list(os.getloadavg())

    # ---- helpers -----------------------------------------------------------

    def registry(self, name):
        r = Registry(self.work, name)
        self.registries.append(r)
        return r

    def fresh(self, holder, name):
        """Replaces holder["reg"] with a new, empty registry (not timed)."""
        if holder.get("reg"):
            holder["reg"].stop()
            self.registries.remove(holder["reg"])
            shutil.rmtree(holder["reg"].dir, ignore_errors=True)
        holder["reg"] = self.registry(self.unique(name + "-"))

    def unique(self, prefix):
        self.counter += 1
        return "%s%d" % (prefix, self.counter)

    def skopeo(self, *args):
        return ["skopeo", "--policy", self.skopeo_policy, *args]

    def buildah(self, *args):
        return ["buildah", "--root", self.buildah_root, "--runroot", self.buildah_runroot, *args]

    def docker(self, *args):
        return ["/usr/bin/docker", "--config", self.docker_config, *args]

    def note(self, case, text):
        self.notes.setdefault(case, []).append(text)

    def measure(self, case, tools, registries=(), runs=None):
        """Runs each tool's (prepare, command, cleanup) alternately runs times.

        tools: list of (name, factory); factory(i) returns a dict with "cmd"
        (argv list, or list of argv lists run in sequence, or a callable),
        optional "env", "before" and "after" callables run outside the timing.
        """
        runs = runs or self.args.runs
        samples = {name: [] for name, _ in tools}
        requests = {name: [] for name, _ in tools}
        for i in range(runs):
            for name, factory in tools:
                job = factory(i)
                if job.get("before"):
                    job["before"]()
                regs = job.get("registries") or registries
                marks = [(r, r.mark()) for r in (regs() if callable(regs) else regs)]
                cmds = job["cmd"]
                if callable(cmds):
                    start = time.perf_counter()
                    cmds()
                    elapsed = time.perf_counter() - start
                else:
                    if cmds and isinstance(cmds[0], str):
                        cmds = [cmds]
                    env = dict(os.environ, **job.get("env", {}))
                    start = time.perf_counter()
                    for cmd in cmds:
                        result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE, text=True,
                                                shell=isinstance(cmd, str))
                        if result.returncode != 0:
                            raise SystemExit("bench: %s/%s: %s exited %d:\n%s" % (
                                case, name, cmd, result.returncode, result.stderr[-3000:]))
                    elapsed = time.perf_counter() - start
                reqs = []
                for r, offset in marks:
                    reqs += r.requests_since(offset)
                samples[name].append(elapsed)
                requests[name].append(reqs)
                if job.get("after"):
                    job["after"]()
                say("  %-8s %-34s run %d: %8.1f ms, %d requests" % (
                    case, name, i + 1, elapsed * 1000, len(reqs)))
        base = statistics.median(samples[tools[0][0]])
        for name, _ in tools:
            med = statistics.median(samples[name])
            self.results.append({
                "case": case, "tool": name, "runs": len(samples[name]),
                "median_ms": round(med * 1000, 2),
                "min_ms": round(min(samples[name]) * 1000, 2),
                "max_ms": round(max(samples[name]) * 1000, 2),
                "ratio_to_polyarch": round(med / base, 2) if base > 0 else None,
                "requests": int(statistics.median([len(r) for r in requests[name]])),
                "request_log": requests[name][-1] if registries or any(requests[name]) else [],
                "samples_ms": [round(s * 1000, 2) for s in samples[name]],
            })

    # ---- inputs ------------------------------------------------------------

    def make_inputs(self):
        say("bench: making inputs in %s" % self.work)
        self.hello = os.path.join(self.work, "hello")
        sh(["bash", os.path.join(SOURCE_DIR, "examples/hello/build.sh"), self.hello])
        # 10 MiB "binaries": the static hello for the platform, padded with real
        # machine code (the start of /usr/bin/buildah) so they compress like binaries.
        self.platforms4 = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le"]
        arch_dir = {"linux/amd64": "amd64", "linux/arm64": "arm64", "linux/arm/v7": "arm-v7",
                    "linux/ppc64le": "amd64"}
        filler = shutil.which("buildah")
        self.bins10 = {}
        for p in self.platforms4:
            out = os.path.join(self.work, "bin10", p.replace("/", "-"), "app")
            os.makedirs(os.path.dirname(out))
            with open(os.path.join(self.hello, arch_dir[p], "hello"), "rb") as f:
                data = f.read()
            with open(filler, "rb") as f:
                f.seek(len(p) * 4096)  # each platform's file differs
                data += f.read(10 * MIB - len(data))
            with open(out, "wb") as f:
                f.write(data)
            os.chmod(out, 0o755)
            self.bins10[p] = out
        # 64 MiB incompressible layers, one per platform.
        self.big = {}
        for p in self.platforms4:
            out = os.path.join(self.work, "big64", p.replace("/", "-"), "data")
            os.makedirs(os.path.dirname(out))
            sh(["sh", "-c", "head -c %d /dev/urandom > '%s'" % (64 * MIB, out)])
            self.big[p] = out

    def push_assembled(self, reg, repo, files, dest="/app"):
        args = [self.polyarch, "-q", "assemble", "--tag", "%s/%s" % (reg.address, repo), "--push",
                "--dest", dest]
        for p, f in files.items():
            args += ["--platform", "%s=%s" % (p, f)]
        return sh(args).strip()

    def children(self, reg, repo_tag):
        raw = sh(self.skopeo("inspect", "--raw", "--tls-verify=false",
                             "docker://%s/%s" % (reg.address, repo_tag)))
        return [(m["platform"], m["digest"]) for m in json.loads(raw)["manifests"]]

    # ---- cases -------------------------------------------------------------

    def buildah_clean(self, name):
        subprocess.run(self.buildah("manifest", "rm", name), capture_output=True)
        subprocess.run(self.buildah("rmi", "--all", "--force"), capture_output=True)

    def storage_conf(self):
        path = os.path.join(self.work, "storage.conf")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write('[storage]\ndriver = "overlay"\nrunroot = "%s"\ngraphroot = "%s"\n'
                        % (self.buildah_runroot, self.buildah_root))
        return path

    def sha256_rate(self):
        """polyarch's Sha256 class (engine/image/digest.cpp) vs openssl speed."""
        exe = os.path.join(self.work, "sha256_rate")
        # The engine library built with the binary has digest.cpp and what it
        # needs; without one, the sources themselves.
        library = os.path.join(os.path.dirname(self.polyarch), "libengine.a")
        sources = [library] if os.path.exists(library) else [
            os.path.join(SOURCE_DIR, "engine/image", name) for name in ("digest.cpp", "shown.cpp")]
        sh(["g++", "-std=c++20", "-O2", "-I" + SOURCE_DIR, "-o", exe,
            os.path.join(BENCH_DIR, "sha256_rate.cpp"), *sources, "-lcrypto"])
        ours = json.loads(sh([exe, "256"]))
        text = sh(["openssl", "speed", "-seconds", "2", "-bytes", str(MIB), "-evp", "sha256"],
                  stderr=subprocess.DEVNULL)
        # "sha256   1234567.89k" : thousands of bytes per second for 1 MiB blocks.
        m = re.search(r"^sha256\s+([0-9.]+)k", text, re.M)
        openssl_mb = float(m.group(1)) * 1000 / 1e6 if m else None
        self.sha = {"polyarch_MBps": round(ours["MBps"], 1),
                    "openssl_speed_MBps": round(openssl_mb, 1) if openssl_mb else None,
                    "fraction": round(ours["MBps"] / openssl_mb, 3) if openssl_mb else None}
        say("  sha256: %s" % self.sha)

    def write(self):
        meta = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "host": {"cpus": os.cpu_count(), "machine": platform.machine(),
                     "kernel": platform.release()},
            "runs": self.args.runs,
            # Other work on the machine: 1-minute load averages when the run
            # started and when it ended (CPU-bound cases suffer most).
            "loadavg": {"start": self.load_start, "end": list(os.getloadavg())},
            "polyarch": sh([self.polyarch, "--version"]).strip(),
            "peers": self.versions(),
        }
        doc = {"meta": meta, "results": self.results, "sha256": getattr(self, "sha", None),
               "notes": self.notes}
        if self.args.no_write:
            print(json.dumps(doc, indent=2))
            return
        with open(os.path.join(BENCH_DIR, "results.json"), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        lines = ["# polyarch benchmark results", "",
                 "Written by `bench/run` on %s: %d CPUs, %s, Linux %s; %d runs per tool, "
                 "alternating. Times are wall-clock milliseconds; ratio = tool median / polyarch "
                 "median (above 1: polyarch is faster); requests = HTTP requests the local "
                 "registry logged for one run (median)." % (
                     meta["date"], meta["host"]["cpus"], meta["host"]["machine"],
                     meta["host"]["kernel"], self.args.runs),
                 "", "Machine load (1/5/15-minute load averages) at the start: %s; at the end: %s "
                 "(%d CPUs: above %d, other work was competing for them)." % (
                     " / ".join("%.1f" % x for x in meta["loadavg"]["start"]),
                     " / ".join("%.1f" % x for x in meta["loadavg"]["end"]),
                     meta["host"]["cpus"], meta["host"]["cpus"]),
                 "", "Tools: %s; %s." % (meta["polyarch"], ", ".join(
                     "%s %s" % kv for kv in meta["peers"].items())), "",
                 "| case | tool | median ms | min ms | max ms | ratio | requests |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for r in self.results:
            lines.append("| %s | %s | %.1f | %.1f | %.1f | %s | %s |" % (
                r["case"], r["tool"].replace("|", "\\|"), r["median_ms"], r["min_ms"], r["max_ms"],
                "%.2f" % r["ratio_to_polyarch"] if r["ratio_to_polyarch"] else "-",
                r["requests"] if r["request_log"] or r["requests"] else "-"))
        if getattr(self, "sha", None):
            lines += ["", "SHA-256: polyarch's `Sha256` (engine/image/digest.cpp, timed by "
                      "bench/sha256_rate.cpp over 256 MiB in 1 MiB updates, user CPU time) %.1f MB/s; "
                      "`openssl speed -evp sha256 -bytes 1048576` (user CPU time) %.1f MB/s; ratio %.3f." % (
                          self.sha["polyarch_MBps"], self.sha["openssl_speed_MBps"] or 0,
                          self.sha["fraction"] or 0)]
        if self.notes:
            lines += ["", "Notes:", ""]
            for case, texts in self.notes.items():
                for t in texts:
                    lines.append("- %s: %s" % (case, t))
        with open(os.path.join(BENCH_DIR, "results.md"), "w") as f:
            f.write("\n".join(lines) + "\n")
        say("bench: wrote bench/results.md and bench/results.json")

    def versions(self):
        out = {}
        for name, cmd in (("skopeo", ["skopeo", "--version"]), ("buildah", ["buildah", "--version"]),
                          ("docker", ["/usr/bin/docker", "--version"]),
                          ("pigz", ["pigz", "--version"]), ("gzip", ["gzip", "--version"]),
                          ("docker-registry", ["docker-registry", "--version"])):
            try:
                r = subprocess.run(cmd, capture_output=True, text=True)
                text = (r.stdout or r.stderr).strip().splitlines()[0]
                m = re.search(r"\d+\.\d+(\.\d+)?", text)
                out[name] = m.group(0) if m else text
            except (OSError, IndexError):
                out[name] = "missing"
        return out

    def cleanup(self):
        for r in self.registries:
            r.stop()
        if os.path.isdir(self.buildah_root):
            subprocess.run(self.buildah("rmi", "--all", "--force"), capture_output=True)
            subprocess.run(["umount", "-R", os.path.join(self.buildah_root, "overlay")],
                           capture_output=True)
        if self.args.keep:
            say("bench: kept %s" % self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)
