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
class PolicyCheckView:
    """One policy set's verdict on one project's current plan (--policies).
    `error`: the set could not be evaluated (it fails closed); `approved_by`:
    the owners who approved a failing set on the head commit; `owners`: the
    users and teams who may approve it; `blocking`: it holds the apply."""

    project: str
    policy_set: str
    passed: bool
    denies: tuple[str, ...]
    warnings: tuple[str, ...]
    error: str
    approved_by: tuple[str, ...]
    owners: tuple[str, ...]
    blocking: bool


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
    policies: tuple[PolicyCheckView, ...] = ()  # empty without --policies
