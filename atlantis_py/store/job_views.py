"""The console's view of the job queue: pages of jobs by state, one job, a pull
request's jobs; each with its pull request (and IPR) read off its serial key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from atlantis_py.domain.jobs import JobPage, JobQuery, JobState, JobView
from atlantis_py.domain.records import JobStatus
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import JobRow, PullRow

_STATUS = {JobState.RUNNING: JobStatus.RUNNING, JobState.DONE: JobStatus.DONE,
           JobState.FAILED: JobStatus.FAILED, JobState.INTERRUPTED: JobStatus.INTERRUPTED}


def pull_of(serial_key: str) -> tuple[str, str, int] | None:
    """(forge, repo, number) of a pull request's serial key ("forge:repo#number",
    queue.payloads.pull_key); None for any other key."""
    head, sep, number = serial_key.rpartition("#")
    forge, colon, repo = head.partition(":")
    if not (sep and colon and forge and repo and number.isdigit()):
        return None
    return forge, repo, int(number)


def _state(row: JobRow) -> JobState:
    if row.status == JobStatus.QUEUED.value:
        return JobState.RETRYING if row.retry_since is not None else JobState.QUEUED
    try:
        return JobState(row.status)
    except ValueError:
        return JobState.FAILED


def _where(state: JobState) -> ColumnElement[bool]:
    if state is JobState.QUEUED:
        return and_(JobRow.status == JobStatus.QUEUED.value, JobRow.retry_since.is_(None))
    if state is JobState.RETRYING:
        return and_(JobRow.status == JobStatus.QUEUED.value, JobRow.retry_since.is_not(None))
    return JobRow.status == _STATUS[state].value


class JobViews:
    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, query: JobQuery) -> JobPage:
        where = or_(*(_where(s) for s in query.states)) if query.states else None
        with self.db.session() as s:
            counts: dict[str, int] = {}
            for status, retrying, n in s.execute(
                    select(JobRow.status, JobRow.retry_since.is_not(None), func.count())
                    .group_by(JobRow.status, JobRow.retry_since.is_not(None))).all():
                state = (JobState.RETRYING if status == JobStatus.QUEUED.value and retrying
                         else JobState.QUEUED if status == JobStatus.QUEUED.value
                         else JobState(status))
                counts[state.value] = counts.get(state.value, 0) + int(n)
            total = (sum(counts.get(st.value, 0) for st in query.states) if query.states
                     else sum(counts.values()))
            listing = select(JobRow).order_by(JobRow.id.desc())
            if where is not None:
                listing = listing.where(where)
            rows = s.scalars(listing.offset(query.offset).limit(query.limit)).all()
            return JobPage(jobs=tuple(self._views(s, rows)), total=total, counts=counts)

    def version(self) -> str:
        """Changes whenever a job is queued, starts, waits to retry or finishes: for
        live lists."""
        with self.db.session() as s:
            row = s.execute(select(func.count(JobRow.id), func.max(JobRow.id),
                                   func.max(JobRow.started_at), func.max(JobRow.finished_at),
                                   func.max(JobRow.not_before))).one()
            return "-".join("" if v is None else str(v) for v in row).replace(" ", "T")

    def job(self, job_id: int) -> JobView | None:
        with self.db.session() as s:
            row = s.get(JobRow, job_id)
            return None if row is None else self._views(s, [row])[0]

    def of_pull(self, forge: str, repo: str, number: int, limit: int = 20) -> list[JobView]:
        """The pull request's newest jobs, newest first."""
        key = f"{forge}:{repo}#{number}"
        with self.db.session() as s:
            rows = s.scalars(select(JobRow).where(JobRow.serial_key == key)
                             .order_by(JobRow.id.desc()).limit(limit)).all()
            return self._views(s, rows)

    def retry_now(self, job_id: int) -> bool:
        """A job waiting to retry becomes due now; False when it is not waiting."""
        with self.db.session() as s:
            done = s.execute(update(JobRow).where(
                JobRow.id == job_id, JobRow.status == JobStatus.QUEUED.value,
                JobRow.retry_since.is_not(None))
                .values(not_before=utcnow() - timedelta(seconds=1)))
            return bool(getattr(done, "rowcount", 0))

    @staticmethod
    def _views(s: Session, rows: Sequence[JobRow]) -> list[JobView]:
        pulls = {key: found for key in {r.serial_key for r in rows}
                 if (found := pull_of(key)) is not None}
        ids: dict[tuple[str, str, int], int] = {}
        if pulls:
            matches = [and_(PullRow.forge == f, PullRow.repo == r, PullRow.number == n)
                       for f, r, n in set(pulls.values())]
            for pid, f, r, n in s.execute(select(PullRow.id, PullRow.forge, PullRow.repo,
                                                 PullRow.number).where(or_(*matches))).all():
                ids[(f, r, n)] = pid
        views = []
        for row in rows:
            pull = pulls.get(row.serial_key)
            state = _state(row)
            views.append(JobView(
                id=row.id, kind=row.kind, state=state, attempts=row.attempts,
                created_at=row.created_at, started_at=row.started_at,
                finished_at=row.finished_at,
                next_retry=row.not_before if state is JobState.RETRYING else None,
                error=row.error or "",
                projects=tuple(p for p in (row.projects or "").split("\n") if p),
                forge=pull[0] if pull else "", repo=pull[1] if pull else "",
                number=pull[2] if pull else 0, ipr_id=ids.get(pull) if pull else None,
                payload=row.payload))
        return views
