"""Reading the job tables directly, for assertions; the package itself never
needs to list every job or count deliveries."""

from __future__ import annotations

from sqlalchemy import func, select

from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.store.db import Database
from atlantis_py.store.tables import DeliveryRow, JobRow


def all_jobs(db: Database) -> list[Job]:
    with db.session() as s:
        return [Job(id=r.id, kind=r.kind, serial_key=r.serial_key, payload=r.payload,
                    attempts=r.attempts, status=JobStatus(r.status), delivery_id=r.delivery_id)
                for r in s.scalars(select(JobRow).order_by(JobRow.id)).all()]


def count_deliveries(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(DeliveryRow)) or 0)
