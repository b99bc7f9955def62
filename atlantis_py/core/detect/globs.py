"""Glob matching with `**`, as when_modified patterns use it (fnmatch can't)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def glob_match(pattern: str, path: str) -> bool:
    """`*` stays within one path segment; `**/` spans any number of them."""
    return _compile(pattern).match(path) is not None


def in_file_list(patterns: Sequence[str], path: str) -> bool:
    """Whether `path` (from the repository root) is in a file list such as
    Atlantis's --autoplan-file-list, read the way .dockerignore is: a pattern
    also matches every file under a directory it matches, a leading `!`
    excludes, and the last pattern that matches decides."""
    parents = [path]
    while "/" in parents[-1]:
        parents.append(parents[-1].rsplit("/", 1)[0])
    found = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        pattern = pattern.removeprefix("./").rstrip("/")
        if any(glob_match(pattern, p) for p in parents):
            found = not negated
    return found
