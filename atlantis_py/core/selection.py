"""Which projects a command or change plans or applies, and which environment
judges each one: pure decisions, table-tested in tests/unit/core/test_selection.py."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from atlantis_py.core.detect import affected_projects
from atlantis_py.core.detect.atmos import AffectedProject, tfvars_json
from atlantis_py.core.detect.dirs import autodiscover_ignores, default_project_name
from atlantis_py.core.detect.modules import tf_dirs
from atlantis_py.domain.commands import Command
from atlantis_py.domain.projects import DEFAULT_AUTOPLAN_FILES, Project, RepoConfig
from atlantis_py.domain.records import RunRecord


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


@dataclass(frozen=True)
class Selection:
    projects: list[Project]
    problem: str | None = None


def select_projects(config: RepoConfig, tree: Path, changed: Sequence[str],
                    command: Command | None,
                    autoplan_files: Sequence[str] = DEFAULT_AUTOPLAN_FILES) -> Selection:
    """Autoplan and bare `atlantis plan` take the affected projects; -p/-d pick one."""
    if command is None or (command.project is None and command.dir is None):
        return Selection(affected_projects(config, changed, tree, autoplan_files))
    if command.project is not None:
        for p in config.projects:
            if p.name == command.project:
                return Selection([p])
        if not config.explicit:
            for d in sorted(tf_dirs(tree)):
                if default_project_name(d) == command.project:
                    return Selection([Project(name=command.project, dir=d)])
        return Selection([], f"no project named `{command.project}` in this repository")
    workspace = command.workspace or "default"
    assert command.dir is not None
    matching = [p for p in config.projects if p.dir == command.dir and p.workspace == workspace]
    if matching:  # as Atlantis: every project on that dir and workspace
        return Selection(matching)
    if autodiscover_ignores(config, command.dir):
        return Selection([], f"`{command.dir}` is in atlantis.yaml's autodiscover.ignore_paths "
                         "and no project lists it")
    if not any((tree / command.dir).glob("*.tf")):
        return Selection([], f"`{command.dir}` holds no Terraform (*.tf) files")
    return Selection([Project(name=default_project_name(command.dir, workspace),
                              dir=command.dir, workspace=workspace)])


def _pick(projects: Sequence[Project], command: Command) -> Project | None:
    for p in projects:
        if command.project is not None and p.name == command.project:
            return p
        if command.project is None and p.dir == command.dir \
                and p.workspace == (command.workspace or "default"):
            return p
    return None


def select_detected(found: Detection, config: RepoConfig, tree: Path, changed: Sequence[str],
                    command: Command | None,
                    autoplan_files: Sequence[str] = DEFAULT_AUTOPLAN_FILES) -> Selection:
    """Atmos repositories plan the detected instances; plain ones the affected
    directories plus the directories the pull request deletes (planned as
    destroys). -p/-d may also name a deleted project or any Atmos instance."""
    bare = command is None or (command.project is None and command.dir is None)
    if found.atmos:
        if bare:
            return Selection(list(found.affected))
        assert command is not None
        picked = _pick(found.affected, command) or _pick(found.instances, command)
        if picked is None:
            what = command.project or f"{command.dir} (workspace {command.workspace or 'default'})"
            return Selection([], f"no Atmos project `{what}` in this repository's stacks")
        return Selection([picked])
    deleted = list(found.affected)
    if not bare:
        assert command is not None
        picked = _pick(deleted, command)
        return Selection([picked]) if picked else select_projects(config, tree, changed,
                                                                  command, autoplan_files)
    gone = {(p.dir, p.workspace) for p in deleted} | {(p.dir, "default") for p in deleted}
    plain = select_projects(config, tree, changed, command, autoplan_files)
    kept = [p for p in plain.projects if (p.dir, p.workspace) not in gone]
    return Selection([*kept, *deleted], plain.problem)


def environment_of(project: Project, head: RepoConfig, rules: RepoConfig) -> str:
    """The rules branch (the default branch, never the PR's base, which the PR
    may have made) decides which environment a project belongs to, so a PR
    cannot move its project into a laxer one: the rules' project entry first,
    then (Atmos) the first rules environment whose `stacks` globs match the
    stack name, and only for projects the rules don't know, the PR's own entry."""
    def entry(config: RepoConfig) -> str | None:
        same = [p for p in config.projects
                if p.dir == project.dir and p.workspace == project.workspace]
        named = [p for p in same if p.name == project.name]  # shared dirs: by name first
        return (named or same)[0].environment if same else None

    found = entry(rules)
    if found is None and project.stack is not None:
        found = next((env.name for env in rules.environments.values()
                      if any(fnmatch.fnmatchcase(project.stack, g) for g in env.stacks)), None)
    return found or entry(head) or "default"


def wanted(run: RunRecord, command: Command) -> bool:
    if command.project is not None:
        return run.project == command.project
    if command.dir is not None:
        return run.dir == command.dir and run.workspace == (command.workspace or "default")
    return True


def project_for(run: RunRecord, head: RepoConfig) -> Project:
    """The project a plan run was for, with what detection recorded on the run."""
    same = [p for p in head.projects if p.dir == run.dir and p.workspace == run.workspace]
    own = [p for p in same if p.name == run.project]  # shared dirs: by name first
    found = (own or same or [with_file_defaults(
        Project(name=run.project, dir=run.dir, workspace=run.workspace), head)])[0]
    return replace(found, reasons=run.reasons, deleted=run.deleted, source_ref=run.source_sha)


def with_file_defaults(project: Project, config: RepoConfig) -> Project:
    """`project` with the lock mode and silenced comments atlantis.yaml gives
    it: its entry's when the file lists it, else the file's top-level ones
    (a project found from a changed directory)."""
    entry = next((p for p in config.projects if (p.name, p.dir, p.workspace)
                  == (project.name, project.dir, project.workspace)), None)
    if entry is None:
        return replace(project, repo_locks=config.options.repo_locks,
                       silence_pr_comments=config.options.silence_pr_comments)
    return replace(project, repo_locks=entry.repo_locks,
                   silence_pr_comments=entry.silence_pr_comments)




def for_base_branch(config: RepoConfig, base_ref: str) -> RepoConfig:
    """The projects a pull request into `base_ref` may plan: those whose
    atlantis.yaml `branch` regex matches it (searched, as Atlantis's Go regexp
    MatchString does), or that have none. As in Atlantis, a file in `auto`
    autodiscover mode whose projects all belong to other branches discovers
    projects as if it listed none."""
    kept = tuple(p for p in config.projects
                 if p.branch is None or re.search(p.branch, base_ref) is not None)
    if len(kept) == len(config.projects):
        return config
    explicit = config.explicit
    if config.options.autodiscover == "auto":
        explicit = bool(kept)
    return replace(config, projects=kept, explicit=explicit)
