"""What the API, CLI and web page show of an IPR."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from atlantis_py.domain.records import IPRState


@dataclass(frozen=True)
class ProjectView:
    project: str
    dir: str
    workspace: str
    environment: str
    plan_status: str
    summary: str
    head_sha: str
    add: int | None
    change: int | None
    destroy: int | None
    applied: bool


@dataclass(frozen=True)
class ApprovalView:
    user: str
    state: str
    commit_sha: str
    counted: bool
    reason: str


@dataclass(frozen=True)
class IPRView:
    id: int
    forge: str
    repo: str
    pull_number: int
    title: str
    description: str
    author: str
    state: IPRState
    open: bool
    head_sha: str
    head_ref: str
    base_ref: str
    projects: tuple[ProjectView, ...]
    approvals: tuple[ApprovalView, ...]
    blocking: tuple[str, ...]  # why it can't be deployed now; empty when it can
    created_at: datetime | None
    updated_at: datetime | None
