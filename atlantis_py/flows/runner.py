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
    Router,
    RunCommand,
)
from atlantis_py.domain.events import Event
from atlantis_py.domain.records import Job
from atlantis_py.errors import MalformedWebhook
from atlantis_py.flows import recovery
from atlantis_py.flows.apply import Applier
from atlantis_py.flows.autoplan import Autoplan
from atlantis_py.flows.cleanup import clean_up
from atlantis_py.flows.commands import Commands
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.plan import Planner
from atlantis_py.flows.review import record_review
from atlantis_py.flows.services import Services
from atlantis_py.queue.payloads import ApplyJob, EventJob, PlanJob, WebhookJob, decode

log = logging.getLogger(__name__)


class FlowRunner:
    """The worker pool's JobHandler."""

    def __init__(self, svc: Services, lifecycle: Lifecycle) -> None:
        self.svc = svc
        self.lifecycle = lifecycle
        planner = Planner(svc)
        self.autoplan = Autoplan(svc, lifecycle, planner)
        self.commands = Commands(svc, lifecycle, planner, Applier(svc))
        self.router = Router(svc.bot_users, svc.repo_allowed)

    def run(self, job: Job) -> None:
        payload = decode(job)
        if isinstance(payload, PlanJob):
            self.autoplan.on_request(payload)
        elif isinstance(payload, ApplyJob):
            self.commands.deploy(payload)
        elif isinstance(payload, EventJob):
            self._event(job, payload.event)
        else:
            self._webhook(job, payload)

    def _webhook(self, job: Job, payload: WebhookJob) -> None:
        """A raw delivery queued by an older version: parsed here, as it was then."""
        try:
            event = self.svc.verifiers[payload.forge].parse(payload.event_type, payload.body)
        except MalformedWebhook as err:
            log.warning("job %d dropped: %s", job.id, err)
            return
        if event is not None:
            self._event(job, event)

    def _event(self, job: Job, event: Event) -> None:
        action = self.router(event)
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
