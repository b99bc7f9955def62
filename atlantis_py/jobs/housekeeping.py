"""What the workers do beside their jobs, every lease period (20 s): expire IPRs
past their review deadline, and now and then forget old queue rows."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Protocol

from atlantis_py.jobs.lifecycle import Lifecycle

log = logging.getLogger(__name__)

RETENTION = timedelta(days=30)  # longer than any forge redelivers an old event
PRUNE_EVERY = 3600.0


class Prunable(Protocol):
    def prune(self, older_than: timedelta) -> int: ...


class Housekeeping:
    def __init__(self, lifecycle: Lifecycle, jobs: Prunable,
                 retention: timedelta = RETENTION) -> None:
        self.lifecycle = lifecycle
        self.jobs = jobs
        self.retention = retention
        self._last_prune = time.monotonic()  # not at start: restarts stay quick

    def __call__(self) -> None:
        self.lifecycle.expire_overdue()
        if time.monotonic() - self._last_prune >= PRUNE_EVERY:
            self._last_prune = time.monotonic()
            removed = self.jobs.prune(self.retention)
            if removed:
                log.info("forgot %d finished jobs and delivery ids older than %s",
                         removed, self.retention)
