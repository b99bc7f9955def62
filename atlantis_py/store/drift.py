"""Drift results and schedule slots.

A scheduled check is stored as its slot row and its job in one transaction:
the slot's unique key makes the second replica's claim fail, and the job is
never left without its slot (or the other way round)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from atlantis_py.domain.drift import DriftResult, DriftState, ResourceChange
from atlantis_py.domain.events import Repo
from atlantis_py.domain.records import JobStatus
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.drift_tables import DriftResultRow, DriftSlotRow
from atlantis_py.store.tables import JobRow, PullRow
from atlantis_py.store.wakeups import NOTIFY


def _result(row: DriftResultRow) -> DriftResult:
    resources = tuple(ResourceChange(str(r["address"]), tuple(r["actions"]))
                      for r in json.loads(row.resources or "[]"))
    return DriftResult(forge=row.forge, repo=row.repo, project=row.project, dir=row.dir,
                       workspace=row.workspace, environment=row.environment,
                       state=DriftState(row.state), head_sha=row.head_sha, add=row.add,
                       change=row.change, destroy=row.destroy, resources=resources,
                       detail=row.detail, trigger=row.trigger, checked_at=row.checked_at)


class DriftStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim_slot(self, forge: str, repo: str, environment: str, slot: datetime,
                   kind: str, serial_key: str, payload: str) -> int | None:
        """Queue the slot's job unless any replica has claimed the slot: the job's
        id, or None when it was claimed before."""
        try:
            with self.db.session() as s:
                job = JobRow(kind=kind, serial_key=serial_key, payload=payload,
                             status=JobStatus.QUEUED.value, attempts=0, delivery_id="",
                             worker="", error="", created_at=utcnow())
                s.add(job)
                s.flush()
                s.add(DriftSlotRow(forge=forge, repo=repo, environment=environment, slot=slot,
                                   job_id=job.id, created_at=utcnow()))
                s.flush()
                if not self.db.is_sqlite:
                    s.execute(NOTIFY)
                return job.id
        except IntegrityError:
            return None

    def enqueue_once(self, kind: str, serial_key: str, payload: str) -> int:
        """A job for `payload`, unless the same one is queued and not started yet:
        then that job's id (asking twice for a check is one check)."""
        with self.db.session() as s:
            queued = s.scalars(select(JobRow.id).where(
                JobRow.kind == kind, JobRow.serial_key == serial_key,
                JobRow.status == JobStatus.QUEUED.value, JobRow.payload == payload)).first()
            if queued is not None:
                return queued
            job = JobRow(kind=kind, serial_key=serial_key, payload=payload,
                         status=JobStatus.QUEUED.value, attempts=0, delivery_id="",
                         worker="", error="", created_at=utcnow())
            s.add(job)
            s.flush()
            if not self.db.is_sqlite:
                s.execute(NOTIFY)
            return job.id

    def record(self, result: DriftResult) -> None:
        resources = json.dumps([{"address": r.address, "actions": list(r.actions)}
                                for r in result.resources])
        with self.db.session() as s:
            s.add(DriftResultRow(
                forge=result.forge, repo=result.repo, project=result.project, dir=result.dir,
                workspace=result.workspace, environment=result.environment,
                state=result.state.value, head_sha=result.head_sha, add=result.add,
                change=result.change, destroy=result.destroy, resources=resources,
                detail=result.detail, trigger=result.trigger,
                checked_at=result.checked_at or utcnow()))

    def latest(self, repo: str | None = None) -> list[DriftResult]:
        """The newest result of each project, by repository and project name."""
        newest = select(func.max(DriftResultRow.id)).group_by(
            DriftResultRow.forge, DriftResultRow.repo, DriftResultRow.project)
        if repo is not None:
            newest = newest.where(DriftResultRow.repo == repo)
        with self.db.session() as s:
            rows = s.scalars(select(DriftResultRow).where(DriftResultRow.id.in_(newest))
                             .order_by(DriftResultRow.forge, DriftResultRow.repo,
                                       DriftResultRow.project)).all()
            return [_result(r) for r in rows]

    def state_counts(self) -> dict[str, int]:
        """Projects by the state of their newest result, every state present."""
        counts = {state.value: 0 for state in DriftState}
        for result in self.latest():
            counts[result.state.value] += 1
        return counts

    def known_repos(self) -> list[Repo]:
        """Every repository a pull request was seen on (its newest clone URL)."""
        newest = select(func.max(PullRow.id)).group_by(PullRow.forge, PullRow.repo)
        with self.db.session() as s:
            rows = s.execute(select(PullRow.forge, PullRow.repo, PullRow.clone_url)
                             .where(PullRow.id.in_(newest))
                             .order_by(PullRow.forge, PullRow.repo)).all()
            return [Repo(forge, repo, url) for forge, repo, url in rows]
