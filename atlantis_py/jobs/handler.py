"""Runs one queued webhook job: parse → route → plan/apply/unlock/reply."""

from __future__ import annotations

import json
import logging

from atlantis_py.core.commands import ALLOWED_EXTRA_ARGS
from atlantis_py.core.dispatch import (
    Autoplan,
    Cleanup,
    Ignore,
    RecordReview,
    ReplyHelp,
    RunCommand,
    route,
)
from atlantis_py.core.ipr import Transition
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.domain.events import (
    CommentEvent,
    Event,
    PullAction,
    PullRequest,
    PullRequestEvent,
)
from atlantis_py.domain.records import IPRState, Job, PullRecord
from atlantis_py.jobs.applying import Applier
from atlantis_py.jobs.lifecycle import API_JOB, Lifecycle
from atlantis_py.jobs.planning import Planner, post_comment
from atlantis_py.jobs.services import Services

log = logging.getLogger(__name__)

WEBHOOK_JOB = "webhook"


def webhook_payload(forge: str, event_type: str, body: bytes) -> str:
    """"forge\nevent type\nraw body": framed, not re-encoded, so neither the request
    path nor the worker pays for a JSON round trip of a large payload."""
    return f"{forge}\n{event_type}\n{body.decode('utf-8', errors='replace')}"


def read_webhook_payload(payload: str) -> tuple[str, str, bytes]:
    forge, event_type, body = payload.split("\n", 2)
    return forge, event_type, body.encode("utf-8")


class WebhookJobs:
    """The JobHandler for webhook jobs and for work the API queued."""

    def __init__(self, svc: Services, lifecycle: Lifecycle) -> None:
        self.svc = svc
        self.lifecycle = lifecycle
        self.planner = Planner(svc)
        self.applier = Applier(svc)

    def _event(self, job: Job) -> Event | None:
        if job.kind == API_JOB:
            return None
        forge, event_type, body = read_webhook_payload(job.payload)
        return self.svc.verifiers[forge].parse(event_type, body)

    def run(self, job: Job) -> None:
        if job.kind == API_JOB:
            self._api(job)
            return
        event = self._event(job)
        if event is None:
            return
        repo = event.repo if isinstance(event, CommentEvent) else event.pull.repo
        action = route(event, bot_user=self.svc.bot_users.get(repo.forge, ""),
                       repo_allowed=self.svc.repo_allowed(repo.full_name))
        if isinstance(action, Ignore):
            log.info("job %d ignored: %s", job.id, action.reason)
        elif isinstance(action, Autoplan):
            self._autoplan(action.event)
        elif isinstance(action, Cleanup):
            self._cleanup(action.event)
        elif isinstance(action, ReplyHelp):
            ev = action.event
            post_comment(self.svc, ev.repo.forge, ev.repo.full_name, ev.pull_number,
                         self.svc.renderer.unknown_command(ev.body.strip().splitlines()[0],
                                                           action.reason, ALLOWED_EXTRA_ARGS))
        elif isinstance(action, RunCommand):
            self._command(action)
        elif isinstance(action, RecordReview):
            self._review(action)

    def _api(self, job: Job) -> None:
        """Work queued by the REST API: plan a new IPR, or deploy an approved one."""
        data = json.loads(job.payload)
        forge = self.svc.forges[data["forge"]]
        pull = forge.pull_request(data["repo"], int(data["number"]))
        if data["op"] == "autoplan":
            if self._planned(pull):
                return
            self.planner.plan(pull, data["actor"], None)
            self._refresh(pull, data["actor"], "planned")
        elif data["op"] == "apply":
            self.applier.apply(pull, data["actor"], Command(CommandName.APPLY))

    def _planned(self, pull: PullRequest) -> bool:
        """Whether this head was already planned while open (the API's create and
        the forge's own "opened" webhook both ask for the first plan)."""
        record = self.svc.pulls.get(pull.repo.forge, pull.repo.full_name, pull.number)
        if record is None or not record.open:
            return False
        return any(r.head_sha == pull.head_sha
                   for r in self.svc.pulls.latest_runs(record.id, "plan").values())

    def _refresh(self, pull: PullRequest, actor: str, reason: str) -> None:
        """After a plan: recompute the state, and ask for review if it still needs one."""
        record = self.svc.pulls.get(pull.repo.forge, pull.repo.full_name, pull.number)
        if record is None:
            return
        record = self.lifecycle.refresh(record.id, actor, reason)
        if self.svc.announcer is not None and any(
                r.head_sha == record.head_sha and r.status == "success"
                for r in self.svc.pulls.latest_runs(record.id, "plan").values()):
            self.svc.announcer.review_requested(record, actor, f"planned {record.head_sha[:7]}")

    def _autoplan(self, event: PullRequestEvent) -> None:
        svc = self.svc
        pull = event.pull
        before = svc.pulls.get(pull.repo.forge, pull.repo.full_name, pull.number)
        record = svc.pulls.upsert(pull)
        if before is not None and before.state is not IPRState.PENDING:
            if before.head_sha != pull.head_sha:
                svc.ipr.move(Transition(record, IPRState.PENDING, event.sender,
                                        "new commits pushed: approvals no longer count"),
                             open=True)
            elif event.action is PullAction.OPENED and not before.open:
                svc.ipr.move(Transition(record, IPRState.PENDING, event.sender, "reopened"),
                             open=True)
        elif before is None:
            svc.ipr.note(record, event.sender, "opened", detail=pull.title)
        elif event.action is PullAction.OPENED and self._planned(pull):
            return
        self.planner.plan(pull, event.sender, None)
        self._refresh(pull, event.sender, "planned")

    def _cleanup(self, event: PullRequestEvent) -> None:
        svc = self.svc
        pull = event.pull
        record = svc.pulls.upsert(pull)
        locks = svc.locks.held_by(record.id)
        svc.locks.release_all(record.id)
        svc.workspaces.remove(pull.repo, pull.number)
        if event.action is PullAction.CLOSED and record.state is not IPRState.CANCELLED:
            svc.ipr.move(Transition(record, IPRState.CANCELLED, event.sender,
                                    "closed without merging"), open=False)
        else:
            svc.pulls.set_state(record.id, record.state, open=False)
            svc.ipr.note(record, event.sender, "merged")
        if locks:
            body = svc.renderer.unlocked(len(locks))
            post_comment(svc, pull.repo.forge, pull.repo.full_name, pull.number, body)

    def _command(self, action: RunCommand) -> None:
        svc = self.svc
        ev, command = action.event, action.command
        forge = svc.forges[ev.repo.forge]
        repo, number = ev.repo.full_name, ev.pull_number
        if command.name is CommandName.HELP:
            post_comment(svc, ev.repo.forge, repo, number,
                         svc.renderer.help(ALLOWED_EXTRA_ARGS))
            return
        if not forge.can_run_commands(repo, ev.author):
            post_comment(svc, ev.repo.forge, repo, number,
                         svc.renderer.permission_denied(ev.author, f"atlantis {command.name.value}"))
            record = svc.pulls.get(ev.repo.forge, repo, number)
            if record is not None:
                svc.ipr.note(record, ev.author, "command:denied", detail=command.name.value)
            return
        pull = forge.pull_request(repo, number)
        if command.name is CommandName.UNLOCK:
            record = svc.pulls.upsert(pull)
            count = svc.locks.release_all(record.id)
            svc.ipr.note(record, ev.author, "unlock", detail=f"{count} locks released")
            post_comment(svc, ev.repo.forge, repo, number, svc.renderer.unlocked(count))
        elif command.name is CommandName.PLAN:
            self.planner.plan(pull, ev.author, command)
            self._refresh(pull, ev.author, "planned")
        elif command.name is CommandName.APPLY:
            self.applier.apply(pull, ev.author, command)

    def _review(self, action: RecordReview) -> None:
        ev = action.event
        record = self.svc.pulls.upsert(ev.pull)
        self.svc.ipr.note(record, ev.reviewer, f"review:{ev.state}")
        self.lifecycle.refresh(record.id, ev.reviewer, f"review {ev.state} by {ev.reviewer}")

    def interrupted(self, job: Job) -> bool:
        """An apply cut short is never re-run: the IPR becomes FAILED, the lock stays."""
        where = self._pull_of(job)
        if where is None:
            return False
        record = self.svc.pulls.get(*where)
        if record is None:
            return True
        applies = self.svc.pulls.interrupt_runs(record.id, "apply")
        self.svc.pulls.interrupt_runs(record.id, "plan")
        if not applies:
            return True
        self._fail_interrupted(record, [a.project for a in applies])
        return False

    def _pull_of(self, job: Job) -> tuple[str, str, int] | None:
        """(forge, repo, number) a job is about, from its payload."""
        if job.kind == API_JOB:
            data = json.loads(job.payload)
            return data["forge"], data["repo"], int(data["number"])
        event = self._event(job)
        if event is None:
            return None
        if isinstance(event, CommentEvent):
            return event.repo.forge, event.repo.full_name, event.pull_number
        return event.pull.repo.forge, event.pull.repo.full_name, event.pull.number

    def _fail_interrupted(self, record: PullRecord, projects: list[str]) -> None:
        svc = self.svc
        svc.ipr.move(Transition(record, IPRState.FAILED, "atlantis",
                                "apply interrupted: " + ", ".join(projects)))
        post_comment(svc, record.forge, record.repo, record.number, svc.renderer.error(
            "Apply interrupted",
            "The server stopped while applying " + ", ".join(f"`{p}`" for p in projects)
            + ". It will not be applied again automatically and the locks are kept. "
            "Check the state, then comment `atlantis plan` and apply the new plan."))
