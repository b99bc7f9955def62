"""Reviews given through the API or CLI (forge reviews are read from the forge)."""

from __future__ import annotations

from sqlalchemy import select

from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import ReviewRow


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, pull_id: int, user: str, state: ReviewState, commit_sha: str,
            comment: str) -> None:
        with self.db.session() as s:
            s.add(ReviewRow(pull_id=pull_id, user=user, state=state.value,
                            commit_sha=commit_sha, comment=comment, at=utcnow()))

    def list(self, pull_id: int) -> list[Review]:
        with self.db.session() as s:
            rows = s.scalars(select(ReviewRow).where(ReviewRow.pull_id == pull_id)
                             .order_by(ReviewRow.id)).all()
            return [Review(user=r.user, state=ReviewState(r.state), commit_sha=r.commit_sha,
                           submitted_at=r.at) for r in rows]
