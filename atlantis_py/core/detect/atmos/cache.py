"""Parsed manifests and merged stacks, keyed by content.

A caller (the server, per repository) keeps one StackCache across detections:
a file is parsed once per blob id however many refs contain it, and a stack
whose whole import closure is unchanged is merged once. Kept in an object the
caller owns, never in module globals."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from atlantis_py.core.detect.atmos.errors import StackError
from atlantis_py.core.detect.atmos.yamlload import load_mapping

_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.\.?/[^"]*)"', re.MULTILINE)


@dataclass(frozen=True)
class Manifest:
    """One parsed stack file: its `import:` entries apart from the rest."""

    imports: tuple[object, ...]
    body: dict[str, object]


def _manifest(doc: dict[str, object], path: str) -> Manifest:
    raw = doc.get("import")
    if raw is None:
        imports: tuple[object, ...] = ()
    elif isinstance(raw, list):
        imports = tuple(raw)
    elif isinstance(raw, str):
        imports = (raw,)
    else:
        raise StackError(path, None, "import must be a list of paths")
    body = {k: v for k, v in doc.items() if k != "import"} if "import" in doc else doc
    return Manifest(imports, body)


class StackCache:
    """Manifests by blob id, merged stacks by import-closure signature, and
    the local module sources of *.tf files by blob id."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self.parses = 0
        self._manifests: dict[str, Manifest] = {}
        self._merged: dict[str, dict[str, object]] = {}
        self._sources: dict[str, frozenset[str]] = {}
        self._derived: dict[tuple[str, str], object] = {}

    def _room(self) -> None:
        size = len(self._manifests) + len(self._merged) + len(self._derived)
        if size > self.max_entries:
            self._manifests.clear()
            self._merged.clear()
            self._sources.clear()
            self._derived.clear()

    def has_manifest(self, blob: str) -> bool:
        return blob in self._manifests

    def manifest(self, path: str, blob: str, read: Callable[[], bytes]) -> Manifest:
        found = self._manifests.get(blob)
        if found is None:
            self._room()
            self.parses += 1
            found = _manifest(load_mapping(read(), path), path)
            self._manifests[blob] = found
        return found

    def merged(self, sig: str) -> dict[str, object] | None:
        return self._merged.get(sig)

    def put_merged(self, sig: str, value: dict[str, object]) -> None:
        self._room()
        self._merged[sig] = value

    def derived(self, kind: str, sig: str, make: Callable[[], object]) -> object:
        """Anything computed from a merged stack alone (its component instances)."""
        key = (kind, sig)
        if key not in self._derived:
            self._room()
            self._derived[key] = make()
        return self._derived[key]

    def has_sources(self, blob: str) -> bool:
        return blob in self._sources

    def tf_sources(self, blob: str, read: Callable[[], bytes]) -> frozenset[str]:
        """Relative `source = "./…"` strings in one .tf file, as written."""
        found = self._sources.get(blob)
        if found is None:
            text = read().decode("utf-8", errors="replace")
            found = frozenset(m.group(1) for m in _SOURCE.finditer(text))
            self._sources[blob] = found
        return found
