"""The view of one revision of a repository that detection reads.

Core never touches git: the runner hands in a git-backed Tree for a ref, tests
hand in a `MemoryTree`. Blob ids only need to change when content changes
(a git blob sha, or any content hash), because they key the parse cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Protocol


class Tree(Protocol):
    def files(self, prefix: str) -> dict[str, str]:
        """Repo-relative path -> blob id for every file under `prefix`
        ("" for the whole tree; a prefix is a folder, no trailing slash)."""
        ...

    def read(self, path: str) -> bytes:
        """The content of one file; KeyError when absent."""
        ...

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """Several files at once, so a git tree can batch them in one request."""
        ...


def blob_id(data: bytes) -> str:
    """git's blob sha, so a working-directory tree and a git tree share cache entries."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def under(prefix: str, path: str) -> bool:
    """True when `path` lies inside folder `prefix` ("" or "." is the root)."""
    if prefix in ("", "."):
        return True
    return path.startswith(prefix.rstrip("/") + "/")


class MemoryTree:
    """A Tree over a dict of path -> text, for tests and generated repos."""

    def __init__(self, contents: Mapping[str, str | bytes]) -> None:
        self._data = {p: c.encode() if isinstance(c, str) else c for p, c in contents.items()}
        self._ids = {p: blob_id(c) for p, c in self._data.items()}

    def files(self, prefix: str) -> dict[str, str]:
        return {p: i for p, i in self._ids.items() if under(prefix, p)}

    def read(self, path: str) -> bytes:
        return self._data[path]

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        return {p: self._data[p] for p in paths}
