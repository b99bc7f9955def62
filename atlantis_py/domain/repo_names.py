"""Repository names and the globs of --repo-allowlist.

A name becomes a path into the forge's API (`/repos/{owner}/{name}/…`) and onto
disk, so one that is not a plain `owner/name` ("acme/x/../../other/secret") could
make the bot call another repository, or another endpoint, with its own token.
Names are checked here wherever they come in: the API, the CLI, webhooks, settings.
"""

from __future__ import annotations

import re

MAX_LENGTH = 512
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_PATTERN_SEGMENT = re.compile(r"[A-Za-z0-9_.*?-]+")
_SHAPES = {"github": "owner/name", "gitlab": "group/subgroup…/name"}
ANY_DEPTH = "**"


def repo_name_problem(name: str, forge: str = "") -> str | None:
    """Why `name` is not a repository name on `forge`, or None when it is one.

    GitHub: exactly `owner/name`; GitLab: `group/subgroup…/name`; any other forge
    (a filter that names none): either. Segments are letters, digits, `.`, `-`
    and `_`, never empty, never containing `..`, never `.`.
    """
    shape = _SHAPES.get(forge, "owner/name")
    if not name:
        return f"a repository name is required ({shape})"
    if len(name) > MAX_LENGTH:
        return f"the repository name is longer than {MAX_LENGTH} characters"
    bad = next((c for c in name if c != "/" and not _SEGMENT.fullmatch(c)), None)
    if bad is not None:
        return (f"{name!r} is not a repository name ({shape}): {bad!r} is not allowed; "
                "use letters, digits, '.', '-' and '_' between the slashes")
    segments = name.split("/")
    if len(segments) > 1 and any(not s for s in segments):
        return f"{name!r} is not a repository name ({shape}): it has an empty segment"
    if forge == "github" and len(segments) != 2:
        return f"{name!r} is not a GitHub repository name: expected owner/name"
    if len(segments) < 2:
        return f"{name!r} is not a repository name: expected {shape}"
    if any(s == "." or ".." in s for s in segments):
        return f"{name!r} is not a repository name ({shape}): '.' and '..' are not allowed"
    return None


def allowlist_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is not an allow-list glob, or None when it is one.

    `*` alone allows every repository; otherwise a glob has one segment per name
    segment, `*` and `?` match within a segment, and a whole `**` segment matches
    one or more segments (GitLab subgroups: `acme/**`).
    """
    if pattern == "*":
        return None
    segments = pattern.split("/")
    if len(segments) < 2 or any(not s for s in segments):
        return f"{pattern!r} is not a glob of owner/name (e.g. 'acme/*' or 'acme/infra')"
    for s in segments:
        if not _PATTERN_SEGMENT.fullmatch(s) or s in (".", "..") or ".." in s:
            return (f"{pattern!r}: segment {s!r} may only hold letters, digits, '.', '-', "
                    "'_', '*' and '?'")
    return None


def allowlist_matches(pattern: str, name: str) -> bool:
    """True when the glob `pattern` allows the repository `name`; forges treat
    names case-insensitively, so this does too. `*` never crosses a `/`."""
    if pattern == "*":
        return True
    return _match(pattern.lower().split("/"), name.lower().split("/"))


def _match(pattern: list[str], name: list[str]) -> bool:
    if not pattern:
        return not name
    head, rest = pattern[0], pattern[1:]
    if head == ANY_DEPTH:
        return any(_match(rest, name[i:]) for i in range(1, len(name) + 1))
    return bool(name) and _segment_regex(head).fullmatch(name[0]) is not None \
        and _match(rest, name[1:])


def _segment_regex(glob: str) -> re.Pattern[str]:
    return re.compile("".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c)
                              for c in glob))
