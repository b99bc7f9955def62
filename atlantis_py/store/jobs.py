"""The durable jobs table: accept (with delivery dedupe), claim, finish, recover."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ScalarSelect, Select, delete, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.errors import DatabaseUnavailable
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import DeliveryRow, JobLogRow, JobRow, JournalRow
from atlantis_py.store.wakeups import NOTIFY

_INSERT_DELIVERY = insert(DeliveryRow.__table__)  # type: ignore[arg-type]
_INSERT_JOB = insert(JobRow.__table__)  # type: ignore[arg-type]
CLAIM_KEYS = 414141  # the advisory-lock namespace of serial keys (two-int4 key space)
_TRY_KEY_LOCK = text(f"SELECT pg_try_advisory_xact_lock({CLAIM_KEYS}, hashtext(:key))")
CLAIM_CANDIDATES = 16  # keys a claim tries before it reports nothing claimable
CLAIM_HOLD_LIMIT = timedelta(seconds=5)
CONTENDED_RECHECK = 1.0  # seconds until a claim looks again at keys it found locked


def _job(row: JobRow) -> Job:
    return Job(id=row.id, kind=row.kind, serial_key=row.serial_key, payload=row.payload,
               attempts=row.attempts, status=JobStatus(row.status),
               delivery_id=row.delivery_id, retry_since=row.retry_since)


class JobStore:
    def __init__(self, db: Database, hold_limit: timedelta = CLAIM_HOLD_LIMIT) -> None:
        """`hold_limit` bounds how long a claim transaction may sit idle holding its
        key's lock (PostgreSQL). `inside_claim` is a test seam: called with the key
        of a job marked running before that commits, to freeze a claim midway."""
        self.db = db
        self.hold_limit = hold_limit
        self.inside_claim: Callable[[str], None] | None = None
        self._claiming = threading.Lock()
        self._look_again: float | None = None  # monotonic time; see next_due_in

    def accept_delivery(self, forge: str, delivery_id: str, event_type: str,
                        job_kind: str | None, serial_key: str, payload: str) -> bool:
        """Store the delivery and (if any) its job in one transaction.
        False when the delivery id was seen before: nothing new is stored;
        DatabaseUnavailable when it could not be stored at all.
        Core inserts, not ORM objects: this runs once per acknowledged webhook,
        and the unit of work cost more than the rest of the request."""
        now = utcnow()
        try:
            with self.db.connection() as conn:
                conn.execute(_INSERT_DELIVERY, {"forge": forge, "delivery_id": delivery_id,
                                                "event_type": event_type, "received_at": now})
                if job_kind is not None:
                    conn.execute(_INSERT_JOB, {
                        "kind": job_kind, "serial_key": serial_key, "payload": payload,
                        "status": JobStatus.QUEUED.value, "attempts": 0,
                        "delivery_id": delivery_id, "worker": "", "error": "",
                        "created_at": now})
                    self._announce(conn)
        except IntegrityError:
            return False
        except SQLAlchemyError as err:
            raise DatabaseUnavailable(f"the database did not store delivery {delivery_id}: "
                                      f"{type(err).__name__}") from err
        return True

    def enqueue(self, kind: str, serial_key: str, payload: str) -> int:
        with self.db.session() as s:
            row = JobRow(kind=kind, serial_key=serial_key, payload=payload,
                         status=JobStatus.QUEUED.value, attempts=0, delivery_id="",
                         worker="", error="", created_at=utcnow())
            s.add(row)
            s.flush()
            self._announce(s)
            return row.id

    def _announce(self, s: Session | Connection) -> None:
        """On PostgreSQL, wake every replica's listening workers when this commits."""
        if not self.db.is_sqlite:
            s.execute(NOTIFY)

    def claim(self, worker: str, lease: timedelta) -> Job | None:
        """The oldest queued job whose serial key has nothing running, marked running.
        Jobs of one pull request never run at the same time, and run in order."""
        with self._claiming:
            if self.db.is_sqlite:
                return self._claim_sqlite(worker, lease)
            return self._claim_pg(worker, lease)

    def _claimable(self, now: datetime) -> Select[int, str]:
        """Each claimable serial key with its oldest queued job, oldest first. A job
        waiting to retry (`not_before` ahead) holds back its key's later jobs too,
        so a pull request's jobs still run in order."""
        running = select(JobRow.serial_key).where(JobRow.status == JobStatus.RUNNING.value)
        waiting = select(JobRow.serial_key).where(JobRow.status == JobStatus.QUEUED.value,
                                                  JobRow.not_before > now)
        first = func.min(JobRow.id)
        return (select(first, JobRow.serial_key)
                .where(JobRow.status == JobStatus.QUEUED.value,
                       JobRow.serial_key.not_in(running),
                       JobRow.serial_key.not_in(waiting))
                .group_by(JobRow.serial_key).order_by(first))

    def _mark_running(self, s: Session, job_id: int | ScalarSelect[int], worker: str,
                      lease: timedelta, now: datetime) -> Job | None:
        row = s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.RUNNING.value, worker=worker,
                    attempts=JobRow.attempts + 1, started_at=now, lease_until=now + lease)
            .returning(JobRow.id, JobRow.kind, JobRow.serial_key, JobRow.payload,
                       JobRow.attempts, JobRow.delivery_id, JobRow.retry_since)).first()
        if row is None:
            return None
        return Job(id=row.id, kind=row.kind, serial_key=row.serial_key, payload=row.payload,
                   attempts=row.attempts, status=JobStatus.RUNNING,
                   delivery_id=row.delivery_id, retry_since=row.retry_since)

    def _claim_sqlite(self, worker: str, lease: timedelta) -> Job | None:
        """One UPDATE … WHERE id = (oldest claimable) RETURNING: atomic under SQLite's
        write lock (BEGIN IMMEDIATE), across threads and processes alike."""
        now = utcnow()
        running = select(JobRow.serial_key).where(JobRow.status == JobStatus.RUNNING.value)
        waiting = select(JobRow.serial_key).where(JobRow.status == JobStatus.QUEUED.value,
                                                  JobRow.not_before > now)
        oldest = (select(JobRow.id)
                  .where(JobRow.status == JobStatus.QUEUED.value,
                         JobRow.serial_key.not_in(running),
                         JobRow.serial_key.not_in(waiting))
                  .order_by(JobRow.id).limit(1))
        with self.db.session() as s:
            return self._mark_running(s, oldest.scalar_subquery(), worker, lease, now)

    def _claim_pg(self, worker: str, lease: timedelta) -> Job | None:
        """Claims serialise per serial key, never for the whole queue: for each
        candidate key (oldest job first) try its advisory lock and skip the key when
        another claimer holds it; inside the lock check again, on committed rows,
        that nothing of that key runs or waits and that the candidate is still the
        key's oldest queued job (a candidate list read before another replica's claim
        committed may be stale), then claim it. The lock goes with the transaction.
        A claimer frozen mid-claim (SIGSTOP, a stalled VM) holds up only its key,
        and only for `hold_limit`: PostgreSQL then ends its session, rolling back."""
        now = utcnow()
        limit_ms = max(1, int(self.hold_limit.total_seconds() * 1000))
        with self.db.session() as s:
            s.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {limit_ms}"))
            s.execute(text(f"SET LOCAL lock_timeout = {limit_ms}"))
            candidates = s.execute(self._claimable(now).limit(CLAIM_CANDIDATES)).all()
            for job_id, key in candidates:
                if not s.execute(_TRY_KEY_LOCK, {"key": key}).scalar():
                    # another claimer is claiming a job of this key; should its claim
                    # be rolled back (it froze), nothing would announce the job again
                    self._look_again = time.monotonic() + CONTENDED_RECHECK
                    continue
                oldest = s.execute(self._claimable(utcnow()).where(
                    JobRow.serial_key == key)).first()
                if oldest is None or oldest[0] != job_id:
                    continue
                job = self._mark_running(s, job_id, worker, lease, now)
                if job is not None:
                    if self.inside_claim is not None:
                        self.inside_claim(key)
                    return job
            return None

    def renew(self, job_ids: list[int], lease: timedelta) -> None:
        if not job_ids:
            return
        with self.db.session() as s:
            s.execute(update(JobRow).where(JobRow.id.in_(job_ids))
                      .values(lease_until=utcnow() + lease))

    def finish(self, job_id: int, status: JobStatus, error: str = "") -> None:
        with self.db.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(
                status=status.value, error=error[:10000], finished_at=utcnow(),
                lease_until=None))

    def retry_later(self, job_id: int, not_before: datetime, since: datetime,
                    error: str = "") -> None:
        """Queue the job again, to be claimed from `not_before` (naive UTC) on;
        `since` is when its retries began (kept from the first one)."""
        with self.db.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(
                status=JobStatus.QUEUED.value, worker="", lease_until=None,
                not_before=not_before, retry_since=func.coalesce(JobRow.retry_since, since),
                error=error[:10000]))

    def next_due_in(self) -> float | None:
        """Seconds until the earliest waiting retry may be claimed, or until keys a
        claim found locked by another claimer are looked at again; None when
        neither waits."""
        now = utcnow()
        with self.db.session() as s:
            due = s.scalar(select(func.min(JobRow.not_before)).where(
                JobRow.status == JobStatus.QUEUED.value, JobRow.not_before > now))
        waits = [] if due is None else [max(0.0, (due - now).total_seconds())]
        again, self._look_again = self._look_again, None
        if again is not None:
            waits.append(max(0.0, again - time.monotonic()))
        return min(waits, default=None)

    def expired(self) -> list[Job]:
        """Running jobs whose worker stopped renewing: it died mid-job."""
        with self.db.session() as s:
            rows = s.scalars(select(JobRow).where(
                JobRow.status == JobStatus.RUNNING.value,
                JobRow.lease_until < utcnow())).all()
            return [_job(r) for r in rows]

    def running(self) -> list[tuple[Job, str]]:
        """Running jobs with the id of the worker that claimed them."""
        with self.db.session() as s:
            rows = s.scalars(select(JobRow).where(
                JobRow.status == JobStatus.RUNNING.value)).all()
            return [(_job(r), r.worker) for r in rows]

    def requeue(self, job_id: int) -> None:
        with self.db.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id).values(
                status=JobStatus.QUEUED.value, worker="", lease_until=None))
            self._announce(s)

    def prune(self, older_than: timedelta) -> int:
        """Forget finished jobs (and their journals and logs) and seen delivery ids
        older than `older_than`; the audit log, not the queue, is the lasting
        record. Returns rows removed."""
        cutoff = utcnow() - older_than
        finished = [JobStatus.DONE.value, JobStatus.FAILED.value, JobStatus.INTERRUPTED.value]
        with self.db.session() as s:
            s.execute(delete(JobLogRow).where(JobLogRow.job_id.in_(
                select(JobRow.id).where(JobRow.status.in_(finished),
                                        JobRow.finished_at < cutoff))))
            jobs = s.execute(delete(JobRow).where(JobRow.status.in_(finished),
                                                  JobRow.finished_at < cutoff))
            seen = s.execute(delete(DeliveryRow).where(DeliveryRow.received_at < cutoff))
            s.execute(delete(JournalRow).where(JournalRow.job_id.not_in(select(JobRow.id))))
            return int(getattr(jobs, "rowcount", 0) or 0) + int(getattr(seen, "rowcount", 0) or 0)

    def status_counts(self) -> dict[str, int]:
        with self.db.session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
            return {str(status): int(n) for status, n in rows}

    def reachable(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            with self.db.session() as s:
                s.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def pending_count(self) -> int:
        with self.db.session() as s:
            rows = s.scalars(select(JobRow.id).where(JobRow.status.in_(
                [JobStatus.QUEUED.value, JobStatus.RUNNING.value]))).all()
            return len(rows)
