"""What the review console asks of the IPR list, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from atlantis_py.domain.records import IPRState, PullRecord


class Tab(str, Enum):
    """AWAITING: open, PENDING, not the viewer's own (authored or opened through
    the API), and not yet reviewed by the viewer at its current head, on the
    forge or through the console or API (flows/awaiting.py). MINE: the viewer's."""

    AWAITING = "awaiting"
    MINE = "mine"
    ALL = "all"


@dataclass(frozen=True)
class IPRQuery:
    user: str
    tab: Tab = Tab.ALL
    state: IPRState | None = None
    repo: str | None = None
    environment: str | None = None
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True)
class IPRPage:
    records: tuple[PullRecord, ...]
    total: int  # matching every filter
    counts: dict[str, int] = field(default_factory=dict)  # per state, other filters applied
    environments: tuple[str, ...] = ()  # every environment planned, for the filter


@dataclass(frozen=True)
class LockView:
    """A project lock with the pull request holding it."""

    id: int
    forge: str
    repo: str
    dir: str
    workspace: str
    project: str
    pull_id: int
    pull_number: int
    pull_title: str
    pull_state: IPRState
    created_at: datetime
