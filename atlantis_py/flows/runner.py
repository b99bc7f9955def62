"""Runs one queued job: decode its payload, route a webhook's event, and hand
it to the one operation for its kind. Operations call down (core, runner,
report, forges), never back up here."""

from __future__ import annotations

import logging

from atlantis_py.core.dispatch import (
    Autoplan as AutoplanAction,
)
from atlantis_py.core.dispatch import (
    Cleanup,
    Ignore,
    RecordReview,
    ReplyHelp,
    RunCommand,
    route,
)
from atlantis_py.domain.events import CommentEvent
from atlantis_py.domain.records import Job
from atlantis_py.flows import recovery
from atlantis_py.flows.access import as_one_job
from atlantis_py.flows.apply import Applier
from atlantis_py.flows.autoplan import Autoplan
from atlantis_py.flows.cleanup import clean_up
from atlantis_py.flows.commands import Commands
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.plan import Planner
from atlantis_py.flows.review import record_review
from atlantis_py.flows.services import Services
from atlantis_py.queue.payloads import ApplyJob, PlanJob, WebhookJob, decode

log = logging.getLogger(__name__)


class FlowRunner:
    """The worker pool's JobHandler."""

    def __init__(self, svc: Services, lifecycle: Lifecycle) -> None:
        self.svc = svc
        self.lifecycle = lifecycle
        planner = Planner(svc)
        self.autoplan = Autoplan(svc, lifecycle, planner)
        self.commands = Commands(svc, lifecycle, planner, Applier(svc))

    @as_one_job
    def run(self, job: Job) -> None:
        payload = decode(job)
        if isinstance(payload, PlanJob):
            self.autoplan.on_request(payload)
        elif isinstance(payload, ApplyJob):
            self.commands.deploy(payload)
        else:
            self._webhook(job, payload)

    def _webhook(self, job: Job, payload: WebhookJob) -> None:
        event = self.svc.verifiers[payload.forge].parse(payload.event_type, payload.body)
        if event is None:
            return
        repo = event.repo if isinstance(event, CommentEvent) else event.pull.repo
        action = route(event, bot_user=self.svc.bot_users.get(repo.forge, ""),
                       repo_allowed=self.svc.repo_allowed(repo.full_name))
        if isinstance(action, Ignore):
            log.info("job %d ignored: %s", job.id, action.reason)
        elif isinstance(action, AutoplanAction):
            self.autoplan.on_event(action.event)
        elif isinstance(action, Cleanup):
            clean_up(self.svc, action.event)
        elif isinstance(action, ReplyHelp):
            self.commands.unknown(action)
        elif isinstance(action, RunCommand):
            self.commands.run(action)
        elif isinstance(action, RecordReview):
            record_review(self.svc, self.lifecycle, action)

    def interrupted(self, job: Job) -> bool:
        """An apply cut short is never re-run: the IPR becomes FAILED, the lock stays."""
        return recovery.interrupted(self.svc, job)
