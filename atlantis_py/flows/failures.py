"""A job that failed for good still answers on its pull request: what failed,
the job and delivery to look for in the log, and what the user can do; and the
commit status it was working towards turns failed (Atlantis's logPanics, in
spirit). A job that asked for nothing (an ignored event) stays quiet."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

from atlantis_py.core.dispatch import (
    Autoplan,
    Cleanup,
    RecordReview,
    ReplyHelp,
    Router,
    RunCommand,
    event_repo,
)
from atlantis_py.domain.commands import CommandName
from atlantis_py.domain.events import Event
from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.records import Job
from atlantis_py.errors import MalformedWebhook
from atlantis_py.flows.apply import APPLY_CONTEXT
from atlantis_py.flows.plan import PLAN_CONTEXT
from atlantis_py.flows.services import Services
from atlantis_py.queue.payloads import (
    ApplyJob,
    DriftJob,
    EventJob,
    NotifyJob,
    PayloadError,
    PlanJob,
    decode,
)

log = logging.getLogger(__name__)

ERROR_LIMIT = 2000  # characters of the error shown in the comment


@dataclass(frozen=True)
class FailedWork:
    """Where to answer and what to say about the work a job was doing."""

    forge: str
    repo: str
    number: int
    what: str  # markdown: "autoplan", "`atlantis apply`"
    hint: str  # markdown sentence: what the user can do
    context: str = ""  # the commit status to set failed, if any
    sha: str = ""


def failed_work(svc: Services, job: Job) -> FailedWork | None:
    """The pull request a failed job was working on, or None when it asked for
    nothing (an ignored event, an unreadable payload)."""
    try:
        payload = decode(job)
    except PayloadError:
        return None
    if isinstance(payload, PlanJob | ApplyJob):
        record = svc.pulls.get(payload.forge, payload.repo, payload.number)
        sha = record.head_sha if record else ""
        if isinstance(payload, PlanJob):
            return FailedWork(payload.forge, payload.repo, payload.number,
                              "planning the pull request opened through the API",
                              "Comment `atlantis plan` to plan it.", PLAN_CONTEXT, sha)
        return FailedWork(payload.forge, payload.repo, payload.number,
                          "the deploy requested through the API",
                          "Deploy it again, or comment `atlantis apply`.", APPLY_CONTEXT, sha)
    if isinstance(payload, NotifyJob):
        return FailedWork(payload.forge, payload.repo, payload.number,
                          "posting the server's notice",
                          "Nothing to redo: what could not be posted is listed below.",
                          payload.context, payload.sha)
    if isinstance(payload, DriftJob):
        return None  # no pull request: flows/drift.py records the error as a result
    if isinstance(payload, EventJob):
        event: Event | None = payload.event
    else:
        try:
            event = svc.verifiers[payload.forge].parse(payload.event_type, payload.body)
        except MalformedWebhook:
            return None
    if event is None:
        return None
    repo = event_repo(event)
    action = Router(svc.bot_users, svc.repo_allowed)(event)
    if isinstance(action, Autoplan):
        pull = action.event.pull
        return FailedWork(repo.forge, repo.full_name, pull.number,
                          f"autoplan of `{pull.head_sha[:7]}`",
                          "Comment `atlantis plan` to plan again.", PLAN_CONTEXT, pull.head_sha)
    if isinstance(action, Cleanup):
        return FailedWork(repo.forge, repo.full_name, action.event.pull.number,
                          "cleaning up after the pull request closed",
                          "Comment `atlantis unlock` to release its locks.")
    if isinstance(action, RecordReview):
        return FailedWork(repo.forge, repo.full_name, action.event.pull.number,
                          f"recording the review by {action.event.reviewer}",
                          "Review again, or comment `atlantis plan` to recount approvals.")
    if isinstance(action, RunCommand | ReplyHelp):
        ev = action.event
        record = svc.pulls.get(repo.forge, repo.full_name, ev.pull_number)
        sha = record.head_sha if record else ""
        if isinstance(action, ReplyHelp):
            return FailedWork(repo.forge, repo.full_name, ev.pull_number,
                              "answering your comment", "Comment `atlantis help` to try again.")
        name = action.command.name
        context = {CommandName.PLAN: PLAN_CONTEXT, CommandName.APPLY: APPLY_CONTEXT}.get(name, "")
        return FailedWork(repo.forge, repo.full_name, ev.pull_number,
                          f"`atlantis {name.value}`",
                          f"Comment `atlantis {name.value}` to try again.", context, sha)
    return None


def report_failure(svc: Services, job: Job, error: Exception, gave_up: bool,
                   undelivered: Sequence[str] = ()) -> None:
    """Comment on the pull request and fail its commit status; each is tried even
    when the other fails, and a failure to report is logged, never raised.
    `undelivered` names the job's writes that never reached the forge."""
    work = failed_work(svc, job)
    if work is None:
        log.info("job %d failed; it asked for nothing on a pull request, so no one is told",
                 job.id)
        return
    waited = 0.0
    if job.retry_since is not None:
        waited = (svc.clock().astimezone(UTC).replace(tzinfo=None)
                  - job.retry_since).total_seconds()
    message = f"{type(error).__name__}: {error}"
    if len(message) > ERROR_LIMIT:
        message = message[:ERROR_LIMIT] + " …"
    body = svc.renderer.job_failed(what=work.what, error=message, hint=work.hint,
                                   job_id=job.id, delivery_id=job.delivery_id,
                                   gave_up=gave_up, attempts=job.attempts, waited=waited,
                                   undelivered=undelivered)
    try:
        svc.say(work.forge, work.repo, work.number, body)
    except Exception:
        log.exception("job %d: the failure comment on %s#%d was not posted", job.id, work.repo,
                      work.number)
    if work.context and work.sha:
        try:
            svc.forges[work.forge].set_status(work.repo, work.sha, work.context,
                                              StatusState.FAILURE,
                                              f"failed, see the comment (job {job.id})")
        except Exception:
            log.exception("job %d: the %s status was not set", job.id, work.context)
