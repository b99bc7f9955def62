"""Table definitions. Changes go through a new migration in migrations/versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("forge", "delivery_id", name="uq_delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forge: Mapped[str] = mapped_column(String(32))
    delivery_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime]


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),
                      Index("ix_jobs_serial_key", "serial_key", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    serial_key: Mapped[str] = mapped_column(String(512))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    delivery_id: Mapped[str] = mapped_column(String(128), default="")
    worker: Mapped[str] = mapped_column(String(128), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    not_before: Mapped[datetime | None]  # a retry waits until then
    retry_since: Mapped[datetime | None]  # its first transient failure
    projects: Mapped[str] = mapped_column(Text, default="")  # as its log names them


class JournalRow(Base):
    """What a job sent to the forge, or could not send yet (posted = False), in
    order; and, once its work is done, a `done` row: a retry then only sends
    what is missing."""

    __tablename__ = "job_journal"
    __table_args__ = (Index("ix_journal_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    forge: Mapped[str] = mapped_column(String(32), default="")
    repo: Mapped[str] = mapped_column(String(255), default="")
    number: Mapped[int] = mapped_column(default=0)
    sha: Mapped[str] = mapped_column(String(64), default="")
    context: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64), default="")
    posted: Mapped[bool] = mapped_column(default=False)
    uncertain: Mapped[bool] = mapped_column(default=False)  # may have landed: look first
    created_at: Mapped[datetime]


class JobLogRow(Base):
    """A job's output, line by line as its processes print it (the last
    MAX_LINES kept), so a console on any replica can follow it; forgotten with
    its job."""

    __tablename__ = "job_logs"
    __table_args__ = (Index("ix_job_logs_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int]
    line: Mapped[str] = mapped_column(Text)


class PullRow(Base):
    __tablename__ = "pull_requests"
    __table_args__ = (UniqueConstraint("forge", "repo", "number", name="uq_pull"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forge: Mapped[str] = mapped_column(String(32))
    repo: Mapped[str] = mapped_column(String(255))
    number: Mapped[int]
    author: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    head_sha: Mapped[str] = mapped_column(String(64), default="")
    head_ref: Mapped[str] = mapped_column(String(255), default="")
    base_ref: Mapped[str] = mapped_column(String(255), default="")
    clone_url: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="PENDING")
    open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, default="")
    base_config: Mapped[str] = mapped_column(Text, default="")
    pending_since: Mapped[datetime | None]
    opened_by: Mapped[str] = mapped_column(String(255), default="")  # the API user, if so


class RunRow(Base):
    __tablename__ = "project_runs"
    __table_args__ = (Index("ix_runs_pull", "pull_id", "command"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id"))
    project: Mapped[str] = mapped_column(String(255))
    dir: Mapped[str] = mapped_column(String(1024))
    workspace: Mapped[str] = mapped_column(String(255))
    command: Mapped[str] = mapped_column(String(16))
    head_sha: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    add: Mapped[int | None]
    change: Mapped[int | None]
    destroy: Mapped[int | None]
    replace: Mapped[int | None]
    plan_path: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(255), default="")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    environment: Mapped[str] = mapped_column(String(255), default="default")
    reasons: Mapped[str] = mapped_column(Text, default="")
    deleted: Mapped[bool] = mapped_column(default=False)
    source_sha: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[str] = mapped_column(Text, default="")  # a plan's resource changes, JSON


class LockRow(Base):
    __tablename__ = "locks"
    __table_args__ = (UniqueConstraint("forge", "repo", "dir", "workspace", name="uq_lock"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forge: Mapped[str] = mapped_column(String(32))
    repo: Mapped[str] = mapped_column(String(255))
    dir: Mapped[str] = mapped_column(String(1024))
    workspace: Mapped[str] = mapped_column(String(255))
    pull_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id"))
    pull_number: Mapped[int]
    project: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]


class AuditRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_pull", "pull_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_id: Mapped[int | None] = mapped_column(ForeignKey("pull_requests.id"))
    forge: Mapped[str] = mapped_column(String(32), default="")
    repo: Mapped[str] = mapped_column(String(255), default="")
    pull_number: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    head_sha: Mapped[str] = mapped_column(String(64), default="")
    project: Mapped[str] = mapped_column(String(255), default="")
    at: Mapped[datetime]
    detail: Mapped[str] = mapped_column(Text, default="")


class ReviewRow(Base):
    """Reviews given through the API or CLI; forge reviews stay on the forge."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_pull", "pull_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id"))
    user: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(32))
    commit_sha: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class TokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(default=False)


class PlanBlobRow(Base):
    """A saved plan file, so any replica can apply what another planned."""

    __tablename__ = "plan_blobs"
    __table_args__ = (UniqueConstraint("forge", "repo", "number", "head_sha", "name",
                                       name="uq_plan_blob"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forge: Mapped[str] = mapped_column(String(32))
    repo: Mapped[str] = mapped_column(String(255))
    number: Mapped[int]
    head_sha: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class WebSessionRow(Base):
    """A browser session of the review console, started with an API token. Only
    the SHA-256 of the cookie's value is stored; revoking the token ends it."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginFailureRow(Base):
    """A failed console sign-in from `client` (its address), so every web
    process and replica counts the same attempts (store/login_failures.py)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_client", "client", "at"),
                      Index("ix_login_failures_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
from atlantis_py.store import drift_tables as _drift_tables  # noqa: F401  (registers them)
from atlantis_py.store import local_tables as _local_tables  # noqa: F401  (registers them)
from atlantis_py.store import policy_tables as _policy_tables  # noqa: F401  (registers them)
