"""The cases of bench/run, one method each: index, copy, assemble, build,
layer, inspect."""

import hashlib
import os
import shutil
import subprocess

from benchlib.common import MIB, SOURCE_DIR, sh
from benchlib.harness import Bench


class Cases(Bench):
    def case_index(self):
        reg = self.registry("index")
        self.push_assembled(reg, "idx:src", self.bins10)
        # The Debian docker client (20.10) reads only Docker schema 2 manifests:
        # give every tool the same children, converted by skopeo to that format.
        kids = []
        for n, (_, d) in enumerate(self.children(reg, "idx:src")):
            tag = "%s/idx:c%d" % (reg.address, n)
            sh(self.skopeo("copy", "--format", "v2s2", "--src-tls-verify=false",
                           "--dest-tls-verify=false", "docker://%s/idx@%s" % (reg.address, d),
                           "docker://" + tag))
            raw = subprocess.run(self.skopeo("inspect", "--raw", "--tls-verify=false",
                                             "docker://" + tag), capture_output=True).stdout
            kids.append("%s/idx@sha256:%s" % (reg.address, hashlib.sha256(raw).hexdigest()))

        def polyarch_job(i):
            tag = "%s/idx:p%d" % (reg.address, i)
            return {"cmd": [self.polyarch, "-q", "manifest", "create", "--tag", tag, *kids]}

        def buildah_job(i):
            name = self.unique("bench-idx-")
            tag = "docker://%s/idx:b%d" % (reg.address, i)
            cmds = [self.buildah("manifest", "create", name)]
            cmds += [self.buildah("manifest", "add", "--tls-verify=false", name, "docker://" + k)
                     for k in kids]
            cmds.append(self.buildah("manifest", "push", "--all", "--tls-verify=false", name, tag))
            return {"cmd": cmds,
                    "after": lambda: subprocess.run(self.buildah("manifest", "rm", name),
                                                    capture_output=True)}

        def docker_job(i):
            tag = "%s/idx:d%d" % (reg.address, i)
            env = {"DOCKER_CLI_EXPERIMENTAL": "enabled"}
            return {"env": env, "cmd": [
                self.docker("manifest", "create", "--insecure", tag, *kids),
                self.docker("manifest", "push", "--purge", "--insecure", tag)]}

        self.measure("index", [("polyarch manifest create", polyarch_job),
                               ("buildah manifest create/add/push", buildah_job),
                               ("docker manifest create/push", docker_job)], [reg])
        self.note("index", "4 children by digest in one repository, one tag; the request floor "
                  "is 1 PUT + 4 HEAD = 5. The children are Docker schema 2 manifests (the Debian docker "
                  "client cannot read OCI ones). polyarch remembers each child's platform by digest "
                  "(in a cache bench/run empties at its start), so only its first run reads each manifest "
                  "and config (4 + 4 GET + 1 PUT = 9 requests); the later runs make the floor's 5.")

    def case_copy(self):
        src = self.registry("copy-src")
        self.push_assembled(src, "big:1", self.big, dest="/data")
        holder = {}

        def fresh_dest():
            self.fresh(holder, "copy-dst")

        def polyarch_job(i):
            job = {"before": fresh_dest}
            job["cmd"] = lambda: sh([self.polyarch, "-q", "copy", "%s/big:1" % src.address,
                                     "%s/big:1" % holder["reg"].address])
            return job

        def skopeo_job(i):
            job = {"before": fresh_dest}
            job["cmd"] = lambda: sh(self.skopeo("copy", "--all", "--src-tls-verify=false",
                                                "--dest-tls-verify=false",
                                                "docker://%s/big:1" % src.address,
                                                "docker://%s/big:1" % holder["reg"].address))
            return job

        # Requests are counted on the source registry only here (the destination
        # is new each run); the same-registry case counts everything.
        self.measure("copy", [("polyarch copy", polyarch_job),
                              ("skopeo copy --all", skopeo_job)], [src])
        if holder.get("reg"):
            holder["reg"].stop()

        def mount_job(i):
            return {"cmd": [self.polyarch, "-q", "copy", "%s/big:1" % src.address,
                            "%s/mounted%d:1" % (src.address, i)]}

        def skopeo_same_job(i):
            return {"cmd": self.skopeo("copy", "--all", "--src-tls-verify=false",
                                       "--dest-tls-verify=false", "docker://%s/big:1" % src.address,
                                       "docker://%s/skmounted%d:1" % (src.address, i))}

        self.measure("copy-same-registry", [("polyarch copy (mount)", mount_job),
                                            ("skopeo copy --all", skopeo_same_job)], [src])
        self.note("copy", "4 platforms x one 64 MiB layer of /dev/urandom bytes; a new "
                  "destination registry for every run (not timed), so nothing is already there "
                  "and no blob-info cache can offer a mount. Requests: source registry only.")

    def case_assemble(self):
        holder = {}
        ctx = os.path.join(self.work, "assemble-ctx")
        os.makedirs(ctx)
        for p, f in self.bins10.items():
            d = os.path.join(ctx, "bin", p.split("/", 1)[1].replace("/", ""))
            os.makedirs(d)
            shutil.copy(f, os.path.join(d, "app"))
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nARG TARGETARCH\nARG TARGETVARIANT\n"
                    "COPY bin/${TARGETARCH}${TARGETVARIANT}/app /app\n"
                    'ENTRYPOINT ["/app"]\n')

        platform_args = []
        for p, f in self.bins10.items():
            platform_args += ["--platform", "%s=%s" % (p, f)]
        layer_cache = os.path.join(os.environ["XDG_CACHE_HOME"], "polyarch")

        def polyarch_job(tag, empty_cache):
            def job(i):
                def before():
                    self.fresh(holder, "assemble")
                    if empty_cache:
                        shutil.rmtree(layer_cache, ignore_errors=True)

                def cmd():
                    sh([self.polyarch, "-q", "assemble", "--tag",
                        "%s/asm:%s%d" % (holder["reg"].address, tag, i), "--push",
                        "--entrypoint", "/app", *platform_args])
                return {"before": before, "cmd": cmd, "registries": lambda: [holder["reg"]]}
            return job

        # The warm row's first run finds the layers cached too (not timed).
        primed = os.path.join(self.work, "assemble-primed")
        sh([self.polyarch, "-q", "assemble", "--tag", "asm:primed", "--output", "oci-dir:" + primed,
            "--entrypoint", "/app", *platform_args])
        shutil.rmtree(primed, ignore_errors=True)

        def buildah_job(i):
            name = self.unique("bench-asm-")
            def cmd():
                sh(self.buildah("build", "--isolation", "chroot", "--platform",
                                ",".join(self.platforms4), "--manifest", name, ctx))
                sh(self.buildah("manifest", "push", "--all", "--tls-verify=false", name,
                                "docker://%s/asm:b%d" % (holder["reg"].address, i)))
            return {"before": lambda: self.fresh(holder, "assemble"), "cmd": cmd,
                    "registries": lambda: [holder["reg"]],
                    "after": lambda: self.buildah_clean(name)}

        self.measure("assemble", [("polyarch assemble --push", polyarch_job("p", False)),
                                  ("polyarch assemble --push (empty cache)", polyarch_job("c", True)),
                                  ("buildah build --manifest + push", buildah_job)])
        self.note("assemble", "4 platforms, one 10 MiB binary each (static hello padded with "
                  "machine code), FROM scratch + COPY, pushed to a new, empty registry each run "
                  "(started before the timing). \"polyarch assemble --push\" keeps its layer cache "
                  "($XDG_CACHE_HOME/polyarch/layers) between runs, as a CI runner with a cache or a "
                  "developer's machine does: each layer is only tarred and hashed, its gzip taken "
                  "from the cache (checked against its digest) and uploaded. \"(empty cache)\" "
                  "removes the cache before each run (not timed), so every layer is compressed "
                  "(gzip -6, on every core) as on a first run.")

    def case_build(self):
        holder = {}
        ctx = os.path.join(self.work, "build-ctx")
        os.makedirs(ctx)
        shutil.copytree(self.hello, os.path.join(ctx, "bin"))
        platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7"]
        emulated = all(os.path.exists("/proc/sys/fs/binfmt_misc/" + q)
                       for q in ("qemu-aarch64", "qemu-arm"))
        with open(os.path.join(SOURCE_DIR, "examples/hello/Dockerfile")) as f:
            dockerfile = f.read()
        if not emulated:
            dockerfile = dockerfile.replace('RUN ["/hello"]\n', "")
            self.note("build", "no QEMU handlers registered: the RUN step was left out.")
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(dockerfile)
        env = {"CONTAINERS_STORAGE_CONF": self.storage_conf(), "BUILDAH_ISOLATION": "chroot"}

        def polyarch_job(i):
            return {"env": env, "before": lambda: self.fresh(holder, "build"),
                    "registries": lambda: [holder["reg"]],
                    "cmd": lambda: sh([self.polyarch, "-q", "build", ctx, "--platform",
                                       ",".join(platforms), "--backend", "buildah", "--tag",
                                       "%s/bld:p%d" % (holder["reg"].address, i), "--push"],
                                      env=dict(os.environ, **env)),
                    "after": lambda: self.buildah_clean("none")}

        def buildah_job(layers):
            def job(i):
                name = self.unique("bench-bld-")
                def cmd():
                    e = dict(os.environ, **env)
                    sh(["buildah", "build", "--isolation", "chroot", *layers, "--platform",
                        ",".join(platforms), "--manifest", name, ctx], env=e)
                    sh(["buildah", "manifest", "push", "--all", "--tls-verify=false", name,
                        "docker://%s/bld:b%d" % (holder["reg"].address, i)], env=e)
                return {"before": lambda: self.fresh(holder, "build"), "cmd": cmd,
                        "registries": lambda: [holder["reg"]],
                        "after": lambda: self.buildah_clean(name)}
            return job

        self.measure("build", [("polyarch build --backend buildah", polyarch_job),
                               ("buildah build --manifest + push", buildah_job([])),
                               ("buildah build --layers --manifest + push",
                                buildah_job(["--layers"]))])
        self.note("build", "examples/hello/Dockerfile for %s%s; both use the same buildah storage "
                  "(CONTAINERS_STORAGE_CONF), emptied after every run. polyarch always builds "
                  "with --layers (every step kept as the next build's cache, as docker and "
                  "BuildKit keep theirs); buildah's own default keeps none, so the --layers row "
                  "is the like-for-like one, and the plain row shows what the cache costs when "
                  "the storage is thrown away after each build." %
                  (", ".join(platforms), " with RUN under QEMU" if emulated else ""))

    def case_layer(self):
        tree = os.path.join(self.work, "tree256")
        total = 0
        # Real files of this machine (libraries, binaries, data) up to 256 MiB.
        for top in ("/usr/lib", "/usr/bin", "/usr/share"):
            for root, dirs, files in os.walk(top):
                dirs.sort()
                for name in sorted(files):
                    src = os.path.join(root, name)
                    if os.path.islink(src) or not os.path.isfile(src):
                        continue
                    size = os.path.getsize(src)
                    if total + size > 256 * MIB or size == 0:
                        continue
                    dst = os.path.join(tree, os.path.relpath(src, "/"))
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    try:
                        shutil.copyfile(src, dst)
                    except OSError:
                        continue
                    total += size
                if total >= 256 * MIB - MIB:
                    break
            if total >= 256 * MIB - MIB:
                break
        out_dir = os.path.join(self.work, "layer-out")
        ncpu = os.cpu_count() or 1

        def reset():
            shutil.rmtree(out_dir, ignore_errors=True)
            os.makedirs(out_dir)

        def polyarch_job(i):
            return {"before": reset, "cmd": [
                self.polyarch, "-q", "assemble", "--no-cache", "--platform", "linux/amd64=" + tree,
                "--dest", "/", "--tag", "layer:1", "--output", "oci-dir:" + out_dir + "/oci"]}

        def gzip_job(i):
            return {"before": reset, "cmd": "tar --sort=name -C '%s' -cf - . | gzip -6 -n > '%s/l.tgz'"
                    % (tree, out_dir)}

        def pigz_job(i):
            return {"before": reset, "cmd": "tar --sort=name -C '%s' -cf - . | pigz -6 -n -p %d > '%s/l.tgz'"
                    % (tree, ncpu, out_dir)}

        self.measure("layer", [("polyarch assemble --output oci-dir", polyarch_job),
                               ("tar | gzip -6", gzip_job),
                               ("tar | pigz -6 -p %d" % ncpu, pigz_job)])
        self.note("layer", "a %d MiB tree of this machine's /usr files; output to %s. polyarch "
                  "also hashes the tar and the gzip (sha256) and writes the OCI layout; "
                  "tar|gzip does neither. --no-cache: every run compresses the layer (the layer "
                  "cache would otherwise hand over the first run's gzip)." % (total // MIB, self.work))
        self.sha256_rate()

    def case_inspect(self):
        reg = self.registry("inspect")
        self.push_assembled(reg, "multi:1", {p: os.path.join(self.hello, d, "hello") for p, d in
                                             (("linux/amd64", "amd64"), ("linux/arm64", "arm64"),
                                              ("linux/arm/v7", "arm-v7"))}, dest="/hello")
        ref = "%s/multi:1" % reg.address

        def polyarch_job(i):
            return {"cmd": [self.polyarch, "manifest", "inspect", ref]}

        def polyarch_raw_job(i):
            return {"cmd": [self.polyarch, "manifest", "inspect", "--raw", ref]}

        def skopeo_job(i):
            return {"cmd": self.skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + ref)}

        self.measure("inspect", [("polyarch manifest inspect", polyarch_job),
                                 ("polyarch manifest inspect --raw", polyarch_raw_job),
                                 ("skopeo inspect --raw", skopeo_job)], [reg],
                     runs=max(self.args.runs, 10))

        def version_job(i):
            return {"cmd": [self.polyarch, "--version"]}

        def true_job(i):
            return {"cmd": ["/bin/true"]}

        self.measure("startup", [("polyarch --version", version_job),
                                 ("/bin/true (spawn floor)", true_job)],
                     runs=max(self.args.runs * 4, 20))

    # ---- output ------------------------------------------------------------
