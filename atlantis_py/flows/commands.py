"""Comment commands: `atlantis help|version|plan|apply|unlock`, the permission check
in front of them, and the help text for anything else that starts with
`atlantis`."""

from __future__ import annotations

from atlantis_py import __version__
from atlantis_py.core.dispatch import ReplyHelp, RunCommand
from atlantis_py.core.grammar import ALLOWED_EXTRA_ARGS
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.domain.events import CommentEvent, PullRequest
from atlantis_py.flows.apply import Applier
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.plan import Planner
from atlantis_py.flows.services import Services
from atlantis_py.queue.payloads import ApplyJob


class Commands:
    def __init__(self, svc: Services, lifecycle: Lifecycle, planner: Planner,
                 applier: Applier) -> None:
        self.svc = svc
        self.lifecycle = lifecycle
        self.planner = planner
        self.applier = applier

    def run(self, action: RunCommand) -> None:
        ev, command = action.event, action.command
        if command.name is CommandName.HELP:
            self._reply(ev, self.svc.renderer.help(ALLOWED_EXTRA_ARGS))
        elif command.name is CommandName.VERSION:
            self._reply(ev, self.svc.renderer.version(__version__))
        elif self._permitted(ev, command):
            {CommandName.UNLOCK: self._unlock, CommandName.PLAN: self._plan,
             CommandName.APPLY: self._apply}[command.name](ev, command)

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
                svc.renderer.plan_outdated(record.head_sha, pull.head_sha))
        return True

    def _reply(self, ev: CommentEvent, body: str) -> None:
        self.svc.say(ev.repo.forge, ev.repo.full_name, ev.pull_number, body)
