"""The review console's IPR list: tabs, filters, a page, and per-state counts,
each one query on indexed columns."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select

from atlantis_py.domain.console import IPRPage, IPRQuery, LockView, Tab
from atlantis_py.domain.records import IPRState
from atlantis_py.store.db import Database
from atlantis_py.store.pulls import _pull
from atlantis_py.store.tables import LockRow, PullRow, ReviewRow, RunRow


class ConsoleQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

    def iprs(self, query: IPRQuery) -> IPRPage:
        base = select(PullRow).where(*self._where(query))
        with self.db.session() as s:
            counts = {str(state): int(n) for state, n in s.execute(
                select(PullRow.state, func.count()).where(*self._where(query))
                .group_by(PullRow.state)).all()}
            page = base if query.state is None else base.where(
                PullRow.state == query.state.value)
            total = (sum(counts.values()) if query.state is None
                     else counts.get(query.state.value, 0))
            rows = s.scalars(page.order_by(PullRow.id.desc()).offset(query.offset)
                             .limit(query.limit)).all()
            environments = s.scalars(select(RunRow.environment).distinct()
                                     .where(RunRow.command == "plan")
                                     .order_by(RunRow.environment)).all()
            return IPRPage(records=tuple(_pull(r) for r in rows), total=total, counts=counts,
                           environments=tuple(e for e in environments if e))

    def version(self) -> str:
        """Changes whenever an IPR is added or changes state: for live lists."""
        with self.db.session() as s:
            count, newest = s.execute(select(func.count(PullRow.id),
                                             func.max(PullRow.updated_at))).one()
            return f"{count}-{newest.isoformat() if newest else ''}"

    def locks(self) -> list[LockView]:
        with self.db.session() as s:
            rows = s.execute(select(LockRow, PullRow).join(PullRow, PullRow.id == LockRow.pull_id)
                             .order_by(LockRow.repo, LockRow.dir, LockRow.workspace)).all()
            return [_lock(lock, pull) for lock, pull in rows]

    def release_lock(self, lock_id: int) -> LockView | None:
        """Delete one lock; the lock as it was, or None when it was gone already."""
        with self.db.session() as s:
            found = s.execute(select(LockRow, PullRow)
                              .join(PullRow, PullRow.id == LockRow.pull_id)
                              .where(LockRow.id == lock_id)).first()
            if found is None:
                return None
            lock, pull = found
            view = _lock(lock, pull)
            deleted = s.execute(delete(LockRow).where(LockRow.id == lock_id))
            return view if getattr(deleted, "rowcount", 1) else None

    @staticmethod
    def _where(query: IPRQuery) -> list[ColumnElement[bool]]:
        """Every filter but the state: the counts are per state."""
        user = func.lower(query.user)
        where: list[ColumnElement[bool]] = []
        if query.tab is Tab.MINE:
            where.append(or_(func.lower(PullRow.author) == user,
                             func.lower(PullRow.opened_by) == user))
        elif query.tab is Tab.AWAITING:  # the forge's reviews: flows/awaiting.py
            where += [PullRow.open.is_(True), PullRow.state == IPRState.PENDING.value,
                      func.lower(PullRow.author) != user, func.lower(PullRow.opened_by) != user,
                      ~exists().where(and_(ReviewRow.pull_id == PullRow.id,
                                           func.lower(ReviewRow.user) == user,
                                           ReviewRow.commit_sha == PullRow.head_sha))]
        if query.repo:
            where.append(PullRow.repo == query.repo)
        if query.environment:
            where.append(exists().where(and_(RunRow.pull_id == PullRow.id,
                                             RunRow.command == "plan",
                                             RunRow.environment == query.environment)))
        return where


def _lock(lock: LockRow, pull: PullRow) -> LockView:
    return LockView(id=lock.id, forge=lock.forge, repo=lock.repo, dir=lock.dir,
                    workspace=lock.workspace, project=lock.project, pull_id=pull.id,
                    pull_number=lock.pull_number, pull_title=pull.title,
                    pull_state=IPRState(pull.state), created_at=lock.created_at)
