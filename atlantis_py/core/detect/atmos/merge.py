"""Atmos deep merge: maps merge, lists and scalars are replaced, later wins.

The result shares every subtree that only one side has instead of copying it.
Merged stacks are never mutated, so sharing is safe, makes merging 2,000
stacks cheap, and lets an unchanged component section compare as the same
object at both refs."""

from __future__ import annotations

from collections.abc import Mapping


def deep_merge(base: Mapping[str, object], override: Mapping[str, object]
               ) -> dict[str, object]:
    if not override:
        return base if isinstance(base, dict) else dict(base)
    if not base:
        return override if isinstance(override, dict) else dict(override)
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out


def merge_all(*layers: object) -> object:
    """Merge the mapping layers in order; a non-mapping layer replaces what came before.
    None layers (a section a level does not set) are skipped."""
    result: object = None
    for layer in layers:
        if layer is None:
            continue
        if isinstance(result, dict) and isinstance(layer, dict):
            result = deep_merge(result, layer)
        else:
            result = layer
    return result


def section(doc: Mapping[str, object], *keys: str) -> dict[str, object]:
    """doc[k1][k2]… when every step is a mapping, else an empty mapping."""
    value: object = doc
    for key in keys:
        if not isinstance(value, dict):
            return {}
        value = value.get(key)
    return value if isinstance(value, dict) else {}
