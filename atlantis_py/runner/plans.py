"""Saved plan files: where they live, how they are named, and when they go.

A plan is saved outside the worktree (so `git clean` on the next checkout can't
delete a plan awaiting apply) under `<root>/<forge>/<owner>/<name>/<number>/<sha>/`,
one file per (dir, workspace), keyed by the head SHA so a plan made for one
commit can never be mistaken for another's. The Atmos var file written beside a
plan goes with it. Plans go when the pull request is merged or closed, when a
plan for a newer head replaces them, and in housekeeping when the pull request
they belong to is no longer open (or no longer known).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from atlantis_py.domain.events import Repo
from atlantis_py.errors import WorkspaceError
from atlantis_py.runner.workspace import is_sha, repo_parts

log = logging.getLogger(__name__)

SUFFIX = ".tfplan"


class SavedPlans:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, repo: Repo, number: int, sha: str, dir: str, workspace: str) -> Path:
        """The file a plan of (dir, workspace) at `sha` is saved in."""
        if not is_sha(sha):
            raise WorkspaceError(f"not a full commit id: {sha!r}")
        key = hashlib.sha256(f"{dir}\0{workspace}".encode()).hexdigest()[:16]
        return self._pull_dir(repo, number) / sha / f"{key}{SUFFIX}"

    def discard_pull(self, repo: Repo, number: int) -> None:
        """Merged or closed: none of its plans can be applied any more."""
        folder = self._pull_dir(repo, number)
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
            log.info("deleted the saved plans of %s#%d", repo.full_name, number)

    def discard_older(self, repo: Repo, number: int, head_sha: str) -> None:
        """A plan for `head_sha` replaces every plan made for earlier heads."""
        folder = self._pull_dir(repo, number)
        if not folder.is_dir():
            return
        for sha_dir in folder.iterdir():
            if sha_dir.name != head_sha:
                shutil.rmtree(sha_dir, ignore_errors=True)

    def prune(self, is_open: Callable[[str, str, int], bool]) -> int:
        """Delete the plans of every pull request `is_open(forge, repo, number)`
        denies (closed while the server was down, or forgotten). Returns how
        many pull requests' plans went."""
        removed = 0
        for forge, repo, number, folder in self._pull_dirs():
            if not is_open(forge, repo, number):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        if removed:
            log.info("deleted the saved plans of %d pull requests no longer open", removed)
        return removed

    def _pull_dir(self, repo: Repo, number: int) -> Path:
        if number <= 0:
            raise WorkspaceError(f"invalid pull request number {number}")
        return self.root / Path(*repo_parts(repo)) / str(number)

    def _pull_dirs(self) -> Iterator[tuple[str, str, int, Path]]:
        """(forge, owner/name, number, folder). GitLab owners nest and may be
        all digits, so a pull request's folder is an all-digit folder at least
        two levels down that holds only commit folders."""
        if not self.root.is_dir():
            return
        for forge_dir in self.root.iterdir():
            if forge_dir.is_dir():
                yield from self._walk(forge_dir.name, forge_dir, [])

    def _walk(self, forge: str, folder: Path, names: list[str]
              ) -> Iterator[tuple[str, str, int, Path]]:
        for child in folder.iterdir():
            if not child.is_dir():
                continue
            if child.name.isdigit() and len(names) >= 2 and all(
                    is_sha(c.name) for c in child.iterdir()):
                yield forge, "/".join(names), int(child.name), child
            else:
                yield from self._walk(forge, child, [*names, child.name])
