"""What the workers do beside their jobs, every lease period (20 s): the periodic
tasks the app hands in (expiring IPRs, forgetting saved plans of vanished pull
requests), and now and then forgetting old queue rows."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

log = logging.getLogger(__name__)

RETENTION = timedelta(days=30)  # longer than any forge redelivers an old event
PRUNE_EVERY = 3600.0


class Prunable(Protocol):
    def prune(self, older_than: timedelta) -> int: ...


class Housekeeping:
    """`every_pass` run each time; `hourly` (and the queue prune) once an hour,
    never at start, so restarts stay quick. One task's failure doesn't stop the rest."""

    def __init__(self, jobs: Prunable, every_pass: Sequence[Callable[[], object]] = (),
                 hourly: Sequence[Callable[[], object]] = (),
                 retention: timedelta = RETENTION) -> None:
        self.jobs = jobs
        self.every_pass = tuple(every_pass)
        self.hourly = tuple(hourly)
        self.retention = retention
        self._last_prune = time.monotonic()

    def __call__(self) -> None:
        self._run(self.every_pass)
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            self._last_prune = time.monotonic()
            self._run(self.hourly)
            removed = self.jobs.prune(self.retention)
            if removed:
                log.info("forgot %d finished jobs and delivery ids older than %s",
                         removed, self.retention)

    @staticmethod
    def _run(tasks: Sequence[Callable[[], object]]) -> None:
        for task in tasks:
            try:
                task()
            except Exception:
                log.exception("housekeeping task %s failed", getattr(task, "__qualname__", task))
