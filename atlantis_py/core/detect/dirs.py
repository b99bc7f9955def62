"""Affected projects for plain Terraform directories (with or without workflows.yaml)."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from atlantis_py.core.detect.globs import glob_match, in_file_list
from atlantis_py.core.detect.modules import ModuleGraph, tf_dirs
from atlantis_py.domain.projects import DEFAULT_AUTOPLAN_FILES, Project, RepoConfig


def default_project_name(dir: str, workspace: str = "default") -> str:
    name = "root" if dir == "." else dir.replace("/", "_")
    return name if workspace == "default" else f"{name}-{workspace}"


def _within(path: str, dir: str) -> str | None:
    """`path` relative to `dir`, or None when it lies outside it."""
    if dir == ".":
        return path
    if path.startswith(dir + "/"):
        return path[len(dir) + 1:]
    return None


def _touches(project: Project, changed: Sequence[str], modules: set[str]) -> bool:
    for path in changed:
        rel = posixpath.relpath(path, project.dir) if project.dir != "." else path
        outside = rel.startswith("../")
        # a pattern reaches outside the project only when it says so with "../"
        if any(glob_match(pat, rel) for pat in project.when_modified
               if pat.startswith("../") == outside):
            return True
        for module in modules:
            inner = _within(path, module)
            if inner is not None and glob_match("**/*.tf*", inner):
                return True
    return False


def affected_projects(config: RepoConfig, changed: Sequence[str], root: Path,
                      autoplan_files: Sequence[str] = DEFAULT_AUTOPLAN_FILES) -> list[Project]:
    """Projects whose files or local modules the change touches, in a stable order.

    With no workflows.yaml every directory holding *.tf with a changed file in
    `autoplan_files` (--autoplan-file-list; by default Atlantis's: *.tf, *.tfvars,
    their JSON forms, *.tofu, terragrunt.hcl and the provider lock file, so a
    provider upgrade alone plans) is a project, except directories other
    directories source as modules: those stand for the roots that use them.
    Listed projects go by their own when_modified, as in Atlantis."""
    if config.explicit:
        graph = ModuleGraph(root, [p.dir for p in config.projects])
        listed = [p for p in config.projects
                  if p.autoplan and _touches(p, changed, graph.closure(p.dir))]
        if config.options.autodiscover != "enabled":
            return listed
        # atlantis.yaml's `autodiscover: {mode: enabled}`: listed dirs keep their entries
        configured = {p.dir for p in config.projects}
        return [*listed, *(p for p in _discovered(config, changed, root, autoplan_files)
                           if p.dir not in configured)]
    return _discovered(config, changed, root, autoplan_files)


def autodiscover_ignores(config: RepoConfig, dir: str) -> bool:
    """atlantis.yaml's `autodiscover.ignore_paths`: never discover `dir`."""
    return any(glob_match(pattern, dir) for pattern in config.options.ignore_paths)


def _discovered(config: RepoConfig, changed: Sequence[str], root: Path,
                autoplan_files: Sequence[str]) -> list[Project]:
    dirs = tf_dirs(root)
    graph = ModuleGraph(root, dirs)
    changed_dirs = {posixpath.dirname(p) or "." for p in changed
                    if in_file_list(autoplan_files, p)}
    roots = {d for d in dirs if not graph.is_sourced(d)}
    hit: set[str] = set()
    for d in roots:
        if d in changed_dirs or graph.closure(d) & changed_dirs:
            hit.add(d)
    return [Project(name=default_project_name(d), dir=d) for d in sorted(hit)
            if not autodiscover_ignores(config, d)]
