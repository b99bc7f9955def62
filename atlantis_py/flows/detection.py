"""Which projects a pull request plans: Atmos stacks × components, plain
directories, and the projects it deletes.

The comparison is the pull request's merge base against its head, read from
the repository's mirror (`runner.trees.GitTree`), never from the forge's file
list alone: deleted instances and merged stack values only exist in the trees.
One StackCache per repository lives as long as the Planner, so a stack file
is parsed once per blob however many pull requests and pushes contain it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from atlantis_py.core.detect.atmos import (
    AffectedProject,
    MemoryTree,
    StackCache,
    describe_affected,
    discover_settings,
    plain_affected,
)
from atlantis_py.core.selection import (
    Detection,
    Selection,
    select_detected,
    select_projects,
    to_project,
)
from atlantis_py.domain.commands import Command
from atlantis_py.domain.projects import DEFAULT_AUTOPLAN_FILES, RepoConfig
from atlantis_py.runner.trees import GitTree, changed_paths


class Detector:
    """Holds the per-repository caches; safe to share between worker threads
    (detection of one repository runs one at a time)."""

    def __init__(self, autoplan_files: Sequence[str] = DEFAULT_AUTOPLAN_FILES) -> None:
        self.autoplan_files = tuple(autoplan_files)
        self._caches: dict[str, StackCache] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def cache(self, key: str) -> StackCache:
        with self._guard:
            if key not in self._caches:
                self._caches[key] = StackCache()
            return self._caches[key]

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def detect(self, mirror: Path, key: str, source_sha: str, head_sha: str,
               head_cfg: RepoConfig, base_cfg: RepoConfig, *,
               all_instances: bool = False) -> Detection:
        """Raises StackError/TemplateError (nothing may be planned then) or
        WorkspaceError."""
        cache = self.cache(key)
        with self._lock(key), GitTree(mirror, head_sha) as new, \
                GitTree(mirror, source_sha) as old:
            changed = changed_paths(mirror, old.commit, new.commit)
            settings = discover_settings(new, head_cfg.atmos)
            if settings is None:
                deleted = [a for a in plain_affected(old, new, changed, cache) if a.deleted]
                return Detection(False, old.commit, tuple(
                    to_project(a, base_cfg, old.commit) for a in deleted))
            base_settings = discover_settings(old, base_cfg.atmos) or settings
            found = describe_affected(old, new, changed, settings,
                                      base_settings=base_settings, cache=cache)
            instances: Sequence[AffectedProject] = ()
            if all_instances:
                instances = describe_affected(MemoryTree({}), new, None, settings, cache=cache)
            return Detection(
                True, old.commit, tuple(to_project(a, head_cfg, old.commit) for a in found),
                tuple(replace(to_project(a, head_cfg, old.commit), reasons=())
                      for a in instances if not a.deleted))

    def select(self, mirror: Path, key: str, source_sha: str, head_sha: str,
               head_cfg: RepoConfig, base_cfg: RepoConfig, tree: Path,
               changed: Sequence[str], command: Command | None, *, compare: bool) -> Selection:
        """What a plan of this change (or `command`) takes: the one answer the
        server and the `affected`/`plan` dry runs share. `compare` false skips
        the merge-base comparison when nothing can need it (no stacks, no
        deleted *.tf): the affected directories then come from `changed`."""
        if not compare:
            return select_projects(head_cfg, tree, changed, command, self.autoplan_files)
        wants_one = command is not None and (command.project or command.dir) is not None
        found = self.detect(mirror, key, source_sha, head_sha, head_cfg, base_cfg,
                            all_instances=wants_one)
        return select_detected(found, head_cfg, tree, changed, command, self.autoplan_files)
