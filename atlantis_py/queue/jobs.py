"""The job queue: durable in the database, with an in-process wake-up.

Workers sleep on a condition that `accept`/`enqueue` notify, so new work starts
at once without polling; the database row is what makes it survive a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.queue.payloads import EventJob, Payload


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

    def _announce(self) -> None:
        self.wake()
        if self.notify:
            self.notify()

    def wake(self) -> None:
        with self._cv:
            self._generation += 1
            self._cv.notify_all()

    def claim(self, worker: str, lease: timedelta, wait: float) -> Job | None:
        """A job, or None after `wait` seconds (or a wake) with nothing to do."""
        with self._cv:
            seen = self._generation
        job = self.table.claim(worker, lease)
        if job is not None:
            with self._cv:
                self._active += 1
            return job
        with self._cv:
            if self._generation == seen:
                self._cv.wait(wait)
        return None

    def done(self, job: Job, status: JobStatus, error: str = "") -> None:
        self.table.finish(job.id, status, error)
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
