"""Saved plan files in the database: the copy every replica can read. The data
dir of the replica that planned keeps only a cache of it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, select

from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import PlanBlobRow


class PlanBlobStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, forge: str, repo: str, number: int, head_sha: str, name: str,
            data: bytes, sha256: str) -> None:
        """Store (or replace: a re-plan of the same commit) one plan file."""
        with self.db.session() as s:
            s.execute(delete(PlanBlobRow).where(*_key(forge, repo, number, head_sha, name)))
            s.add(PlanBlobRow(forge=forge, repo=repo, number=number, head_sha=head_sha,
                              name=name, sha256=sha256, size=len(data), data=data,
                              created_at=utcnow()))

    def get(self, forge: str, repo: str, number: int, head_sha: str, name: str
            ) -> tuple[bytes, str] | None:
        with self.db.session() as s:
            row = s.scalars(select(PlanBlobRow).where(
                *_key(forge, repo, number, head_sha, name))).first()
            return None if row is None else (bytes(row.data), row.sha256)

    def delete(self, forge: str, repo: str, number: int, *, keep_sha: str | None = None
               ) -> int:
        """Every plan of the pull request, or every plan but `keep_sha`'s."""
        where: list[ColumnElement[bool]] = [PlanBlobRow.forge == forge, PlanBlobRow.repo == repo,
                 PlanBlobRow.number == number]
        if keep_sha is not None:
            where.append(PlanBlobRow.head_sha != keep_sha)
        with self.db.session() as s:
            result = s.execute(delete(PlanBlobRow).where(*where))
            return int(getattr(result, "rowcount", 0) or 0)

    def pulls(self) -> list[tuple[str, str, int]]:
        """(forge, repo, number) of every pull request with a stored plan."""
        with self.db.session() as s:
            rows = s.execute(select(PlanBlobRow.forge, PlanBlobRow.repo, PlanBlobRow.number)
                             .distinct()).all()
            return [(str(f), str(r), int(n)) for f, r, n in rows]


def _key(forge: str, repo: str, number: int, head_sha: str, name: str
         ) -> list[ColumnElement[bool]]:
    return [PlanBlobRow.forge == forge, PlanBlobRow.repo == repo, PlanBlobRow.number == number,
            PlanBlobRow.head_sha == head_sha, PlanBlobRow.name == name]
