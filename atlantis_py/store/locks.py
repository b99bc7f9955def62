"""Project locks: one open pull request per (repo, dir, workspace), by a unique row."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from atlantis_py.domain.records import LockRecord
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import LockRow


def _lock(row: LockRow) -> LockRecord:
    return LockRecord(forge=row.forge, repo=row.repo, dir=row.dir, workspace=row.workspace,
                      pull_number=row.pull_number, project=row.project)


class LockStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def acquire(self, forge: str, repo: str, dir: str, workspace: str, pull_id: int,
                pull_number: int, project: str) -> LockRecord:
        """Take the lock for this pull request, or return the current holder's lock.
        Callers compare `pull_number` with their own to know whether they hold it."""
        for _ in range(3):
            with self.db.session() as s:
                held = s.scalars(select(LockRow).where(
                    LockRow.forge == forge, LockRow.repo == repo, LockRow.dir == dir,
                    LockRow.workspace == workspace)).first()
                if held is not None:
                    return _lock(held)
            try:
                with self.db.session() as s:
                    row = LockRow(forge=forge, repo=repo, dir=dir, workspace=workspace,
                                  pull_id=pull_id, pull_number=pull_number, project=project,
                                  created_at=utcnow())
                    s.add(row)
                    s.flush()
                    return _lock(row)
            except IntegrityError:
                continue  # someone took it between our read and insert: read again
        raise RuntimeError("lock table kept changing while acquiring")

    def held_by(self, pull_id: int) -> list[LockRecord]:
        with self.db.session() as s:
            rows = s.scalars(select(LockRow).where(LockRow.pull_id == pull_id)).all()
            return [_lock(r) for r in rows]

    def release_all(self, pull_id: int) -> int:
        with self.db.session() as s:
            result = s.execute(delete(LockRow).where(LockRow.pull_id == pull_id))
            return int(getattr(result, "rowcount", 0) or 0)

    def all(self) -> list[LockRecord]:
        with self.db.session() as s:
            return [_lock(r) for r in s.scalars(select(LockRow).order_by(LockRow.id)).all()]

    def holder(self, forge: str, repo: str, dir: str, workspace: str) -> LockRecord | None:
        """Who holds (dir, workspace) now, without taking it (drift checks)."""
        with self.db.session() as s:
            row = s.scalars(select(LockRow).where(
                LockRow.forge == forge, LockRow.repo == repo, LockRow.dir == dir,
                LockRow.workspace == workspace)).first()
            return None if row is None else _lock(row)
