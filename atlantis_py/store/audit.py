"""The audit log: append-only; nothing here updates or deletes a row."""

from __future__ import annotations

from sqlalchemy import select

from atlantis_py.domain.records import AuditEvent
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import AuditRow


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, *, pull_id: int | None, forge: str, repo: str, pull_number: int,
               actor: str, action: str, head_sha: str = "", project: str = "",
               detail: str = "") -> None:
        with self.db.session() as s:
            s.add(AuditRow(pull_id=pull_id, forge=forge, repo=repo, pull_number=pull_number,
                           actor=actor, action=action, head_sha=head_sha, project=project,
                           at=utcnow(), detail=detail))

    def events(self, pull_id: int) -> list[AuditEvent]:
        with self.db.session() as s:
            rows = s.scalars(select(AuditRow).where(AuditRow.pull_id == pull_id)
                             .order_by(AuditRow.id)).all()
            return [AuditEvent(id=r.id, pull_id=r.pull_id, repo=r.repo,
                               pull_number=r.pull_number, actor=r.actor, action=r.action,
                               head_sha=r.head_sha, project=r.project, at=r.at,
                               detail=r.detail) for r in rows]
