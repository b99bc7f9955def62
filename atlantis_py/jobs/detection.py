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
from dataclasses import dataclass, replace
from pathlib import Path

from atlantis_py.core.detect.atmos import (
    AffectedProject,
    MemoryTree,
    StackCache,
    describe_affected,
    discover_settings,
    plain_affected,
    tfvars_json,
)
from atlantis_py.core.detect.dirs import default_project_name
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.runner.trees import GitTree, changed_paths


@dataclass(frozen=True)
class Detection:
    """`affected`: every project to autoplan when `atmos`; otherwise only the
    deleted plain directories (the rest come from `core.detect.dirs`).
    `instances` (Atmos only): every deployable instance at head, for
    `atlantis plan -p/-d` on a project this change does not affect."""

    atmos: bool
    source_sha: str
    affected: tuple[Project, ...]
    instances: tuple[Project, ...] = ()


def _configured(config: RepoConfig, dir: str, workspace: str) -> Project | None:
    for p in config.projects:
        if p.dir == dir and p.workspace == workspace:
            return p
    return None


def to_project(found: AffectedProject, config: RepoConfig, source_sha: str) -> Project:
    """A detected project, taking its workflow and environment from workflows.yaml
    when a project entry names the same (dir, workspace)."""
    entry = _configured(config, found.dir, found.workspace)
    vars_json: str | None = None
    skipped: tuple[str, ...] = ()
    if found.component is not None:
        vars_json, skipped = tfvars_json(found.vars)
    name = found.project
    if found.component is None:
        name = entry.name if entry else default_project_name(found.dir, found.workspace)
    return Project(
        name=name, dir=found.dir, workspace=found.workspace,
        workflow=entry.workflow if entry else "default",
        environment=entry.environment if entry else "default",
        reasons=found.reasons, deleted=found.deleted, vars_json=vars_json,
        skipped_vars=skipped, component=found.component, stack=found.stack,
        source_ref=source_sha if found.deleted else None)


class Detector:
    """Holds the per-repository caches; safe to share between worker threads
    (detection of one repository runs one at a time)."""

    def __init__(self) -> None:
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
