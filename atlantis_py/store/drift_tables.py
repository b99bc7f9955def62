"""Tables of drift detection: the slots claimed by a replica, and the results.

Kept apart from tables.py (as local_tables.py is); imported at the end of
tables.py so Alembic and the migration check see them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atlantis_py.store.tables import Base


class DriftSlotRow(Base):
    """One scheduled check of one environment of one repository: the unique key
    is what keeps replicas from running a slot twice. `slot` is wall-clock time
    in the environment's zone (see core/drift.py)."""

    __tablename__ = "drift_slots"
    __table_args__ = (UniqueConstraint("forge", "repo", "environment", "slot",
                                       name="uq_drift_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forge: Mapped[str] = mapped_column(String(32))
    repo: Mapped[str] = mapped_column(String(255))
    environment: Mapped[str] = mapped_column(String(255))
    slot: Mapped[datetime]
    job_id: Mapped[int]
    created_at: Mapped[datetime]


class DriftResultRow(Base):
    __tablename__ = "drift_results"
    __table_args__ = (Index("ix_drift_results_project", "forge", "repo", "project", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    forge: Mapped[str] = mapped_column(String(32))
    repo: Mapped[str] = mapped_column(String(255))
    project: Mapped[str] = mapped_column(String(255))
    dir: Mapped[str] = mapped_column(String(1024))
    workspace: Mapped[str] = mapped_column(String(255))
    environment: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    head_sha: Mapped[str] = mapped_column(String(64), default="")
    add: Mapped[int] = mapped_column(default=0)
    change: Mapped[int] = mapped_column(default=0)
    destroy: Mapped[int] = mapped_column(default=0)
    resources: Mapped[str] = mapped_column(Text, default="[]")  # [{address, actions}]
    detail: Mapped[str] = mapped_column(Text, default="")
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    checked_at: Mapped[datetime]
