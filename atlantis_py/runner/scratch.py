"""Throw-away worktrees of a local repository, for the `atlantis-py plan` dry run.

The dry run must not touch the user's checkout (its untracked files, its
`.terraform/` folders, the branch it has out), so every commit it plans is
checked out detached in a temporary folder that is removed afterwards."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from atlantis_py.errors import WorkspaceError
from atlantis_py.runner.trees import _git, resolve_commit

log = logging.getLogger(__name__)


@contextmanager
def scratch_worktree(repo: Path, ref: str, timeout: float = 300) -> Iterator[Path]:
    """A detached worktree of `ref` in a temporary folder, removed on exit
    (with `git worktree prune`, so the repository keeps no trace of it)."""
    commit = resolve_commit(repo, ref, timeout)
    parent = Path(tempfile.mkdtemp(prefix="atlantis-plan-"))
    path = parent / commit[:12]
    try:
        _git(repo, ["worktree", "add", "--detach", "--quiet", "--", str(path), commit], timeout)
        yield path
    finally:
        shutil.rmtree(parent, ignore_errors=True)
        try:
            _git(repo, ["worktree", "prune"], timeout)
        except WorkspaceError as err:  # cleanup must not hide the real error
            log.warning("git worktree prune failed: %s", err)
