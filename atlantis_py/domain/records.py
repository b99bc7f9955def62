"""What the store hands back: plain frozen values, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from atlantis_py.domain.results import PlanCounts, ResourceChange, RunStatus


class IPRState(str, Enum):
    """Lifecycle of an Infrastructure Pull Request. APPLYING lasts while terraform
    applies its plans: reviews and cancels are refused then, and it ends in
    DEPLOYED or FAILED whatever arrived meanwhile."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    APPLYING = "APPLYING"
    DEPLOYED = "DEPLOYED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    serial_key: str
    payload: str
    attempts: int
    status: JobStatus
    delivery_id: str = ""
    retry_since: datetime | None = None  # naive UTC: its first transient failure


@dataclass(frozen=True)
class PullRecord:
    id: int
    forge: str
    repo: str
    number: int
    author: str
    head_sha: str
    head_ref: str
    base_ref: str
    title: str
    clone_url: str
    state: IPRState
    open: bool
    description: str = ""
    base_config: str = ""  # the rules branch's workflows.yaml at the last plan
    pending_since: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    opened_by: str = ""  # who asked the API to open it; GitHub/GitLab name the bot author

    @property
    def authors(self) -> tuple[str, ...]:
        """Who may not approve it when self-approval is not allowed: its author
        and whoever opened it through the API."""
        return tuple(dict.fromkeys(a for a in (self.author, self.opened_by) if a))

    def authored_by(self, user: str) -> bool:
        return user.lower() in {a.lower() for a in self.authors}


@dataclass(frozen=True)
class DeployRequest:
    """The answer to "deploy this IPR": the job that deploys it (a new one, or the one
    already queued or applying it), or None when its state allows no deploy."""

    job_id: int | None
    created: bool
    state: IPRState


@dataclass(frozen=True)
class RunRecord:
    id: int
    pull_id: int
    project: str
    dir: str
    workspace: str
    command: str
    head_sha: str
    status: RunStatus
    output: str
    error: str | None
    counts: PlanCounts | None
    plan_path: str
    actor: str
    finished_at: datetime | None
    environment: str = "default"
    reasons: tuple[str, ...] = ()
    deleted: bool = False
    source_sha: str | None = None  # a destroy's plan and apply run at this commit
    changes: tuple[ResourceChange, ...] = ()  # a plan's resource changes


@dataclass(frozen=True)
class LockRecord:
    forge: str
    repo: str
    dir: str
    workspace: str
    pull_number: int
    project: str


@dataclass(frozen=True)
class AuditEvent:
    id: int
    pull_id: int | None
    repo: str
    pull_number: int
    actor: str
    action: str
    head_sha: str
    project: str
    at: datetime
    detail: str


class Role(str, Enum):
    VIEWER = "viewer"
    REVIEWER = "reviewer"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.REVIEWER, Role.ADMIN]
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True)
class TokenOwner:
    user: str
    role: Role


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: whose token it was started with, and the CSRF token
    every form of that session carries."""

    owner: TokenOwner
    csrf: str
    expires_at: datetime
