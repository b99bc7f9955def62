"""Tables of the policy checks: each plan run's verdict per policy set, and the
owners' approvals of failing sets. Imported at the end of tables.py so Alembic
and the migration check see them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atlantis_py.store.tables import Base


class PolicyResultRow(Base):
    __tablename__ = "policy_results"
    __table_args__ = (Index("ix_policy_results_run", "run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("project_runs.id"))
    policy_set: Mapped[str] = mapped_column(String(255))
    passed: Mapped[bool]
    denies: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of messages
    warnings: Mapped[str] = mapped_column(Text, default="[]")
    error: Mapped[str | None] = mapped_column(Text)


class PolicyApprovalRow(Base):
    __tablename__ = "policy_approvals"
    __table_args__ = (Index("ix_policy_approvals_pull", "pull_id", "head_sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pull_id: Mapped[int] = mapped_column(ForeignKey("pull_requests.id"))
    head_sha: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[int] = mapped_column(ForeignKey("project_runs.id"))
    project: Mapped[str] = mapped_column(String(255))
    policy_set: Mapped[str] = mapped_column(String(255))
    user: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime]
