"""The job queue: durable in the database, with an in-process wake-up.

Workers sleep on a condition that `accept`/`enqueue` notify, so new work starts
at once without polling; the database row is what makes it survive a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.queue.payloads import EventJob, Payload

RETRY_SLACK = 0.05  # past a retry's not-before, so the claim finds it due


class JobTable(Protocol):
    def accept_delivery(self, forge: str, delivery_id: str, event_type: str,
                        job_kind: str | None, serial_key: str, payload: str) -> bool: ...
    def enqueue(self, kind: str, serial_key: str, payload: str) -> int: ...
    def claim(self, worker: str, lease: timedelta) -> Job | None: ...
    def renew(self, job_ids: list[int], lease: timedelta) -> None: ...
    def finish(self, job_id: int, status: JobStatus, error: str = "") -> None: ...
    def expired(self) -> list[Job]: ...
    def running(self) -> list[tuple[Job, str]]: ...
    def requeue(self, job_id: int) -> None: ...
    def retry_later(self, job_id: int, not_before: datetime, since: datetime,
                    error: str = "") -> None: ...
    def next_due_in(self) -> float | None: ...
    def pending_count(self) -> int: ...


class JobQueue:
    """`notify` also tells other processes (the worker children) about new work."""

    def __init__(self, table: JobTable, notify: Callable[[], None] | None = None) -> None:
        self.table = table
        self.notify = notify
        self._cv = threading.Condition()
        self._generation = 0
        self._active = 0

    def accept_delivery(self, forge: str, delivery_id: str, event_type: str, job: EventJob,
                        serial_key: str) -> bool:
        """Store a verified delivery and its job at once; False for a redelivery."""
        fresh = self.table.accept_delivery(forge, delivery_id, event_type, job.KIND,
                                           serial_key, job.encode())
        if fresh:
            self._announce()
        return fresh

    def enqueue(self, job: Payload, serial_key: str) -> int:
        job_id = self.table.enqueue(job.KIND, serial_key, job.encode())
        self._announce()
        return job_id

    def announce(self) -> None:
        """Wake the workers for a job stored by other means (a deploy request,
        stored together with its IPR's check)."""
        self._announce()

    def _announce(self) -> None:
        self.wake()
        if self.notify:
            self.notify()

    def wake(self) -> None:
        with self._cv:
            self._generation += 1
            self._cv.notify_all()

    def claim(self, worker: str, lease: timedelta, wait: float) -> Job | None:
        """A job, or None after `wait` seconds (or a wake, or the moment a waiting
        retry falls due) with nothing to do."""
        with self._cv:
            seen = self._generation
        job = self.table.claim(worker, lease)
        if job is not None:
            with self._cv:
                self._active += 1
            return job
        due = self.table.next_due_in()
        if due is not None:
            wait = min(wait, due + RETRY_SLACK)
        with self._cv:
            if self._generation == seen:
                self._cv.wait(wait)
        return None

    def done(self, job: Job, status: JobStatus, error: str = "") -> None:
        try:
            self.table.finish(job.id, status, error)
        finally:
            self._release()

    def retry(self, job: Job, not_before: datetime, since: datetime, error: str = "") -> None:
        """Put a job that failed for now back, to run from `not_before` (naive UTC)."""
        try:
            self.table.retry_later(job.id, not_before, since, error)
        finally:
            self._release()

    def _release(self) -> None:
        """A claimed job left this worker: idle workers look again (at the next
        job of its pull request, or at when its retry falls due)."""
        with self._cv:
            self._active -= 1
            self._generation += 1
            self._cv.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is queued or running (tests' settle())."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cv:
                seen = self._generation
                active = self._active
            if active == 0 and self.table.pending_count() == 0:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._cv:
                if self._generation == seen:
                    self._cv.wait(min(remaining, 0.5))
