"""Each job's journal of forge writes: what arrived, what still has to go, and
whether the job's own work is done (then a retry only sends what is missing)."""

from __future__ import annotations

from sqlalchemy import select, update

from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.writes import ForgeWrite, WriteKind
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import JournalRow

_DONE = "done"


def _write(row: JournalRow) -> ForgeWrite:
    return ForgeWrite(kind=WriteKind(row.kind), forge=row.forge, repo=row.repo,
                      number=row.number, sha=row.sha, context=row.context,
                      state=StatusState(row.state) if row.state else None, body=row.body,
                      uncertain=row.uncertain)


class JournalStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def posted(self, job_id: int) -> set[str]:
        """Digests of the writes that reached the forge."""
        with self.db.session() as s:
            return set(s.scalars(select(JournalRow.digest).where(
                JournalRow.job_id == job_id, JournalRow.kind != _DONE,
                JournalRow.posted.is_(True))).all())

    def pending(self, job_id: int) -> list[tuple[int, ForgeWrite]]:
        """(entry id, write) of the writes still to send, oldest first."""
        with self.db.session() as s:
            rows = s.scalars(select(JournalRow).where(
                JournalRow.job_id == job_id, JournalRow.kind != _DONE,
                JournalRow.posted.is_(False)).order_by(JournalRow.id)).all()
            return [(row.id, _write(row)) for row in rows]

    def record(self, job_id: int, write: ForgeWrite, *, posted: bool) -> None:
        """A write that arrived keeps only its digest; one still to send, all of it."""
        with self.db.session() as s:
            s.add(JournalRow(job_id=job_id, kind=write.kind.value, forge=write.forge,
                             repo=write.repo, number=write.number, sha=write.sha,
                             context=write.context,
                             state=write.state.value if write.state else "",
                             body="" if posted else write.body, digest=write.digest,
                             posted=posted, uncertain=write.uncertain,
                             created_at=utcnow()))

    def mark_posted(self, entry_id: int) -> None:
        with self.db.session() as s:
            s.execute(update(JournalRow).where(JournalRow.id == entry_id).values(posted=True))

    def work_done(self, job_id: int) -> bool:
        with self.db.session() as s:
            return s.scalar(select(JournalRow.id).where(
                JournalRow.job_id == job_id, JournalRow.kind == _DONE).limit(1)) is not None

    def set_work_done(self, job_id: int) -> None:
        with self.db.session() as s:
            s.add(JournalRow(job_id=job_id, kind=_DONE, forge="", repo="", number=0, sha="",
                             context="", state="", body="", digest="", posted=True,
                             created_at=utcnow()))
