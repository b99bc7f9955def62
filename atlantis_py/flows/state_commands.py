"""`atlantis import ADDRESS ID` and `atlantis state rm ADDRESS...`: they change
a project's state as an apply does, so they pass the same gate (base branch,
IPR state, the environment's approvals and requirements, the project's lock),
run the project's `import` or `state_rm` workflow stage in its worktree, and
are audited. The project's plan no longer matches the state afterwards, so a
successful run is followed by a new plan of the project, as its own comment."""

from __future__ import annotations

import logging
import shlex
from dataclasses import dataclass
from pathlib import Path

from atlantis_py.core.config.load import config_in
from atlantis_py.core.selection import environment_of, project_for, select_projects, wanted
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.errors import RepoConfigError
from atlantis_py.flows.gate import all_reviews, base_refusal, verdicts
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.plan import Planner
from atlantis_py.flows.services import CredentialsUnavailable, Services
from atlantis_py.runner.versions import VersionUnavailable
from atlantis_py.runner.workflow import run_state_command

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Target:
    project: Project
    environment: str


def command_text(command: Command) -> str:
    """The comment's command as it can be written again."""
    words = ["atlantis", command.name.value]
    if command.subcommand:
        words.append(command.subcommand)
    if command.project:
        words += ["-p", command.project]
    elif command.dir:
        words += ["-d", command.dir]
        if command.workspace and command.workspace != "default":
            words += ["-w", command.workspace]
    words += list(command.targets)
    if command.extra_args:
        words += ["--", *command.extra_args]
    return shlex.join(words)


class StateCommands:
    def __init__(self, svc: Services, lifecycle: Lifecycle, planner: Planner) -> None:
        self.svc = svc
        self.lifecycle = lifecycle
        self.planner = planner

    def run(self, pull: PullRequest, actor: str, command: Command) -> None:
        svc = self.svc
        kind = "import" if command.name is CommandName.IMPORT else "state_rm"
        text = command_text(command)
        title = "Import" if kind == "import" else "State rm"
        nothing = "nothing was imported" if kind == "import" else "nothing was removed"
        forge = svc.forges[pull.repo.forge]
        repo, number = pull.repo.full_name, pull.number
        record = svc.pulls.upsert(pull)

        def refuse(refusals: list[str], environment: str | None = None,
                   approvals: tuple[tuple[str, str], ...] = (),
                   ignored: tuple[tuple[str, str, str], ...] = ()) -> None:
            svc.ipr.note(record, actor, f"{kind}:refused", detail="; ".join(refusals))
            svc.say(pull.repo.forge, repo, number, svc.renderer.apply_refused(
                environment=environment, head_sha=pull.head_sha, refusals=refusals,
                approvals=approvals, ignored=ignored, title=title, nothing=nothing,
                again=text))

        wrong_base = base_refusal(svc, pull.base_ref)
        if wrong_base is not None:
            refuse([wrong_base])
            return
        if record.state in (IPRState.CANCELLED, IPRState.APPLYING):
            refuse([f"this change is `{record.state.value}`: "
                    + ("it was cancelled; push a new commit or reopen it to start over"
                       if record.state is IPRState.CANCELLED
                       else "its plans are being applied; wait for the result")])
            return
        env = forge.clone_env
        svc.workspaces.fetch(pull.repo, [pull.base_ref, pull.head_ref, pull.head_sha], env)
        with svc.workspaces.checkout(pull.repo, number, pull.head_sha, env) as tree:
            try:
                config, rules = config_in(tree), svc.rules(pull)
            except RepoConfigError as err:
                svc.say(pull.repo.forge, repo, number, svc.renderer.config_error(err))
                return
            target = self._target(record, config, rules, tree, command)
            if isinstance(target, str):
                svc.say(pull.repo.forge, repo, number, svc.renderer.not_run(title, target))
                return
            [found] = verdicts(svc, record, rules, [], all_reviews(svc, record),
                               requester=actor, applying=pull,
                               environments=[target.environment])
            if not found.verdict.ok:
                decision = found.verdict.decision
                refuse(list(found.verdict.refusals), found.environment.name,
                       tuple(decision.counted),
                       tuple((n.user, n.commit_sha, n.reason) for n in decision.not_counted))
                return
            result = self._run(record, pull, config, tree, target, kind, command, actor)
        svc.say(pull.repo.forge, repo, number, svc.renderer.state_command(
            result, text, replanning=result.status is RunStatus.SUCCESS))
        if result.status is RunStatus.SUCCESS:
            self._replan(pull, actor, config, target.project)

    def _target(self, record: PullRecord, config: RepoConfig, rules: RepoConfig, tree: Path,
                command: Command) -> _Target | str:
        """The one project the command names, or why there is none. Without -p
        or -d it is the pull request's only planned project, as in Atlantis."""
        plans = [r for r in self.svc.pulls.latest_runs(record.id, "plan").values()
                 if wanted(r, command)]
        bare = command.project is None and command.dir is None
        if len(plans) > 1 or (bare and not plans):
            planned = f"{len(plans)} planned projects" if plans else "no planned project"
            return (f"this pull request has {planned}{' here' if not bare else ''}, and "
                    f"`atlantis {command.name.value}` runs in exactly one: name it with "
                    "`-p NAME`, or `-d DIR` (and `-w WORKSPACE`)")
        if plans:
            run = plans[0]
            target = _Target(project_for(run, config), run.environment)
        else:
            selection = select_projects(config, tree, [], command)
            if selection.problem:
                return selection.problem
            if len(selection.projects) != 1:
                return (f"{len(selection.projects)} projects share that dir and workspace: "
                        "name one with `-p NAME`")
            project = selection.projects[0]
            target = _Target(project, environment_of(project, config, rules))
        if target.project.deleted:
            return (f"project `{target.project.name}` is deleted by this pull request: "
                    "its state is destroyed by its apply")
        return target

    def _run(self, record: PullRecord, pull: PullRequest, config: RepoConfig, tree: Path,
             target: _Target, kind: str, command: Command, actor: str) -> ProjectResult:
        svc = self.svc
        project = target.project
        lock = svc.locks.acquire(pull.repo.forge, pull.repo.full_name, project.dir,
                                 project.workspace, record.id, pull.number, project.name)
        if lock.pull_number != pull.number:
            return ProjectResult(project=project.name, dir=project.dir,
                                 workspace=project.workspace, command=kind,
                                 status=RunStatus.ERROR, head_sha=pull.head_sha,
                                 error=f"dir `{project.dir}` workspace `{project.workspace}` "
                                 f"is locked by pull request #{lock.pull_number}",
                                 locked_by=lock.pull_number)
        plan_file = svc.plans.path(pull.repo, pull.number, pull.head_sha, project.dir,
                                   project.workspace, project.name)
        try:
            result = run_state_command(
                kind, project, config.workflow_for(project), tree, plan_file,
                svc.terraform_for(project, tree / project.dir),
                command.targets, extra_args=command.extra_args,
                allow_custom_steps=svc.allow_custom_steps,
                env=svc.terraform_env(target.environment), head_sha=pull.head_sha)
        except Exception as exc:
            error = str(exc)
            if not isinstance(exc, CredentialsUnavailable | VersionUnavailable):
                log.exception("%s of %s crashed", kind, project.name)
                error = f"{type(exc).__name__}: {exc}"
            result = ProjectResult(project=project.name, dir=project.dir,
                                   workspace=project.workspace, command=kind,
                                   status=RunStatus.ERROR, head_sha=pull.head_sha, error=error)
        result = svc.masked(result)
        detail = " ".join(command.targets)
        if result.status is not RunStatus.SUCCESS:
            detail += f": {(result.error or 'failed').splitlines()[0]}"
        svc.ipr.note(record, actor, f"{kind}:{result.status.value}", project=project.name,
                     detail=detail)
        return result

    def _replan(self, pull: PullRequest, actor: str, config: RepoConfig,
                project: Project) -> None:
        """Plan the project again, named as precisely as the config allows."""
        named = any(p.name == project.name for p in config.projects) or project.component
        again = (Command(CommandName.PLAN, project=project.name) if named else
                 Command(CommandName.PLAN, dir=project.dir, workspace=project.workspace))
        self.planner.plan(pull, actor, again)
        self.lifecycle.after_plan(pull, actor)
