"""The usage examples' check for orb_run.py --check-examples: every orb job,
command and executor an example uses exists, and its arguments bind to the
declared parameters with their types, each matrix combination (less the
excluded ones) on its own, as the config compiler binds them."""
from orb_run import OrbError, bind

RESERVED = {"name", "requires", "context", "filters", "matrix", "pre-steps", "post-steps", "type", "serial-group"}


def check_examples(orb):
    """The problems in the orb's usage examples, one message each."""
    problems = []
    for example, body in sorted((orb.get("examples") or {}).items()):
        usage = body.get("usage") or {}
        aliases = set(usage.get("orbs") or {})

        def split(name):
            alias, _, rest = name.partition("/")
            return rest if alias in aliases and rest else None

        def use(kind, name, args, where):
            definition = (orb.get(kind) or {}).get(name)
            if definition is None:
                problems.append(f"{where}: the orb has no {kind[:-1]} {name!r}")
                return
            try:
                values = bind(definition.get("parameters"), args, where)
            except OrbError as error:
                problems.append(str(error))
                return
            for pname, spec in (definition.get("parameters") or {}).items():
                if spec.get("type") == "executor" and pname in args:
                    ex = values[pname] if isinstance(values[pname], str) else values[pname]["name"]
                    if split(ex) is None or split(ex) not in (orb.get("executors") or {}):
                        problems.append(f"{where}: executor {ex!r} is not one of the orb's")

        for wname, workflow in (usage.get("workflows") or {}).items():
            names = set()
            for item in workflow.get("jobs") or []:
                name, args = (item, {}) if isinstance(item, str) else next(iter(item.items()))
                names.add((args or {}).get("name", name))
            for item in workflow.get("jobs") or []:
                name, args = (item, {}) if isinstance(item, str) else next(iter(item.items()))
                args = args or {}
                where = f"example {example}, workflow {wname}, job {name}"
                for need in args.get("requires") or []:
                    if need not in names:
                        problems.append(f"{where}: requires {need!r}, which the workflow does not run")
                if split(name) is None:
                    continue
                plain = {k: v for k, v in args.items() if k not in RESERVED}
                matrix = args.get("matrix") or {}
                combos = [{}]
                for key, values in (matrix.get("parameters") or {}).items():
                    combos = [dict(c, **{key: v}) for c in combos for v in values]
                excluded = matrix.get("exclude") or []
                for combo in combos:
                    if combo not in excluded:
                        use("jobs", split(name), dict(plain, **combo), where)
        for jname, job in (usage.get("jobs") or {}).items():
            for step in job.get("steps") or []:
                if isinstance(step, dict) and len(step) == 1:
                    (name, args), = step.items()
                    if split(name) is not None:
                        use("commands", split(name), args or {}, f"example {example}, job {jname}")
    return problems
