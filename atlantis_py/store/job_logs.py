"""Jobs' live logs: lines appended in batches by the worker running the job, read
after a cursor by any replica's console. Bounded per job (the last MAX_LINES,
each at most MAX_LINE characters) and forgotten with the job (JobStore.prune)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update

from atlantis_py.domain.jobs import LogLine
from atlantis_py.store.db import Database
from atlantis_py.store.tables import JobLogRow, JobRow

MAX_LINES = 5000
MAX_LINE = 2000
_INSERT = insert(JobLogRow.__table__)  # type: ignore[arg-type]


class JobLogStore:
    def __init__(self, db: Database, max_lines: int = MAX_LINES) -> None:
        self.db = db
        self.max_lines = max_lines

    def append(self, job_id: int, lines: Sequence[str]) -> None:
        """One transaction per batch; the job's oldest lines go past `max_lines`."""
        if not lines:
            return
        with self.db.session() as s:
            s.execute(_INSERT, [{"job_id": job_id, "line": _cut(line)}
                                for line in lines[-self.max_lines:]])
            oldest_kept = s.scalar(select(JobLogRow.id).where(JobLogRow.job_id == job_id)
                                   .order_by(JobLogRow.id.desc())
                                   .offset(self.max_lines - 1).limit(1))
            if oldest_kept is not None:
                s.execute(delete(JobLogRow).where(JobLogRow.job_id == job_id,
                                                  JobLogRow.id < oldest_kept))

    def set_projects(self, job_id: int, projects: Sequence[str]) -> None:
        with self.db.session() as s:
            s.execute(update(JobRow).where(JobRow.id == job_id)
                      .values(projects="\n".join(projects)[:10000]))

    def lines_after(self, job_id: int, after: int, limit: int = 500) -> list[LogLine]:
        with self.db.session() as s:
            rows = s.execute(select(JobLogRow.id, JobLogRow.line)
                             .where(JobLogRow.job_id == job_id, JobLogRow.id > after)
                             .order_by(JobLogRow.id).limit(limit)).all()
            return [LogLine(row_id, line) for row_id, line in rows]

    def tail(self, job_id: int, limit: int = MAX_LINES) -> list[LogLine]:
        """The job's last `limit` lines, oldest first."""
        with self.db.session() as s:
            rows = s.execute(select(JobLogRow.id, JobLogRow.line)
                             .where(JobLogRow.job_id == job_id)
                             .order_by(JobLogRow.id.desc()).limit(limit)).all()
            return [LogLine(row_id, line) for row_id, line in reversed(rows)]


def _cut(line: str) -> str:
    return line if len(line) <= MAX_LINE else line[:MAX_LINE] + " [line cut]"
