"""Hypothesis strategies the fuzz tests share: JSON-ish values, and real
documents mutated by type (one node replaced by a value of any kind, or removed)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats() | st.text(max_size=12))

VALUES: st.SearchStrategy[object] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12,
)

Path = tuple[str | int, ...]


def paths(doc: object, prefix: Path = ()) -> list[Path]:
    """Every node's path below the top (keys of mappings, indexes of lists)."""
    out: list[Path] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            out.append((*prefix, key))
            out += paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out.append((*prefix, i))
            out += paths(value, (*prefix, i))
    return out


def mutate(doc: Any, path: Path, replacement: object, remove: bool) -> Any:
    """A deep copy of `doc` with the node at `path` replaced (or removed)."""
    out = copy.deepcopy(doc)
    holder = out
    for part in path[:-1]:
        holder = holder[part]
    if remove:
        del holder[path[-1]]
    else:
        holder[path[-1]] = replacement
    return out


@st.composite
def mutated(draw: st.DrawFn, doc: Any, *, max_mutations: int = 3,
            replacements: st.SearchStrategy[object] = VALUES) -> Any:
    """`doc` with one to `max_mutations` nodes replaced by other values or removed."""
    for _ in range(draw(st.integers(1, max_mutations))):
        found = paths(doc)
        if not found:
            break
        path = draw(st.sampled_from(found))
        doc = mutate(doc, path, draw(replacements), draw(st.booleans()))
    return doc


def nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()
