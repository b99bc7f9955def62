"""Tables of the local forge: its pull requests, comments and statuses.

Kept apart from tables.py because only the local forge reads them; imported at
the end of tables.py so Alembic and the migration check see them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atlantis_py.store.tables import Base


class LocalPullRow(Base):
    __tablename__ = "local_pulls"
    __table_args__ = (UniqueConstraint("repo", "number", name="uq_local_pull"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo: Mapped[str] = mapped_column(String(255))
    number: Mapped[int]
    author: Mapped[str] = mapped_column(String(255))
    head_ref: Mapped[str] = mapped_column(String(255))
    base_ref: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # open | closed | merged
    created_at: Mapped[datetime]


class LocalCommentRow(Base):
    __tablename__ = "local_comments"
    __table_args__ = (Index("ix_local_comments_pull", "repo", "number", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo: Mapped[str] = mapped_column(String(255))
    number: Mapped[int]
    author: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class LocalStatusRow(Base):
    __tablename__ = "local_statuses"
    __table_args__ = (UniqueConstraint("repo", "sha", "context", name="uq_local_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo: Mapped[str] = mapped_column(String(255))
    sha: Mapped[str] = mapped_column(String(64))
    context: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
