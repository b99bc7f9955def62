"""Saved plan files: where they live, how they are named, and when they go.

A plan is saved outside the worktree (so `git clean` on the next checkout can't
delete a plan awaiting apply) under `<root>/<forge>/<owner>/<name>/<number>/<sha>/`,
one file per (dir, workspace, project name), keyed by the head SHA so a plan made for one
commit can never be mistaken for another's. The Atmos var file written beside a
plan goes with it.

The shared copy is the archive (the database): every replica can fetch a plan
another one made, and the local file is only a cache, checked against the
archive's SHA-256 before an apply uses it. Plans go when the pull request is
merged or closed, when a plan for a newer head replaces them, and in
housekeeping when the pull request they belong to is no longer open (or known).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from atlantis_py.domain.events import Repo
from atlantis_py.errors import WorkspaceError
from atlantis_py.runner.workspace import is_sha, repo_parts

log = logging.getLogger(__name__)

SUFFIX = ".tfplan"
DEFAULT_MAX_BYTES = 100 * 1024 * 1024


class PlanArchive(Protocol):
    """Where saved plans are shared between replicas (store.plan_blobs)."""

    def put(self, forge: str, repo: str, number: int, head_sha: str, name: str,
            data: bytes, sha256: str) -> None: ...
    def get(self, forge: str, repo: str, number: int, head_sha: str, name: str
            ) -> tuple[bytes, str] | None: ...
    def delete(self, forge: str, repo: str, number: int, *, keep_sha: str | None = None
               ) -> int: ...
    def pulls(self) -> list[tuple[str, str, int]]: ...


class PlanUnavailable(WorkspaceError):
    """No usable saved plan: none was shared, or it fails its checksum, or it is
    over the size limit. The message says which."""


class SavedPlans:
    def __init__(self, root: Path, archive: PlanArchive | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Without an archive, plans stay on this machine (the dry-run CLI)."""
        self.root = root
        self.archive = archive
        self.max_bytes = max_bytes

    def path(self, repo: Repo, number: int, sha: str, dir: str, workspace: str,
             project: str = "") -> Path:
        """The file a plan of (dir, workspace) at `sha` is saved in; several
        projects may share a dir and workspace (Atlantis's tfvars layout), so
        the project's name is part of the key."""
        if not is_sha(sha):
            raise WorkspaceError(f"not a full commit id: {sha!r}")
        key = hashlib.sha256(f"{dir}\0{workspace}\0{project}".encode()).hexdigest()[:16]
        return self._pull_dir(repo, number) / sha / f"{key}{SUFFIX}"

    def share(self, repo: Repo, number: int, sha: str, path: Path) -> None:
        """Put a freshly made plan where every replica finds it. Raises
        PlanUnavailable when it is over the size limit."""
        size = path.stat().st_size
        if size > self.max_bytes:
            path.unlink(missing_ok=True)
            raise PlanUnavailable(
                f"the saved plan is {_mib(size)}, over the {_mib(self.max_bytes)} limit "
                "(--max-plan-size-mb): split the project, or raise the limit")
        if self.archive is None:
            return
        data = path.read_bytes()
        self.archive.put(repo.forge, repo.full_name, number, sha, path.name, data,
                         hashlib.sha256(data).hexdigest())

    def fetch(self, repo: Repo, number: int, sha: str, path: Path) -> None:
        """Make `path` the shared plan, byte for byte: keep the local copy when its
        checksum matches, else write the archive's. Raises PlanUnavailable."""
        if self.archive is None:
            if not path.is_file():
                raise PlanUnavailable("no saved plan: comment `atlantis plan` first")
            return
        found = self.archive.get(repo.forge, repo.full_name, number, sha, path.name)
        if found is None:
            raise PlanUnavailable("no saved plan for this commit: comment `atlantis plan`")
        data, digest = found
        if hashlib.sha256(data).hexdigest() != digest:
            raise PlanUnavailable("the stored plan does not match its checksum: "
                                  "comment `atlantis plan` to plan again")
        if path.is_file() and _digest(path) == digest:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)

    def discard_pull(self, repo: Repo, number: int) -> None:
        """Merged or closed: none of its plans can be applied any more."""
        folder = self._pull_dir(repo, number)
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        if self.archive is not None:
            self.archive.delete(repo.forge, repo.full_name, number)
        log.info("deleted the saved plans of %s#%d", repo.full_name, number)

    def discard_older(self, repo: Repo, number: int, head_sha: str) -> None:
        """A plan for `head_sha` replaces every plan made for earlier heads."""
        if self.archive is not None:
            self.archive.delete(repo.forge, repo.full_name, number, keep_sha=head_sha)
        folder = self._pull_dir(repo, number)
        if not folder.is_dir():
            return
        for sha_dir in folder.iterdir():
            if sha_dir.name != head_sha:
                shutil.rmtree(sha_dir, ignore_errors=True)

    def prune(self, is_open: Callable[[str, str, int], bool]) -> int:
        """Delete the plans of every pull request `is_open(forge, repo, number)`
        denies (closed while the server was down, or forgotten), here and in the
        archive. Returns how many pull requests' local plans went."""
        removed = 0
        for forge, repo, number, folder in self._pull_dirs():
            if not is_open(forge, repo, number):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        if self.archive is not None:
            for forge, repo, number in self.archive.pulls():
                if not is_open(forge, repo, number):
                    self.archive.delete(forge, repo, number)
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


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
