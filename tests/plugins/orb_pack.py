#!/usr/bin/env python3
"""Packs a CircleCI orb source directory into one orb document by the rules
of `circleci orb pack` (CircleCI-Public/circleci-cli, internal/pack):

- files at the root merge at the top level (@orb.yml is the root); each
  subdirectory of the root becomes a top-level key (commands/, jobs/,
  executors/, examples/) holding one entry per YAML file, keyed by the file
  name without its extension; deeper subdirectories only organise (their
  files join the section above; two files claiming one key are an error);
  @*.yml files merge at their own level; dotfiles and non-YAML files are
  skipped; a root directory with no YAML (scripts/) adds no key;
- unquoted yes/no/on/off are booleans (YAML 1.1, as the config compiler
  reads them); other scalars resolve as YAML 1.2 does; duplicate keys fail;
- in jobs, commands and executors only, every `<< include(PATH) >>` (alone
  or inside a longer value) becomes the contents of PATH, relative to the
  orb root, with each `<<` in them written `\\<<` so the config compiler
  reads it literally.

Not supported: an alias to an anchor defined in another file (an error).
The output is the same data; its formatting is PyYAML's (4-space indent,
sorted keys, literal blocks), not byte-identical to the CLI's.

Usage: orb_pack.py SRC [-o FILE]. Exit 2 with "orb_pack: error: …".
"""
import os
import re
import sys

import yaml

INCLUDE = re.compile(r"<<[\t\n\f\r ]*include\(([-0-9A-Za-z_/.]+)\)?[\t\n\f\r ]*>>")
YAML_NAME = re.compile(r".+\.(yml|yaml)$")
SPECIAL_NAME = re.compile(r"^@.+\.(yml|yaml)$")
BOOLS = {w: w.lower() in ("true", "yes", "on") for base in ("true", "false", "yes", "no", "on", "off")
         for w in (base, base.capitalize(), base.upper())}


class PackError(Exception):
    """A problem that stops the pack (or a load): the message says where."""


class Loader(yaml.SafeLoader):
    """YAML as the CLI reads it: YAML 1.2 scalars plus the YAML 1.1 booleans."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise PackError(f"line {key_node.start_mark.line + 1}: mapping key {key!r} "
                                f"already defined at line {seen[key]}")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _int(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    if re.fullmatch(r"[-+]?0[0-7]+", text):
        return int(text, 8)
    return int(text, 0)


def _float(loader, node):
    text = loader.construct_scalar(node).replace("_", "").lower()
    return float(text.replace(".inf", "inf").replace(".nan", "nan"))


Loader.yaml_implicit_resolvers = {}
INT = re.compile(r"^(?:[-+]?[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)$")
FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                   r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile("^(?:" + "|".join(BOOLS) + ")$"),
                             list("tTfFyYnNoO"))
Loader.add_implicit_resolver("tag:yaml.org,2002:int", INT, list("-+0123456789"))
Loader.add_implicit_resolver("tag:yaml.org,2002:float", FLOAT, list("-+0123456789."))
Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
Loader.add_constructor("tag:yaml.org,2002:bool", lambda loader, node: BOOLS[loader.construct_scalar(node)])
Loader.add_constructor("tag:yaml.org,2002:int", _int)
Loader.add_constructor("tag:yaml.org,2002:float", _float)


class Dumper(yaml.SafeDumper):
    """Sorted keys, 4-space indent, multi-line strings as literal blocks."""


def _str(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


Dumper.add_representer(str, _str)
Dumper.add_implicit_resolver("tag:yaml.org,2002:int", INT, list("-+0123456789"))
Dumper.add_implicit_resolver("tag:yaml.org,2002:float", FLOAT, list("-+0123456789."))


def load(text, where):
    """Parses one YAML document; an empty one is {}."""
    try:
        value = yaml.load(text, Loader=Loader)
    except PackError as error:
        raise PackError(f"{where}:{error}") from None
    except yaml.YAMLError as error:
        raise PackError(f"{where}: {error}") from None
    return {} if value is None else value


def dump(document):
    """The packed document as YAML text."""
    return yaml.dump(document, Dumper=Dumper, sort_keys=True, indent=4, allow_unicode=True,
                     default_flow_style=False, width=1 << 20)


def _merge(*maps):
    out = {}
    for m in maps:
        if isinstance(m, dict):
            out.update(m)
    return out


def _file(path):
    with open(path, encoding="utf-8") as f:
        value = load(f.read(), path)
    if not isinstance(value, dict):
        raise PackError(f"{path!r} must have a YAML map at the root, got {type(value).__name__}")
    return value


def _dir(path, depth):
    subtree, origins, nested = {}, {}, []
    base = os.path.splitext(os.path.basename(path))[0]
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        name, full = entry.name, entry.path
        if name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            child = _dir(full, depth + 1)
            if depth == 0:
                merged = _merge(subtree.get(name), child)
                if merged:
                    subtree[name] = merged
            else:
                nested.append((full, child))
            continue
        if not YAML_NAME.match(name):
            continue
        content = _file(full)
        if depth == 0:
            subtree = _merge(subtree, content)
        elif SPECIAL_NAME.match(name):
            subtree = _merge(subtree, subtree.get(base), content)
        else:
            key = os.path.splitext(name)[0]
            subtree[key] = _merge(subtree.get(key), content)
            origins[key] = full
    for where, content in nested:
        for key in content:
            if key in origins:
                raise PackError(f"{origins[key]!r} and {os.path.join(where, key + '.yml')!r} both define "
                                f"{key!r}; two files that pack into the same section cannot share a name")
            origins[key] = os.path.join(where, key + ".yml")
        subtree = _merge(subtree, content)
    return subtree


def _include(text, root):
    out, last = [], 0
    for m in INCLUDE.finditer(text):
        out.append(text[last:m.start()])
        path = os.path.normpath(os.path.join(root, m.group(1)))
        try:
            with open(path, encoding="utf-8") as f:
                out.append(f.read().replace("<<", "\\<<"))
        except OSError as error:
            raise PackError(f"could not read included file {path!r}: {error.strerror}") from None
        last = m.end()
    return "".join(out) + text[last:] if out else text


def _resolve(value, root):
    if isinstance(value, str):
        return _include(value, root)
    if isinstance(value, dict):
        return {k: _resolve(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, root) for v in value]
    return value


def pack(src):
    """The packed orb (a dict) of the source directory or single file SRC."""
    root = os.path.abspath(src)
    if not os.path.exists(root):
        raise PackError(f"accessing {src!r}: no such file or directory")
    document = _dir(root, 0) if os.path.isdir(root) else _file(root)
    base = root if os.path.isdir(root) else os.path.dirname(root)
    for key in ("jobs", "commands", "executors"):
        if key in document:
            document[key] = _resolve(document[key], base)
    return document


def main(argv):
    args, out = list(argv), None
    if "-o" in args:
        i = args.index("-o")
        out = args[i + 1] if i + 1 < len(args) else None
        del args[i:i + 2]
    if len(args) != 1 or (out is None and "-o" in argv):
        sys.exit("usage: orb_pack.py SRC [-o FILE]")
    try:
        text = dump(pack(args[0]))
    except PackError as error:
        print(f"orb_pack: error: {error}", file=sys.stderr)
        return 2
    if out:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
