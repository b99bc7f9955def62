"""Drift: whether what a project's default branch describes still matches what
is deployed, as seen by a plan nobody asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class DriftState(str, Enum):
    CLEAN = "clean"  # the plan is empty
    DRIFTED = "drifted"  # the plan would change something
    ERROR = "error"  # the plan could not be made
    SKIPPED = "skipped"  # not planned: a pull request holds the project's lock


DRIFT_STATES = tuple(s.value for s in DriftState)


@dataclass(frozen=True)
class DriftSchedule:
    """An environment's `drift:` entry: a five-field cron expression read as
    wall-clock time in `timezone` (an IANA name)."""

    schedule: str
    timezone: str = "UTC"


@dataclass(frozen=True)
class ResourceChange:
    """One resource a plan would touch, as `terraform show -json` names it."""

    address: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class DriftResult:
    """One project's check. `trigger` says who asked: `schedule`, `manual`
    (API or CLI) or `apply` (the plan after an apply was not empty)."""

    forge: str
    repo: str
    project: str
    dir: str
    workspace: str
    environment: str
    state: DriftState
    head_sha: str = ""
    add: int = 0
    change: int = 0
    destroy: int = 0
    resources: tuple[ResourceChange, ...] = ()
    detail: str = ""  # the error, or why the project was skipped
    trigger: str = "manual"
    checked_at: datetime | None = None
