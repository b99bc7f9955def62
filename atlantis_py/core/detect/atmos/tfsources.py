"""Local Terraform modules, read from a Tree instead of a checkout.

A component that sources `../../modules/x` is affected when a file in that
module changes, transitively. Only *.tf files directly in a folder count, as
for terraform itself."""

from __future__ import annotations

import posixpath
from collections import defaultdict

from atlantis_py.core.detect.atmos.cache import StackCache
from atlantis_py.core.detect.atmos.tree import Tree


class ModuleIndex:
    """folder -> local module folders it sources, computed lazily per folder."""

    def __init__(self, tree: Tree, cache: StackCache) -> None:
        self.tree = tree
        self.cache = cache
        self._tf: dict[str, dict[str, str]] = defaultdict(dict)
        for path, blob in tree.files("").items():
            if path.endswith(".tf"):
                self._tf[posixpath.dirname(path) or "."][path] = blob
        self._edges: dict[str, frozenset[str]] = {}

    def tf_folders(self) -> set[str]:
        return set(self._tf)

    def sources(self, folder: str) -> frozenset[str]:
        found = self._edges.get(folder)
        if found is not None:
            return found
        files = self._tf.get(folder, {})
        if not files:
            self._edges[folder] = frozenset()
            return self._edges[folder]
        texts: dict[str, bytes] = {}
        missing = [p for p in files if not self.cache.has_sources(files[p])]
        if missing:
            texts = self.tree.read_many(missing)
        out: set[str] = set()
        for path, blob in files.items():
            data = texts.get(path)
            read = (lambda d=data: d) if data is not None else \
                (lambda p=path: self.tree.read(p))
            for src in self.cache.tf_sources(blob, read):
                target = posixpath.normpath(posixpath.join(folder, src))
                if not target.startswith(".."):
                    out.add(target)
        self._edges[folder] = frozenset(out)
        return self._edges[folder]

    def closure(self, folder: str) -> set[str]:
        """Every module folder reachable from `folder` (cycles tolerated)."""
        seen: set[str] = set()
        todo = list(self.sources(folder))
        while todo:
            d = todo.pop()
            if d in seen or d == folder:
                continue
            seen.add(d)
            todo.extend(self.sources(d))
        return seen

    def is_sourced(self, folder: str) -> bool:
        return any(folder in self.sources(d) for d in self._tf if d != folder)
