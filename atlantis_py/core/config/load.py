"""Where a repository's config comes from: the one loader the server and the
CLI share, so a dry run reads workflows.yaml exactly as the server does.

The PR's own file (head) decides workflows and projects; the rules branch's
file (the repository's default branch unless the server names another, never
the PR's base, which the PR's author may have made) decides the approval rules
a PR is judged by. The base branch's file still tells detection how the base
was laid out (Atmos settings). A missing file means defaults.
"""

from __future__ import annotations

from pathlib import Path

from atlantis_py.core.config.schema import REPO_CONFIG_FILE, load_default_config, parse_repo_config
from atlantis_py.domain.projects import RepoConfig


def config_in(tree: Path) -> RepoConfig:
    """workflows.yaml of a checked-out tree (the pull request's head)."""
    path = tree / REPO_CONFIG_FILE
    return head_config(path.read_text(encoding="utf-8", errors="replace")
                       if path.is_file() else "")


def head_config(text: str) -> RepoConfig:
    """The pull request's own workflows.yaml (`text` empty when it has none)."""
    return parse_repo_config(text) if text else load_default_config()


def base_config(text: str, base_ref: str) -> RepoConfig:
    """workflows.yaml as the base branch has it (`text` empty when it has none):
    how the base was laid out, for detection; never the rules."""
    if not text:
        return load_default_config()
    return parse_repo_config(text, f"{REPO_CONFIG_FILE} (base branch {base_ref})")


def rules_config(text: str, branch: str = "") -> RepoConfig:
    """workflows.yaml as the rules branch has it (`text` empty when it has none):
    the environments a pull request is judged by."""
    if not text:
        return load_default_config()
    named = f"rules branch {branch}" if branch else "rules branch"
    return parse_repo_config(text, f"{REPO_CONFIG_FILE} ({named})")
