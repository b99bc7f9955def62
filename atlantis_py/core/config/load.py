"""Where a repository's config comes from: the one loader the server and the
CLI share, so a dry run reads workflows.yaml exactly as the server does.

The PR's own file (head) decides workflows and projects; the rules branch's
file (the repository's default branch unless the server names another, never
the PR's base, which the PR's author may have made) decides the approval rules
a PR is judged by. The base branch's file still tells detection how the base
was laid out (Atmos settings). A missing file means defaults.

A repository coming from Atlantis may keep its atlantis.yaml instead: a
document saying `version: 3` is read with Atlantis's schema
(core/config/atlantis.py). Both files in one tree is an error, since the two
could disagree about what runs and what needs approval.

With a server-side repo config (repos.yaml), every loader takes the
repository's `policy`: its `repo_config_file` names the one file read, and
the parsed file is checked and bounded by it (core/config/repo_policy.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from atlantis_py.core.config.atlantis import (
    ATLANTIS_CONFIG_FILE,
    is_atlantis_document,
    parse_atlantis_config,
)
from atlantis_py.core.config.repo_policy import apply_policy
from atlantis_py.core.config.schema import REPO_CONFIG_FILE, load_default_config, parse_repo_config
from atlantis_py.domain.projects import RepoConfig
from atlantis_py.domain.server_config import RepoPolicy
from atlantis_py.errors import RepoConfigError

CONFIG_FILES = (REPO_CONFIG_FILE, ATLANTIS_CONFIG_FILE)


def config_file(present: Collection[str], where: str = "") -> str | None:
    """Which config file of `present` (names at the repo root) is read: None
    when neither. Both is a RepoConfigError saying which one would win."""
    if REPO_CONFIG_FILE in present and ATLANTIS_CONFIG_FILE in present:
        raise RepoConfigError(
            f"{ATLANTIS_CONFIG_FILE}{where}", None, "(file)",
            f"both {REPO_CONFIG_FILE} and {ATLANTIS_CONFIG_FILE} are at the repository "
            f"root; {REPO_CONFIG_FILE} would win, since only it can hold approval "
            f"environments, so the two could disagree about what needs approval: delete "
            f"{ATLANTIS_CONFIG_FILE} (or {REPO_CONFIG_FILE} to keep Atlantis's file)")
    return next((name for name in CONFIG_FILES if name in present), None)


def _names(policy: RepoPolicy | None) -> tuple[str, ...]:
    """The files looked for: repos.yaml's `repo_config_file` alone when it names one."""
    if policy is not None and policy.repo_config_file:
        return (policy.repo_config_file,)
    return CONFIG_FILES


def config_text(read: Callable[[str], str | None], where: str = "",
                policy: RepoPolicy | None = None) -> str:
    """The text of the config file `read` (name → text or None) finds, "" when none."""
    names = _names(policy)
    found = {name: text for name in names if (text := read(name)) is not None}
    chosen = config_file(found, where) if names == CONFIG_FILES else next(iter(found), None)
    return "" if chosen is None else found[chosen]


def parse_config(text: str, file: str, policy: RepoPolicy | None = None) -> RepoConfig:
    """A config document as its version says: 3 (or 2) Atlantis's schema, else
    ours; bounded by repos.yaml (`policy`) when the server has one."""
    known = () if policy is None else tuple(policy.workflows)
    if is_atlantis_document(text, file):
        config = parse_atlantis_config(text, file, known)
    else:
        config = parse_repo_config(text, file, known)
    return apply_policy(config, text, file, policy)


def _parse_text(text: str, where: str, policy: RepoPolicy | None) -> RepoConfig:
    """A document known only by its text; errors name the file its version implies."""
    if policy is not None and policy.repo_config_file:
        return parse_config(text, policy.repo_config_file + where, policy)
    if is_atlantis_document(text, REPO_CONFIG_FILE + where):
        return parse_config(text, ATLANTIS_CONFIG_FILE + where, policy)
    return parse_config(text, REPO_CONFIG_FILE + where, policy)


def _default(policy: RepoPolicy | None) -> RepoConfig:
    return apply_policy(load_default_config(), "", "", policy)


def config_in(tree: Path, policy: RepoPolicy | None = None) -> RepoConfig:
    """workflows.yaml (or atlantis.yaml) of a checked-out tree (the pull request's head)."""
    names = _names(policy)
    present = [n for n in names if (tree / n).is_file()]
    name = config_file(present) if names == CONFIG_FILES else next(iter(present), None)
    if name is None:
        return _default(policy)
    return parse_config((tree / name).read_text(encoding="utf-8", errors="replace"), name,
                        policy)


def head_config(text: str, policy: RepoPolicy | None = None) -> RepoConfig:
    """The pull request's own workflows.yaml (`text` empty when it has none)."""
    return _parse_text(text, "", policy) if text else _default(policy)


def base_config(text: str, base_ref: str, policy: RepoPolicy | None = None) -> RepoConfig:
    """workflows.yaml as the base branch has it (`text` empty when it has none):
    how the base was laid out, for detection; never the rules."""
    if not text:
        return _default(policy)
    return _parse_text(text, f" (base branch {base_ref})", policy)


def rules_config(text: str, branch: str = "", policy: RepoPolicy | None = None) -> RepoConfig:
    """workflows.yaml as the rules branch has it (`text` empty when it has none):
    the environments a pull request is judged by."""
    if not text:
        return _default(policy)
    named = f"rules branch {branch}" if branch else "rules branch"
    return _parse_text(text, f" ({named})", policy)
