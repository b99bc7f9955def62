"""After a worker died mid-job: an apply cut short is never re-run (the IPR
moves from APPLYING to FAILED and keeps its locks, and the pull request is
told, and its apply status failed, by a queued notice); anything else may run
again."""

from __future__ import annotations

from atlantis_py.core.dispatch import event_pull_number, event_repo
from atlantis_py.core.ipr import Transition
from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.records import IPRState, Job, PullRecord
from atlantis_py.errors import MalformedWebhook
from atlantis_py.flows.apply import APPLY_CONTEXT
from atlantis_py.flows.notices import queue_notice
from atlantis_py.flows.services import Services
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import DriftJob, EventJob, WebhookJob, decode


def pull_of(svc: Services, job: Job) -> tuple[str, str, int] | None:
    """(forge, repo, number) a job is about, from its payload."""
    payload = decode(job)
    if isinstance(payload, DriftJob):
        return None
    if isinstance(payload, EventJob):
        event = payload.event
    elif isinstance(payload, WebhookJob):
        try:
            parsed = svc.verifiers[payload.forge].parse(payload.event_type, payload.body)
        except MalformedWebhook:
            return None
        if parsed is None:
            return None
        event = parsed
    else:
        return payload.forge, payload.repo, payload.number
    repo = event_repo(event)
    return repo.forge, repo.full_name, event_pull_number(event)


def interrupted(svc: Services, queue: JobQueue, job: Job) -> bool:
    """True: run the job again."""
    where = pull_of(svc, job)
    if where is None:
        return job.kind == DriftJob.KIND  # a drift check only plans: run it again
    record = svc.pulls.get(*where)
    if record is None:
        return True
    applies = svc.pulls.interrupt_runs(record.id, "apply")
    svc.pulls.interrupt_runs(record.id, "plan")
    if not applies and record.state is not IPRState.APPLYING:
        return True
    _fail(svc, queue, record, [a.project for a in applies])
    return False


def _fail(svc: Services, queue: JobQueue, record: PullRecord, projects: list[str]) -> None:
    """FAILED from APPLYING; an apply of an older version, which left the state
    unchanged while it ran, keeps its state and still gets the comment."""
    where = ", ".join(projects) or "before its outcome was recorded"
    svc.ipr.try_move(Transition(record, IPRState.FAILED, "atlantis",
                                f"apply interrupted: {where}"))
    queue_notice(svc, queue, record.forge, record.repo, record.number,
                 svc.renderer.apply_interrupted(projects), sha=record.head_sha,
                 context=APPLY_CONTEXT, state=StatusState.FAILURE,
                 description="interrupted; not applied again, see the comment")
