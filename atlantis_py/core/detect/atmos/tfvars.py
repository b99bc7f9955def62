"""The `.tfvars.json` a project is planned with.

Atmos evaluates YAML functions (`!terraform.state`, `!env`, `!store` …) at run
time; we do not. A var holding one anywhere inside is left out (terraform then
uses the variable's default, or stops asking for it) and named, so the plan
comment can say which values Atmos would have computed."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping

from atlantis_py.core.detect.atmos.yamlload import AtmosFunction


def _has_function(value: object) -> bool:
    if isinstance(value, AtmosFunction):
        return True
    if isinstance(value, Mapping):
        return any(_has_function(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_function(v) for v in value)
    return False


def _plain(value: object) -> object:
    """JSON for what YAML can hold, read the way Atmos (Go's YAML) reads it:
    `!!binary` is text, a `!!set` a map of nulls, a timestamp its ISO form."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {str(k): None for k in sorted(value, key=str)}
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


def tfvars_json(vars: Mapping[str, object]) -> tuple[str, tuple[str, ...]]:
    """(JSON text, names of vars left out because they hold Atmos functions)."""
    kept: dict[str, object] = {}
    skipped: list[str] = []
    for name, value in vars.items():
        if _has_function(value):
            skipped.append(str(name))
        else:
            kept[str(name)] = _plain(value)
    return json.dumps(kept, indent=2, sort_keys=True) + "\n", tuple(sorted(skipped))
