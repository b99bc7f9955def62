"""A job's live log: the runner's output lines (runner/output.py), masked like
comments are, written to the database in small batches so that a console on any
replica can follow the job while it runs, and read it afterwards.

A log that cannot be written (the database away) never fails the job: its lines
are dropped, and the log says so at its next write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from atlantis_py.domain.records import Job
from atlantis_py.runner.output import streaming_to

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.25  # seconds: how far a console may lag behind the process
MAX_BUFFER = 5000  # lines held while the database does not answer


class JobLogs(Protocol):
    def append(self, job_id: int, lines: Sequence[str]) -> None: ...
    def set_projects(self, job_id: int, projects: Sequence[str]) -> None: ...


class LogWriter:
    """The OutputSink of one job attempt. Lines are buffered by the threads reading
    terraform's output and written by a thread of the writer's own every
    FLUSH_EVERY seconds, so a slow database never slows terraform's reader."""

    def __init__(self, logs: JobLogs, job_id: int, mask: Callable[[str], str],
                 every: float = FLUSH_EVERY) -> None:
        self.logs = logs
        self.job_id = job_id
        self.mask = mask
        self.every = every
        self._lines: list[str] = []
        self._projects: list[str] = []
        self._projects_changed = False
        self._dropped = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def line(self, text: str) -> None:
        masked = self.mask(text.replace("\r", ""))
        with self._lock:
            self._lines.append(masked)
            if len(self._lines) > MAX_BUFFER:
                del self._lines[:len(self._lines) - MAX_BUFFER]
                self._dropped += 1

    def project(self, name: str) -> None:
        with self._lock:
            if name not in self._projects:
                self._projects.append(name)
                self._projects_changed = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"atlantis-joblog-{self.job_id}")
        self._thread.start()

    def close(self) -> None:
        """Write what is left and stop."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        self.flush()

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.every)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            projects = list(self._projects) if self._projects_changed else None
            self._projects_changed = False
            dropped, self._dropped = self._dropped, 0
        if dropped:
            lines.insert(0, f"[{dropped} lines were lost: the database did not take them]")
        try:
            if projects is not None:
                self.logs.set_projects(self.job_id, projects)
            if lines:
                self.logs.append(self.job_id, lines)
        except Exception as err:  # noqa: BLE001 - whatever the store raised, the job goes on
            log.warning("job %d: %d log lines lost: %s", self.job_id, len(lines),
                        type(err).__name__)
            with self._lock:
                self._dropped += len(lines)


@contextmanager
def logging_job(logs: JobLogs | None, job: Job, mask: Callable[[str], str]) -> Iterator[None]:
    """Within the block the runner's output goes to `job`'s log; a failure that
    ends the attempt is its last line."""
    if logs is None:
        yield
        return
    writer = LogWriter(logs, job.id, mask)
    if job.attempts > 1:
        writer.line(f"--- attempt {job.attempts} ---")
    writer.start()
    try:
        with streaming_to(writer):
            yield
    except Exception as err:
        writer.line(f"the job stopped: {type(err).__name__}: {err}")
        raise
    finally:
        writer.close()
