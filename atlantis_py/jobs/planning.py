"""Plan: checkout the PR head, read its config, pick projects, lock, run, report."""

from __future__ import annotations

import contextvars
import fnmatch
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from atlantis_py.core.detect import affected_projects
from atlantis_py.core.detect.atmos import StackError, TemplateError
from atlantis_py.core.detect.dirs import default_project_name
from atlantis_py.core.detect.modules import tf_dirs
from atlantis_py.core.policy import eligible_approvers
from atlantis_py.core.repo_config import REPO_CONFIG_FILE, load_default_config, parse_repo_config
from atlantis_py.domain.commands import Command
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import ChangedFile, FileStatus, StatusState
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import PullRecord
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.errors import ForgeError, RepoConfigError
from atlantis_py.jobs.detection import Detection, Detector
from atlantis_py.jobs.gate import environment
from atlantis_py.jobs.services import Services
from atlantis_py.runner.workflow import run_plan

log = logging.getLogger(__name__)

PLAN_CONTEXT = "atlantis/plan"


def read_config(tree: Path) -> RepoConfig:
    path = tree / REPO_CONFIG_FILE
    if not path.is_file():
        return load_default_config()
    return parse_repo_config(path.read_text(encoding="utf-8", errors="replace"))


def base_config_text(svc: Services, pull: PullRequest) -> str:
    return svc.workspaces.read_file(pull.repo, pull.base_ref, REPO_CONFIG_FILE) or ""


def parse_base_config(text: str, base_ref: str) -> RepoConfig:
    """workflows.yaml as the base branch has it: the rules a PR is judged by."""
    if not text:
        return load_default_config()
    return parse_repo_config(text, f"{REPO_CONFIG_FILE} (base branch {base_ref})")


def base_config(svc: Services, pull: PullRequest) -> RepoConfig:
    return parse_base_config(base_config_text(svc, pull), pull.base_ref)


def environment_of(project: Project, head: RepoConfig, base: RepoConfig) -> str:
    """The base branch decides which environment a project belongs to, so a PR
    cannot move its project into a laxer one: the base's project entry first,
    then (Atmos) the first base environment whose `stacks` globs match the stack
    name, and only for projects the base doesn't know, the PR's own entry."""
    def entry(config: RepoConfig) -> str | None:
        for p in config.projects:
            if p.dir == project.dir and p.workspace == project.workspace:
                return p.environment
        return None

    found = entry(base)
    if found is None and project.stack is not None:
        found = next((env.name for env in base.environments.values()
                      if any(fnmatch.fnmatchcase(project.stack, g) for g in env.stacks)), None)
    return found or entry(head) or "default"


def plan_status(results: Sequence[ProjectResult]) -> tuple[StatusState, str]:
    ok = sum(1 for r in results if r.status is RunStatus.SUCCESS)
    total = len(results)
    if ok == total:
        return StatusState.SUCCESS, f"{ok}/{total} projects planned"
    return StatusState.FAILURE, f"{ok}/{total} projects planned, {total - ok} failed"


@dataclass(frozen=True)
class Selection:
    projects: list[Project]
    problem: str | None = None


def select_projects(config: RepoConfig, tree: Path, changed: Sequence[str],
                    command: Command | None) -> Selection:
    """Autoplan and bare `atlantis plan` take the affected projects; -p/-d pick one."""
    if command is None or (command.project is None and command.dir is None):
        return Selection(affected_projects(config, changed, tree))
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
    for p in config.projects:
        if p.dir == command.dir and p.workspace == workspace:
            return Selection([p])
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
                    command: Command | None) -> Selection:
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
        return Selection([picked]) if picked else select_projects(config, tree, changed, command)
    gone = {(p.dir, p.workspace) for p in deleted} | {(p.dir, "default") for p in deleted}
    plain = select_projects(config, tree, changed, command)
    kept = [p for p in plain.projects if (p.dir, p.workspace) not in gone]
    return Selection([*kept, *deleted], plain.problem)


class Planner:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.detector = Detector()
        self.forge_calls = ThreadPoolExecutor(4, thread_name_prefix="atlantis-forge")

    def _select(self, pull: PullRequest, config: RepoConfig, base: RepoConfig, tree: Path,
                files: Sequence[ChangedFile], command: Command | None) -> Selection:
        changed = [f.path for f in files]
        stacks = config.atmos is not None or (tree / "atmos.yaml").is_file()
        removes_tf = any(f.status in (FileStatus.REMOVED, FileStatus.RENAMED)
                         and (f.previous_path or f.path).endswith(".tf") for f in files)
        if not stacks and not removes_tf:
            # nothing to compare at the merge base: skip its git processes
            return select_projects(config, tree, changed, command)
        ws = self.svc.workspaces
        source = ws.merge_base(pull.repo, pull.base_ref, pull.head_sha)
        wants_one = command is not None and (command.project or command.dir) is not None
        found = self.detector.detect(
            ws.mirror_path(pull.repo), f"{pull.repo.forge}:{pull.repo.full_name}", source,
            pull.head_sha, config, base, all_instances=wants_one)
        return select_detected(found, config, tree, changed, command)

    def plan(self, pull: PullRequest, actor: str, command: Command | None) -> None:
        svc = self.svc
        forge = svc.forges[pull.repo.forge]
        record = svc.pulls.upsert(pull)
        repo = pull.repo.full_name
        env = forge.clone_env
        # the forge lists the changed files while git fetches and checks out
        listing = self.forge_calls.submit(forge.changed_files, repo, pull.number)
        svc.workspaces.fetch(pull.repo, [pull.base_ref, pull.head_ref, pull.head_sha], env)
        with ExitStack() as held:
            tree = held.enter_context(
                svc.workspaces.checkout(pull.repo, pull.number, pull.head_sha, env))
            try:
                config = read_config(tree)
                base_text = base_config_text(svc, pull)
                base = parse_base_config(base_text, pull.base_ref)
            except RepoConfigError as err:
                forge.post_comment(repo, pull.number, svc.renderer.config_error(err))
                forge.set_status(repo, pull.head_sha, PLAN_CONTEXT, StatusState.FAILURE,
                                 f"{err.file} is invalid (line {err.line})")
                svc.ipr.note(record, actor, "config_error", detail=str(err))
                return
            svc.pulls.set_details(record.id, base_config=base_text)
            changed = listing.result()
            try:
                selection = self._select(pull, config, base, tree, changed, command)
            except (StackError, TemplateError) as err:
                forge.post_comment(repo, pull.number, svc.renderer.error(
                    "Plan not run", f"The Atmos stacks cannot be read: {err}"))
                forge.set_status(repo, pull.head_sha, PLAN_CONTEXT, StatusState.FAILURE,
                                 "Atmos stacks are invalid")
                svc.ipr.note(record, actor, "config_error", detail=str(err))
                return
            if selection.problem:
                forge.post_comment(repo, pull.number,
                                   svc.renderer.error("Plan not run", selection.problem))
                return
            if not selection.projects:
                if command is not None:
                    forge.post_comment(repo, pull.number, svc.renderer.no_plans())
                forge.set_status(repo, pull.head_sha, PLAN_CONTEXT, StatusState.SUCCESS,
                                 "no Terraform projects changed")
                return
            # the pending status goes out beside the plans, not before them; it is
            # joined before the final status so the two can't arrive out of order
            pending = self.forge_calls.submit(
                forge.set_status, repo, pull.head_sha, PLAN_CONTEXT, StatusState.PENDING,
                f"planning {len(selection.projects)} projects")
            extra = command.extra_args if command else ()
            envs = {(p.dir, p.workspace): environment_of(p, config, base)
                    for p in selection.projects}
            sources = {p.source_ref for p in selection.projects if p.deleted and p.source_ref}
            trees = {"": tree}
            for source in sources:  # at most one: the merge base
                trees[source] = held.enter_context(
                    svc.workspaces.checkout_base(pull.repo, pull.number, source, env))
            results = self._run_all(record, pull, config, trees, selection.projects, extra,
                                    actor, envs)
        try:
            pending.result()
        except ForgeError as err:
            log.warning("the pending status was not set: %s", err)
        self._report(pull, results, review_request(svc, base, pull.author, results, envs))

    def _run_all(self, record: PullRecord, pull: PullRequest, config: RepoConfig,
                 trees: dict[str, Path], projects: Sequence[Project], extra: Sequence[str],
                 actor: str, envs: dict[tuple[str, str], str]) -> list[ProjectResult]:
        """Dirs plan in parallel (up to the pool size); workspaces of one dir in turn,
        since they share its .terraform folder. Deleted projects run in the
        worktree of the commit they still exist at (`trees[source_ref]`)."""
        by_dir: dict[tuple[str, str], list[Project]] = defaultdict(list)
        for p in projects:
            by_dir[(p.source_ref or "", p.dir)].append(p)

        def run_dir(group: list[Project]) -> list[ProjectResult]:
            return [self._plan_one(record, pull, config, trees[p.source_ref or ""], p, extra,
                                   actor, envs[(p.dir, p.workspace)]) for p in group]

        futures = [self.svc.pool.submit(contextvars.copy_context().run, run_dir, group)
                   for group in by_dir.values()]
        done: dict[str, ProjectResult] = {}
        for fut in futures:
            for r in fut.result():
                done[r.project] = r
        return [done[p.name] for p in projects]

    def _plan_one(self, record: PullRecord, pull: PullRequest, config: RepoConfig, tree: Path,
                  project: Project, extra: Sequence[str], actor: str,
                  environment: str) -> ProjectResult:
        svc = self.svc
        lock = svc.locks.acquire(pull.repo.forge, pull.repo.full_name, project.dir,
                                 project.workspace, record.id, pull.number, project.name)
        if lock.pull_number != pull.number:
            return ProjectResult(
                project=project.name, dir=project.dir, workspace=project.workspace,
                command="plan", status=RunStatus.ERROR, head_sha=pull.head_sha,
                error=(f"This project is locked by pull request #{lock.pull_number}. "
                       f"Apply or close #{lock.pull_number}, or comment `atlantis unlock` "
                       "there, then plan again."),
                reasons=project.reasons, deleted=project.deleted)
        plan_file = svc.plan_file(pull.repo.forge, pull.repo.full_name, pull.number,
                                  pull.head_sha, project.dir, project.workspace)
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        run_id = svc.pulls.start_run(record.id, project.name, project.dir, project.workspace,
                                     "plan", pull.head_sha, actor, str(plan_file), environment,
                                     reasons=project.reasons, deleted=project.deleted,
                                     source_sha=project.source_ref)
        try:
            result = run_plan(project, config.workflow_for(project), tree, plan_file,
                              svc.terraform, extra_args=extra,
                              allow_custom_steps=svc.allow_custom_steps,
                              head_sha=pull.head_sha)
        except Exception as exc:
            log.exception("plan of %s crashed", project.name)
            result = ProjectResult(project=project.name, dir=project.dir,
                                   workspace=project.workspace, command="plan",
                                   status=RunStatus.ERROR, head_sha=pull.head_sha,
                                   error=f"{type(exc).__name__}: {exc}",
                                   reasons=project.reasons, deleted=project.deleted)
        svc.pulls.finish_run(run_id, result)
        summary = result.counts.summary() if result.counts else (result.error or "")
        svc.ipr.note(record, actor, f"plan:{result.status.value}", project=project.name,
                     detail=summary)
        return result

    def _report(self, pull: PullRequest, results: Sequence[ProjectResult],
                extra: str = "") -> None:
        forge = self.svc.forges[pull.repo.forge]
        post_comment(self.svc, pull.repo.forge, pull.repo.full_name, pull.number,
                     self.svc.renderer.plan(results, extra=extra))
        state, description = plan_status(results)
        forge.set_status(pull.repo.full_name, pull.head_sha, PLAN_CONTEXT, state, description)


def review_request(svc: Services, base: RepoConfig, author: str,
                   results: Sequence[ProjectResult],
                   envs: Mapping[tuple[str, str], str]) -> str:
    """The line that asks the eligible approvers (per the base branch's rules) to
    review, mentioning them so the forge notifies them."""
    asks = []
    for name in sorted({envs[(r.dir, r.workspace)] for r in results
                        if r.status is RunStatus.SUCCESS}):
        env = environment(svc, base, name)
        destroying = any(r.counts is not None and (r.counts.destroy or r.counts.replace)
                         for r in results if envs[(r.dir, r.workspace)] == name)
        people = eligible_approvers(env, author, destroying=destroying)
        if people and env.required_approvals:
            asks.append(f"{name}: " + ", ".join(f"@{p}" for p in people))
    return ("**Review requested** (" + "; ".join(asks) + ")\n") if asks else ""


def post_comment(svc: Services, forge_name: str, repo: str, number: int, body: str) -> None:
    """Post a comment, split into numbered parts above the forge's size limit."""
    from atlantis_py.report.split import split_comment

    forge = svc.forges[forge_name]
    for part in split_comment(body, forge.comment_limit):
        forge.post_comment(repo, number, part)
