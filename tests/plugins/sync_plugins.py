#!/usr/bin/env python3
"""Copies the shared shell scripts into the plugin files that must carry them
inline (a GitLab component and a buildspec run in the user's project, where
this repository's files are not), between marker lines:

    # >>> plugins/install.sh        (written as a heredoc to a temp file)
    # <<< plugins/install.sh
    # >>> gitlab/lib.sh             (inlined as it is)
    # <<< gitlab/lib.sh

Usage: sync_plugins.py [--check] [ROOT]. --check changes nothing and exits 1
naming each file whose inline copy differs from its source.
"""
import pathlib
import re
import sys

FILES = ["gitlab/templates/*/template.yml", "codebuild/buildspec*.yml"]
MARK = re.compile(r"^(?P<indent>\s*)# >>> (?P<source>\S+)\s*$")


def block(root, source, indent):
    text = (root / source).read_text()
    lines = text.rstrip("\n").split("\n")
    if source == "plugins/install.sh":
        target = '"${TMPDIR:-/tmp}/polyarch-install-${CI_JOB_ID:-${CODEBUILD_BUILD_NUMBER:-0}}.sh"'
        lines = [f"cat >{target} <<'POLYARCH_INSTALL_SH'"] + lines + ["POLYARCH_INSTALL_SH"]
    return [(indent + line) if line else "" for line in lines]


def sync(root, path):
    out, lines, i = [], path.read_text().split("\n"), 0
    while i < len(lines):
        out.append(lines[i])
        m = MARK.match(lines[i])
        i += 1
        if not m:
            continue
        end = f"{m['indent']}# <<< {m['source']}"
        j = i
        while j < len(lines) and lines[j] != end:
            j += 1
        if j == len(lines):
            sys.exit(f"{path}:{i}: no closing marker {end.strip()!r}")
        out.extend(block(root, m["source"], m["indent"]))
        i = j
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    root = pathlib.Path(args[0] if args else pathlib.Path(__file__).resolve().parents[2])
    stale = []
    for pattern in FILES:
        for path in sorted(root.glob(pattern)):
            new = sync(root, path)
            if new != path.read_text():
                stale.append(str(path.relative_to(root)))
                if not check:
                    path.write_text(new)
    if check and stale:
        print("inline copies out of date (run tests/plugins/sync_plugins.py): " + ", ".join(stale))
        sys.exit(1)


main()
