"""Comment commands: `atlantis help|version|plan|apply|unlock|import|state rm|
approve_policies`, the server's --allow-commands and the permission check in
front of them, and the help text for anything else that starts with `atlantis`."""

from __future__ import annotations

from pathlib import Path

from atlantis_py import __version__
from atlantis_py.core.config.load import config_in
from atlantis_py.core.dispatch import ReplyHelp, RunCommand
from atlantis_py.core.grammar import ALLOWED_EXTRA_ARGS
from atlantis_py.core.selection import project_for, select_projects, wanted
from atlantis_py.domain.commands import ALLOWABLE_COMMANDS, Command, CommandName
from atlantis_py.domain.events import CommentEvent, PullRequest
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import PullRecord
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.errors import RepoConfigError
from atlantis_py.flows.apply import Applier
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.plan import Planner
from atlantis_py.flows.policy import PolicyApprovals
from atlantis_py.flows.services import Services
from atlantis_py.flows.state_commands import StateCommands
from atlantis_py.queue.payloads import ApplyJob
from atlantis_py.runner.versions import VersionUnavailable


class Commands:
    def __init__(self, svc: Services, lifecycle: Lifecycle, planner: Planner,
                 applier: Applier) -> None:
        self.svc = svc
        self.lifecycle = lifecycle
        self.planner = planner
        self.applier = applier
        self.policies = PolicyApprovals(svc)
        self.state = StateCommands(svc, lifecycle, planner)

    def run(self, action: RunCommand) -> None:
        ev, command = action.event, action.command
        if command.name is CommandName.HELP:
            self._reply(ev, self.svc.renderer.help(ALLOWED_EXTRA_ARGS))
        elif not self.svc.commands.allows(command.name):
            self._disabled(ev, command)
        elif self._permitted(ev, command):
            {CommandName.UNLOCK: self._unlock, CommandName.PLAN: self._plan,
             CommandName.APPLY: self._apply, CommandName.VERSION: self._version,
             CommandName.IMPORT: self._state, CommandName.STATE: self._state,
             CommandName.APPROVE_POLICIES: self._approve_policies,
             }[command.name](ev, command)

    def unknown(self, action: ReplyHelp) -> None:
        ev = action.event
        self._reply(ev, self.svc.renderer.unknown_command(
            ev.body.strip().splitlines()[0], action.reason, ALLOWED_EXTRA_ARGS))

    def deploy(self, job: ApplyJob) -> None:
        """`ipr deploy` through the API: the same apply as the comment's."""
        pull = self.svc.forges[job.forge].pull_request(job.repo, job.number)
        if not self._moved(pull):
            self.applier.apply(pull, job.actor, Command(CommandName.APPLY))

    def _permitted(self, ev: CommentEvent, command: Command) -> bool:
        svc = self.svc
        if svc.forges[ev.repo.forge].can_run_commands(ev.repo.full_name, ev.author):
            return True
        self._reply(ev, svc.renderer.permission_denied(ev.author, f"atlantis {command.name.value}"))
        record = svc.pulls.get(ev.repo.forge, ev.repo.full_name, ev.pull_number)
        if record is not None:
            svc.ipr.note(record, ev.author, "command:denied", detail=command.name.value)
        return False

    def _disabled(self, ev: CommentEvent, command: Command) -> None:
        """--allow-commands leaves it out: said, and audited when the IPR exists."""
        svc = self.svc
        allowed = [name for name in ALLOWABLE_COMMANDS if name in svc.commands.allowed
                   and name in {n.value for n in CommandName}]
        self._reply(ev, svc.renderer.command_disabled(command.name.value, allowed))
        record = svc.pulls.get(ev.repo.forge, ev.repo.full_name, ev.pull_number)
        if record is not None:
            svc.ipr.note(record, ev.author, "command:disabled", detail=command.name.value)

    def _state(self, ev: CommentEvent, command: Command) -> None:
        pull = self.svc.forges[ev.repo.forge].pull_request(ev.repo.full_name, ev.pull_number)
        self.state.run(pull, ev.author, command)

    def _version(self, ev: CommentEvent, command: Command) -> None:
        """atlantis-py's version, and `terraform version` in each project of the
        pull request (or the one -p/-d names): it lists the providers too."""
        svc = self.svc
        forge = svc.forges[ev.repo.forge]
        pull = forge.pull_request(ev.repo.full_name, ev.pull_number)
        record = svc.pulls.upsert(pull)
        env = forge.clone_env
        svc.workspaces.fetch(pull.repo, [pull.base_ref, pull.head_ref, pull.head_sha], env)
        with svc.workspaces.checkout(pull.repo, pull.number, pull.head_sha, env) as tree:
            try:
                config = config_in(tree)
            except RepoConfigError:
                config = RepoConfig()
            results = [self._terraform_version(tree, p, pull.head_sha)
                       for p in self._version_projects(record, config, tree, command)]
        self._reply(ev, svc.renderer.version(__version__, results))

    def _version_projects(self, record: PullRecord, config: RepoConfig, tree: Path,
                          command: Command) -> list[Project]:
        plans = [r for r in self.svc.pulls.latest_runs(record.id, "plan").values()
                 if wanted(r, command) and not r.deleted]
        projects = [project_for(r, config) for r in sorted(plans, key=lambda r: r.project)]
        if not projects and (command.project or command.dir):
            projects = select_projects(config, tree, [], command).projects
        return projects or [Project(name="", dir=".")]

    def _terraform_version(self, tree: Path, project: Project, head_sha: str) -> ProjectResult:
        folder = (tree / project.dir).resolve()
        if not folder.is_relative_to(tree.resolve()) or not folder.is_dir():
            folder = tree
        try:
            run = self.svc.terraform_for(project, folder).print_version(folder)
        except VersionUnavailable as err:
            return ProjectResult(project=project.name, dir=project.dir,
                                 workspace=project.workspace, command="version",
                                 status=RunStatus.ERROR, error=str(err), head_sha=head_sha)
        return self.svc.masked(ProjectResult(
            project=project.name, dir=project.dir, workspace=project.workspace,
            command="version", status=RunStatus.SUCCESS if run.ok else RunStatus.FAILURE,
            output=run.output, head_sha=head_sha))

    def _unlock(self, ev: CommentEvent, _command: Command) -> None:
        svc = self.svc
        pull = svc.forges[ev.repo.forge].pull_request(ev.repo.full_name, ev.pull_number)
        record = svc.pulls.upsert(pull)
        count = svc.locks.release_all(record.id)
        svc.ipr.note(record, ev.author, "unlock", detail=f"{count} locks released")
        self._reply(ev, svc.renderer.unlocked(count))

    def _plan(self, ev: CommentEvent, command: Command) -> None:
        pull = self.svc.forges[ev.repo.forge].pull_request(ev.repo.full_name, ev.pull_number)
        self.planner.plan(pull, ev.author, command)
        self.lifecycle.after_plan(pull, ev.author)

    def _apply(self, ev: CommentEvent, command: Command) -> None:
        pull = self.svc.forges[ev.repo.forge].pull_request(ev.repo.full_name, ev.pull_number)
        if not self._moved(pull):
            self.applier.apply(pull, ev.author, command)

    def _moved(self, pull: PullRequest) -> bool:
        """The branch moved and no hook said so: re-planned, nothing applied."""
        svc = self.svc
        record = svc.pulls.get(pull.repo.forge, pull.repo.full_name, pull.number)
        if record is None or self.lifecycle.moved(record) is None:
            return False
        svc.ipr.note(record, "atlantis", "apply:refused", detail="plan is for an older commit")
        svc.say(pull.repo.forge, pull.repo.full_name, pull.number,
                svc.renderer.apply_replanning(branch=pull.head_ref, planned_sha=record.head_sha,
                                              head_sha=pull.head_sha))
        return True

    def _approve_policies(self, ev: CommentEvent, command: Command) -> None:
        pull = self.svc.forges[ev.repo.forge].pull_request(ev.repo.full_name, ev.pull_number)
        self.policies.approve(pull, ev.author, command)

    def _reply(self, ev: CommentEvent, body: str) -> None:
        self.svc.say(ev.repo.forge, ev.repo.full_name, ev.pull_number, body)
