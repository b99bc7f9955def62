"""What the console shows of the job queue: a job as a person reads it (its pull
request, projects, state, retries, times) and its log lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class JobState(str, Enum):
    """RETRYING: queued again after a failure that may pass (the forge down),
    waiting for `next_retry`."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.INTERRUPTED)


ACTIVE = (JobState.QUEUED, JobState.RUNNING, JobState.RETRYING)


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    state: JobState
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_retry: datetime | None
    error: str
    projects: tuple[str, ...]
    forge: str = ""  # of its pull request, when it has one
    repo: str = ""
    number: int = 0
    ipr_id: int | None = None
    payload: str = ""  # what the job was asked to do, as the queue stored it


@dataclass(frozen=True)
class JobQuery:
    """`states` empty: every state."""

    states: tuple[JobState, ...] = ()
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class JobPage:
    jobs: tuple[JobView, ...]
    total: int
    counts: dict[str, int]  # per JobState value, over every job kept


@dataclass(frozen=True)
class LogLine:
    """`id` only grows within a job: a reader asks for the lines after the last it saw."""

    id: int
    text: str
