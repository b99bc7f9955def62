"""The worker pool survives a database outage instead of losing its threads."""

from __future__ import annotations

import threading
from datetime import timedelta

import atlantis_py.queue.worker as worker_module
from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.worker import WorkerPool


class FlakyTable:
    """A jobs table whose first claims fail as if the database were down."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.queued = [Job(1, "webhook", "k", "payload", 0, JobStatus.QUEUED)]
        self.finished: list[tuple[int, JobStatus]] = []

    def claim(self, worker: str, lease: timedelta) -> Job | None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        return self.queued.pop() if self.queued else None

    def finish(self, job_id: int, status: JobStatus, error: str = "") -> None:
        self.finished.append((job_id, status))

    def expired(self) -> list[Job]:
        return []

    def running(self) -> list[tuple[Job, str]]:
        return []

    def renew(self, job_ids: list[int], lease: timedelta) -> None: ...
    def requeue(self, job_id: int) -> None: ...

    def pending_count(self) -> int:
        return len(self.queued)


class Recorder:
    def __init__(self) -> None:
        self.ran = threading.Event()

    def run(self, job: Job) -> None:
        self.ran.set()

    def interrupted(self, job: Job) -> bool:
        return False


def test_a_failing_claim_is_retried_not_fatal(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(worker_module, "CLAIM_RETRY", 0.01)
    table = FlakyTable(failures=3)
    handler = Recorder()
    pool = WorkerPool(JobQueue(table), handler, threads=1, idle_check=0.05)  # type: ignore[arg-type]
    pool.start()
    try:
        assert handler.ran.wait(10), "the worker thread died on the failed claims"
    finally:
        pool.stop()
    assert table.finished == [(1, JobStatus.DONE)]
