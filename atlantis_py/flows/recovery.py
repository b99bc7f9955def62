"""After a worker died mid-job: an apply cut short is never re-run (the IPR
moves from APPLYING to FAILED and keeps its locks); anything else may run again."""

from __future__ import annotations

from atlantis_py.core.ipr import Transition
from atlantis_py.domain.events import CommentEvent
from atlantis_py.domain.records import IPRState, Job, PullRecord
from atlantis_py.flows.services import Services
from atlantis_py.queue.payloads import WebhookJob, decode


def pull_of(svc: Services, job: Job) -> tuple[str, str, int] | None:
    """(forge, repo, number) a job is about, from its payload."""
    payload = decode(job)
    if not isinstance(payload, WebhookJob):
        return payload.forge, payload.repo, payload.number
    event = svc.verifiers[payload.forge].parse(payload.event_type, payload.body)
    if event is None:
        return None
    if isinstance(event, CommentEvent):
        return event.repo.forge, event.repo.full_name, event.pull_number
    return event.pull.repo.forge, event.pull.repo.full_name, event.pull.number


def interrupted(svc: Services, job: Job) -> bool:
    """True: run the job again."""
    where = pull_of(svc, job)
    if where is None:
        return False
    record = svc.pulls.get(*where)
    if record is None:
        return True
    applies = svc.pulls.interrupt_runs(record.id, "apply")
    svc.pulls.interrupt_runs(record.id, "plan")
    if not applies and record.state is not IPRState.APPLYING:
        return True
    _fail(svc, record, [a.project for a in applies])
    return False


def _fail(svc: Services, record: PullRecord, projects: list[str]) -> None:
    """FAILED from APPLYING; an apply of an older version, which left the state
    unchanged while it ran, keeps its state and still gets the comment."""
    where = ", ".join(projects) or "before its outcome was recorded"
    svc.ipr.try_move(Transition(record, IPRState.FAILED, "atlantis",
                                f"apply interrupted: {where}"))
    svc.say(record.forge, record.repo, record.number, svc.renderer.apply_interrupted(projects))
