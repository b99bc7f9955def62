"""Reviews given through the API or CLI (forge reviews are read from the forge)."""

from __future__ import annotations

from sqlalchemy import select

from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.domain.records import IPRState
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import PullRow, ReviewRow


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, pull_id: int, user: str, state: ReviewState, commit_sha: str,
            comment: str, *, unless: frozenset[IPRState] = frozenset()) -> IPRState | None:
        """Store the review unless the IPR is in a state of `unless`, judged under
        the IPR row's lock so an apply that starts at the same moment can't slip in
        between. Returns the state that refused it, None once stored."""
        with self.db.session() as s:
            if unless:
                row = s.get(PullRow, pull_id, with_for_update=not self.db.is_sqlite)
                if row is not None and IPRState(row.state) in unless:
                    return IPRState(row.state)
            s.add(ReviewRow(pull_id=pull_id, user=user, state=state.value,
                            commit_sha=commit_sha, comment=comment, at=utcnow()))
            return None

    def list(self, pull_id: int) -> list[Review]:
        with self.db.session() as s:
            rows = s.scalars(select(ReviewRow).where(ReviewRow.pull_id == pull_id)
                             .order_by(ReviewRow.id)).all()
            return [Review(user=r.user, state=ReviewState(r.state), commit_sha=r.commit_sha,
                           submitted_at=r.at) for r in rows]
