"""Runs one queued job: decode its payload, route a webhook's event, and hand
it to the one operation for its kind. Operations call down (core, runner,
report, forges), never back up here.

With an Outbox, each run is an attempt whose forge writes are journaled: a
retry first sends what an earlier attempt kept back, and redoes no work that
attempt finished (see outbox.py)."""

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
from atlantis_py.domain.writes import describe
from atlantis_py.errors import MalformedWebhook
from atlantis_py.flows import recovery
from atlantis_py.flows.access import as_one_job
from atlantis_py.flows.apply import Applier
from atlantis_py.flows.autoplan import Autoplan
from atlantis_py.flows.cleanup import clean_up
from atlantis_py.flows.commands import Commands
from atlantis_py.flows.drift import DriftCheck
from atlantis_py.flows.failures import report_failure
from atlantis_py.flows.job_logs import JobLogs, logging_job
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.notices import post_notice
from atlantis_py.flows.outbox import Outbox
from atlantis_py.flows.plan import Planner
from atlantis_py.flows.review import record_review
from atlantis_py.flows.services import Services
from atlantis_py.queue.payloads import (
    ApplyJob,
    DriftJob,
    EventJob,
    NotifyJob,
    PlanJob,
    WebhookJob,
    decode,
)

log = logging.getLogger(__name__)


class FlowRunner:
    """The worker pool's JobHandler."""

    def __init__(self, svc: Services, lifecycle: Lifecycle, outbox: Outbox | None = None,
                 drift: DriftCheck | None = None, logs: JobLogs | None = None) -> None:
        """`logs`: where each job's live log goes (none kept without it)."""
        self.svc = svc
        self.drift = drift
        self.lifecycle = lifecycle
        self.outbox = outbox
        self.logs = logs
        planner = Planner(svc)
        self.autoplan = Autoplan(svc, lifecycle, planner)
        self.commands = Commands(svc, lifecycle, planner, Applier(svc))
        self.router = Router(svc.bot_users, svc.repo_allowed)

    @as_one_job
    def run(self, job: Job) -> None:
        with logging_job(self.logs, job, self.svc.secrets.mask):
            self._attempt(job)

    def _attempt(self, job: Job) -> None:
        if self.outbox is None:
            self._run(job)
            return
        with self.outbox.attempt(job) as attempt:
            attempt.flush()
            if attempt.work_done:
                log.info("job %d: its work was done before; the rest of its report is sent",
                         job.id)
                return
            self._run(job)
            attempt.finish()

    def _run(self, job: Job) -> None:
        payload = decode(job)
        again = job.attempts > 1
        if isinstance(payload, PlanJob):
            self.autoplan.on_request(payload, again=again)
        elif isinstance(payload, ApplyJob):
            self.commands.deploy(payload)
        elif isinstance(payload, NotifyJob):
            post_notice(self.svc, payload)
        elif isinstance(payload, EventJob):
            self._event(job, payload.event, again)
        elif isinstance(payload, DriftJob):
            if self.drift is None:
                log.warning("job %d dropped: this server does not check drift", job.id)
            else:
                self.drift.run(payload)
        else:
            self._webhook(job, payload, again)

    def _webhook(self, job: Job, payload: WebhookJob, again: bool) -> None:
        """A raw delivery queued by an older version: parsed here, as it was then."""
        try:
            event = self.svc.verifiers[payload.forge].parse(payload.event_type, payload.body)
        except MalformedWebhook as err:
            log.warning("job %d dropped: %s", job.id, err)
            return
        if event is not None:
            self._event(job, event, again)

    def _event(self, job: Job, event: Event, again: bool) -> None:
        action = self.router(event)
        if isinstance(action, Ignore):
            log.info("job %d ignored: %s", job.id, action.reason)
        elif isinstance(action, AutoplanAction):
            self.autoplan.on_event(action.event, again=again)
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
        return recovery.interrupted(self.svc, self.lifecycle.queue, job)

    def failed(self, job: Job, error: Exception, gave_up: bool) -> None:
        """The job failed for good: its pull request hears what failed and what to
        do, and which of the job's comments and statuses never reached it (each
        also logged); a retry that could send them will not come. A drift
        check's failure is recorded as its repository's result."""
        if job.kind == DriftJob.KIND and self.drift is not None:
            payload = decode(job)
            if isinstance(payload, DriftJob):
                self.drift.failed(payload, f"{type(error).__name__}: {error}")
        if self.outbox is None:
            report_failure(self.svc, job, error, gave_up)
            return
        undelivered = [write for _, write in self.outbox.journal.pending(job.id)]
        for write in undelivered:
            log.error("job %d: the %s was never delivered: the job gave up", job.id, write)
        with self.outbox.attempt(job, final=True):
            report_failure(self.svc, job, error, gave_up,
                           undelivered=[describe(w) for w in undelivered])
