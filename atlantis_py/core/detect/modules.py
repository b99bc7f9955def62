"""Local module references: which directories a Terraform directory sources."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.\.?/[^"]*)"', re.MULTILINE)


def tf_dirs(root: Path) -> set[str]:
    """Repo-relative dirs ("." for the root) that hold *.tf files, skipping .terraform/.git."""
    found: set[str] = set()
    for path in root.rglob("*.tf"):
        rel = path.relative_to(root)
        if any(part in (".terraform", ".git") for part in rel.parts):
            continue
        found.add(rel.parent.as_posix() or ".")
    return found


def local_sources(root: Path, dir: str) -> set[str]:
    """Dirs that `dir`'s *.tf files source with a relative path, normalised."""
    out: set[str] = set()
    folder = root / dir
    for tf in folder.glob("*.tf"):
        try:
            text = tf.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for match in _SOURCE.finditer(text):
            target = posixpath.normpath(posixpath.join(dir, match.group(1)))
            if not target.startswith(".."):
                out.add(target)
    return out


class ModuleGraph:
    """dir -> dirs it sources, computed once per checkout."""

    def __init__(self, root: Path, dirs: Iterable[str]) -> None:
        self.root = root
        self._edges: dict[str, set[str]] = {}
        for d in dirs:
            self._edges[d] = local_sources(root, d)

    def sources(self, dir: str) -> set[str]:
        if dir not in self._edges:
            self._edges[dir] = local_sources(self.root, dir)
        return self._edges[dir]

    def closure(self, dir: str) -> set[str]:
        """Every module dir reachable from `dir` (cycles are tolerated)."""
        seen: set[str] = set()
        stack = list(self.sources(dir))
        while stack:
            d = stack.pop()
            if d in seen:
                continue
            seen.add(d)
            stack.extend(self.sources(d))
        return seen

    def is_sourced(self, dir: str) -> bool:
        return any(dir in targets for targets in self._edges.values())
