"""Worker threads: claim a job, run its handler, record the outcome.

The only place that catches broadly: a handler's crash is logged with its
traceback, the job is marked failed and the handler is told so it can answer
on the pull request, so one bad job never stops the pool and none fails
silently. A TransientError (the forge down or rate limiting) instead puts the
job back to run later, per the RetryPolicy, until that gives up.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.errors import TransientError
from atlantis_py.logs import job_context
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.retry import RetryPolicy

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
CLAIM_RETRY = 2.0


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobHandler(Protocol):
    def run(self, job: Job) -> None: ...

    def interrupted(self, job: Job) -> bool:
        """Clean up after a job whose worker died. True: run it again."""

    def failed(self, job: Job, error: Exception, gave_up: bool) -> None:
        """The job failed for good (`gave_up`: its retries ran out): tell the
        pull request what failed and what to do. May raise; the pool logs it."""


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class WorkerPool:
    def __init__(self, queue: JobQueue, handler: JobHandler, threads: int,
                 housekeeping: Callable[[], object] | None = None,
                 idle_check: float = 30.0, lease: timedelta = LEASE,
                 retry: RetryPolicy | None = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        """`housekeeping` runs beside lease renewal, every third of `lease`
        (expiring IPRs). Idle workers are woken by new work; `idle_check` is only
        the fallback for a wake-up that never came (e.g. a replica without LISTEN).
        A dead worker's jobs are taken over when their lease runs out (at once
        when it died on this host). `clock` is naive UTC, as the jobs table keeps
        times."""
        self.idle_check = idle_check
        self.lease = lease
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.housekeeping = housekeeping
        self.queue = queue
        self.handler = handler
        self.threads = threads
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._running: dict[int, Job] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self.recover()
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"atlantis-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        keeper = threading.Thread(target=self._keep_leases, name="atlantis-lease", daemon=True)
        keeper.start()
        self._threads.append(keeper)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self.queue.wake()
        for t in self._threads:
            t.join(timeout)

    def _orphans(self) -> list[Job]:
        """Jobs whose lease ran out, plus jobs a dead process on this host left running
        (found at once after a restart instead of when their lease runs out)."""
        found = {job.id: job for job in self.queue.table.expired()}
        host = socket.gethostname()
        for job, worker in self.queue.table.running():
            parts = worker.split(":")
            if len(parts) == 3 and parts[0] == host and worker != self.worker_id \
                    and parts[1].isdigit() and not _alive(int(parts[1])):
                found[job.id] = job
        return list(found.values())

    def recover(self) -> None:
        """Jobs of dead workers: the handler decides whether they run again.
        Workers are woken only when something changed (a job requeued, or one
        finished that held back later jobs of its pull request)."""
        orphans = self._orphans()
        for job in orphans:
            try:
                again = self.handler.interrupted(job)
            except Exception:
                log.exception("job %d: recovery failed", job.id)
                again = False
            if again:
                log.warning("job %d (%s) was interrupted; running it again", job.id, job.kind)
                self.queue.table.requeue(job.id)
            else:
                log.warning("job %d (%s) was interrupted; not run again", job.id, job.kind)
                self.queue.table.finish(job.id, JobStatus.INTERRUPTED,
                                        "worker stopped while running")
        if orphans:
            self.queue.wake()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.queue.claim(self.worker_id, self.lease, wait=self.idle_check)
            except Exception:
                # the database is away (restart, network): keep the thread, try again
                log.exception("claiming a job failed; retrying in %.0f s", CLAIM_RETRY)
                self._stop.wait(CLAIM_RETRY)
                continue
            if job is None:
                continue
            with self._lock:
                self._running[job.id] = job
            with job_context(f"job={job.id} delivery={job.delivery_id or '-'}"):
                try:
                    self._run(job)
                except Exception:
                    # the database went away while recording the outcome: the
                    # lease runs out and recovery takes the job from there
                    log.exception("job %d: recording its outcome failed", job.id)
                finally:
                    with self._lock:
                        self._running.pop(job.id, None)

    def _run(self, job: Job) -> None:
        log.info("job %d (%s) started, attempt %d", job.id, job.kind, job.attempts)
        try:
            self.handler.run(job)
        except TransientError as exc:
            now = self.clock()
            since = job.retry_since or now
            when = self.retry.next_try(job.attempts, exc.retry_after, since, now)
            if when is not None:
                log.warning("job %d (%s) failed for now (attempt %d), retrying in %.1f s: %s",
                            job.id, job.kind, job.attempts, (when - now).total_seconds(), exc)
                self.queue.retry(job, when, since, f"{type(exc).__name__}: {exc}")
                return
            log.error("job %d (%s) failed: giving up after %d attempts over %s: %s",
                      job.id, job.kind, job.attempts, now - since, exc)
            self._fail(job, exc, gave_up=True)
        except Exception as exc:
            log.exception("job %d (%s) failed", job.id, job.kind)
            self._fail(job, exc, gave_up=False)
        else:
            self.queue.done(job, JobStatus.DONE)
            log.info("job %d finished: %s", job.id, JobStatus.DONE.value)

    def _fail(self, job: Job, exc: Exception, *, gave_up: bool) -> None:
        """Let the handler answer on the pull request, then record the failure
        (so the job counts as running, and later jobs of its pull request wait,
        until the answer is out). A failure to answer is logged, not raised."""
        try:
            self.handler.failed(job, exc, gave_up)
        except Exception:
            log.exception("job %d: telling the pull request about the failure failed", job.id)
        self.queue.done(job, JobStatus.FAILED, f"{type(exc).__name__}: {exc}")
        log.info("job %d finished: %s", job.id, JobStatus.FAILED.value)

    def _keep_leases(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._stop.wait(interval):
            with self._lock:
                ids = list(self._running)
            try:
                self.queue.table.renew(ids, self.lease)
                self.recover()
                if self.housekeeping is not None:
                    self.housekeeping()
            except Exception:
                log.exception("lease renewal or housekeeping failed")
