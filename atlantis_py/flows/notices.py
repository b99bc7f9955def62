"""What the server says on a pull request outside any job (an API review or
cancel, an expiry, an apply cut short by a crash) goes out as a "notify" job:
through the outbox like every job's writes, so a forge outage or rate limit
delays the notice instead of losing it, and a retry never posts it twice."""

from __future__ import annotations

import logging

from atlantis_py.domain.forge import StatusState
from atlantis_py.flows.services import Services
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import NotifyJob, pull_key

log = logging.getLogger(__name__)


def queue_notice(svc: Services, queue: JobQueue, forge: str, repo: str, number: int,
                 body: str, *, sha: str = "", context: str = "",
                 state: StatusState | None = None, description: str = "") -> int:
    """Queue `body` as a comment (and the status, when `context` is given) behind
    the pull request's other jobs; the stored body has known secrets masked."""
    job = NotifyJob(forge, repo, number, svc.secrets.mask(body), sha, context,
                    state.value if state else "", description)
    job_id = queue.enqueue(job, pull_key(forge, repo, number))
    log.info("job %d queued: a notice on %s#%d", job_id, repo, number)
    return job_id


def post_notice(svc: Services, job: NotifyJob) -> None:
    if job.body:
        svc.say(job.forge, job.repo, job.number, job.body)
    if job.context and job.sha and job.state:
        svc.forges[job.forge].set_status(job.repo, job.sha, job.context,
                                         StatusState(job.state), job.description)
