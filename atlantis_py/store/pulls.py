"""Pull requests (the IPR row) and their project runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select

from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.records import DeployRequest, IPRState, JobStatus, PullRecord, RunRecord
from atlantis_py.domain.results import PlanCounts, ProjectResult, ResourceChange, RunStatus
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import AuditRow, JobRow, PullRow, RunRow
from atlantis_py.store.wakeups import NOTIFY


def _pull(row: PullRow) -> PullRecord:
    return PullRecord(id=row.id, forge=row.forge, repo=row.repo, number=row.number,
                      author=row.author, head_sha=row.head_sha, head_ref=row.head_ref,
                      base_ref=row.base_ref, title=row.title, clone_url=row.clone_url,
                      state=IPRState(row.state), open=row.open,
                      description=row.description or "", base_config=row.base_config or "",
                      pending_since=row.pending_since, created_at=row.created_at,
                      updated_at=row.updated_at, opened_by=row.opened_by or "")


def _run(row: RunRow) -> RunRecord:
    counts = None
    if row.add is not None:
        counts = PlanCounts(add=row.add, change=row.change or 0, destroy=row.destroy or 0,
                            replace=row.replace or 0)
    return RunRecord(id=row.id, pull_id=row.pull_id, project=row.project, dir=row.dir,
                     workspace=row.workspace, command=row.command, head_sha=row.head_sha,
                     status=RunStatus(row.status), output=row.output, error=row.error, counts=counts,
                     plan_path=row.plan_path, actor=row.actor, finished_at=row.finished_at,
                     environment=row.environment or "default",
                     reasons=tuple(r for r in (row.reasons or "").split("\n") if r),
                     deleted=bool(row.deleted), source_sha=row.source_sha,
                     changes=_changes(row.changes))


def _changes(text: str | None) -> tuple[ResourceChange, ...]:
    """Stored compactly as [[address, action], ...]."""
    try:
        return tuple(ResourceChange(str(a), str(x)) for a, x in json.loads(text or "[]"))
    except (ValueError, TypeError):
        return ()


class PullStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def upsert(self, pull: PullRequest) -> PullRecord:
        """Record the pull request's latest facts; state is left to core.ipr."""
        with self.db.session() as s:
            row = s.scalars(select(PullRow).where(
                PullRow.forge == pull.repo.forge, PullRow.repo == pull.repo.full_name,
                PullRow.number == pull.number)).first()
            now = utcnow()
            if row is None:
                row = PullRow(forge=pull.repo.forge, repo=pull.repo.full_name,
                              number=pull.number, state=IPRState.PENDING.value, open=True,
                              created_at=now, pending_since=now, description="",
                              base_config="")
                s.add(row)
            row.author = pull.author or row.author or ""
            row.title = pull.title or row.title or ""
            row.head_sha = pull.head_sha
            row.head_ref = pull.head_ref
            row.base_ref = pull.base_ref
            row.clone_url = pull.repo.clone_url
            row.updated_at = now
            s.flush()
            return _pull(row)

    def get(self, forge: str, repo: str, number: int) -> PullRecord | None:
        with self.db.session() as s:
            row = s.scalars(select(PullRow).where(
                PullRow.forge == forge, PullRow.repo == repo, PullRow.number == number)).first()
            return None if row is None else _pull(row)

    def by_id(self, pull_id: int) -> PullRecord | None:
        with self.db.session() as s:
            row = s.get(PullRow, pull_id)
            return None if row is None else _pull(row)

    def set_state(self, pull_id: int, state: IPRState, *, open: bool | None = None) -> None:
        with self.db.session() as s:
            row = s.get(PullRow, pull_id)
            if row is None:
                return
            if state is IPRState.PENDING and row.state != IPRState.PENDING.value:
                row.pending_since = utcnow()
            elif state is not IPRState.PENDING:
                row.pending_since = None
            row.state = state.value
            if open is not None:
                row.open = open
            row.updated_at = utcnow()

    def transition(self, pull_id: int, target: IPRState, allowed_from: frozenset[IPRState], *,
                   actor: str, reason: str, project: str = "",
                   open: bool | None = None) -> tuple[IPRState, bool]:
        """Compare-and-set of the state plus its audit event, in one transaction.
        Returns (state before, whether it changed); refused when the stored state is
        not in `allowed_from`, whatever the caller last saw."""
        with self.db.session() as s:
            row = s.get(PullRow, pull_id, with_for_update=not self.db.is_sqlite)
            if row is None:
                raise LookupError(f"no pull request with id {pull_id}")
            before = IPRState(row.state)
            if before not in allowed_from:
                return before, False
            now = utcnow()
            if target is IPRState.PENDING and before is not IPRState.PENDING:
                row.pending_since = now
            elif target is not IPRState.PENDING:
                row.pending_since = None
            row.state = target.value
            if open is not None:
                row.open = open
            row.updated_at = now
            s.add(AuditRow(pull_id=row.id, forge=row.forge, repo=row.repo,
                           pull_number=row.number, actor=actor,
                           action=f"state:{target.value}", head_sha=row.head_sha,
                           project=project, at=now,
                           detail=f"{before.value} -> {target.value}: {reason}"))
            return before, True

    def request_deploy(self, pull_id: int, *, actor: str, kind: str, serial_key: str,
                       payload: str, deployable: frozenset[IPRState]) -> DeployRequest:
        """At most one deploy job per IPR, however many web processes or replicas are
        asked at once: decided under the IPR row's lock (SQLite transactions take the
        write lock up front; PostgreSQL locks the row), so each request sees the job
        an earlier one stored. The job of `kind` already queued or running for
        `serial_key` (or, while APPLYING, whichever job is applying it) is returned
        as it is; otherwise, when the state is in `deployable`, a new job is stored
        with its one `deploy:requested` audit event."""
        with self.db.session() as s:
            row = s.get(PullRow, pull_id, with_for_update=not self.db.is_sqlite)
            if row is None:
                raise LookupError(f"no pull request with id {pull_id}")
            state = IPRState(row.state)
            running = JobRow.status == JobStatus.RUNNING.value
            queued = JobRow.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
            ours = or_(running, (JobRow.kind == kind) & queued) \
                if state is IPRState.APPLYING else (JobRow.kind == kind) & queued
            existing = s.scalar(select(JobRow.id).where(JobRow.serial_key == serial_key, ours)
                                .order_by(JobRow.id).limit(1))
            if existing is not None:
                return DeployRequest(job_id=existing, created=False, state=state)
            if state not in deployable:
                return DeployRequest(job_id=None, created=False, state=state)
            now = utcnow()
            job = JobRow(kind=kind, serial_key=serial_key, payload=payload,
                         status=JobStatus.QUEUED.value, attempts=0, delivery_id="",
                         worker="", error="", created_at=now)
            s.add(job)
            s.flush()
            s.add(AuditRow(pull_id=row.id, forge=row.forge, repo=row.repo,
                           pull_number=row.number, actor=actor, action="deploy:requested",
                           head_sha=row.head_sha, project="", at=now, detail=f"job {job.id}"))
            if not self.db.is_sqlite:
                s.execute(NOTIFY)
            return DeployRequest(job_id=job.id, created=True, state=state)

    def set_details(self, pull_id: int, *, base_config: str | None = None,
                    description: str | None = None, opened_by: str | None = None) -> None:
        with self.db.session() as s:
            row = s.get(PullRow, pull_id)
            if row is None:
                return
            if opened_by is not None:
                row.opened_by = opened_by
            if base_config is not None:
                row.base_config = base_config
            if description is not None:
                row.description = description

    def search(self, *, state: IPRState | None = None, repo: str | None = None,
               offset: int = 0, limit: int = 50) -> tuple[list[PullRecord], int]:
        """A page of pull requests, newest first, and the total matching."""
        with self.db.session() as s:
            q = select(PullRow)
            if state is not None:
                q = q.where(PullRow.state == state.value)
            if repo:
                q = q.where(PullRow.repo == repo)
            total = int(s.scalar(select(func.count()).select_from(q.subquery())) or 0)
            rows = s.scalars(q.order_by(PullRow.id.desc()).offset(offset).limit(limit)).all()
            return [_pull(r) for r in rows], total

    def open_on(self, forge: str) -> list[PullRecord]:
        """The open pull requests of `forge` (the local forge's head check)."""
        with self.db.session() as s:
            rows = s.scalars(select(PullRow).where(PullRow.forge == forge,
                                                   PullRow.open.is_(True))).all()
            return [_pull(r) for r in rows]

    def pending_since_before(self, cutoff: datetime) -> list[PullRecord]:
        with self.db.session() as s:
            rows = s.scalars(select(PullRow).where(
                PullRow.state == IPRState.PENDING.value, PullRow.open.is_(True),
                PullRow.pending_since < cutoff)).all()
            return [_pull(r) for r in rows]

    def state_counts(self) -> dict[str, int]:
        with self.db.session() as s:
            rows = s.execute(select(PullRow.state, func.count()).group_by(PullRow.state)).all()
            return {str(state): int(n) for state, n in rows}

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count(PullRow.id))) or 0)

    def start_run(self, pull_id: int, project: str, dir: str, workspace: str, command: str,
                  head_sha: str, actor: str, plan_path: str = "",
                  environment: str = "default", *, reasons: Sequence[str] = (),
                  deleted: bool = False, source_sha: str | None = None) -> int:
        """A run row written before terraform starts, so a crash leaves a trace.
        A `deleted` project's plan was made in a checkout of `source_sha`,
        where its apply must run too."""
        with self.db.session() as s:
            row = RunRow(pull_id=pull_id, project=project, dir=dir, workspace=workspace,
                         command=command, head_sha=head_sha, status=RunStatus.RUNNING.value, output="",
                         error=None, plan_path=plan_path, actor=actor, started_at=utcnow(),
                         environment=environment,
                         reasons="\n".join(r.replace("\n", " ") for r in reasons),
                         deleted=deleted, source_sha=source_sha)
            s.add(row)
            s.flush()
            return row.id

    def finish_run(self, run_id: int, result: ProjectResult) -> None:
        with self.db.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                return
            row.status = result.status.value
            row.output = result.output
            row.error = result.error
            if result.counts is not None:
                row.add = result.counts.add
                row.change = result.counts.change
                row.destroy = result.counts.destroy
                row.replace = result.counts.replace
            if result.changes:
                row.changes = json.dumps([[c.address, c.action] for c in result.changes],
                                         separators=(",", ":"))
            row.finished_at = utcnow()

    def interrupt_runs(self, pull_id: int, command: str) -> list[RunRecord]:
        """Mark runs left 'running' by a crashed worker as interrupted."""
        with self.db.session() as s:
            rows = s.scalars(select(RunRow).where(
                RunRow.pull_id == pull_id, RunRow.command == command,
                RunRow.status == RunStatus.RUNNING.value)).all()
            for row in rows:
                row.status = RunStatus.INTERRUPTED.value
                row.error = "the worker stopped while this was running"
                row.finished_at = utcnow()
            return [_run(r) for r in rows]

    def runs(self, pull_id: int, command: str | None = None) -> list[RunRecord]:
        with self.db.session() as s:
            q = select(RunRow).where(RunRow.pull_id == pull_id)
            if command:
                q = q.where(RunRow.command == command)
            return [_run(r) for r in s.scalars(q.order_by(RunRow.id)).all()]

    def latest_runs(self, pull_id: int, command: str
                    ) -> dict[tuple[str, str, str], RunRecord]:
        """The newest run per (dir, workspace, project) for a command. Several
        projects may share a dir and workspace; of those, only runs at the
        commit of the dir's newest run count, so a project renamed by a push
        leaves no run of its old name behind."""
        latest: dict[tuple[str, str, str], RunRecord] = {}
        newest: dict[tuple[str, str], str] = {}
        for run in self.runs(pull_id, command):
            latest[(run.dir, run.workspace, run.project)] = run
            newest[(run.dir, run.workspace)] = run.head_sha
        return {key: run for key, run in latest.items()
                if run.head_sha == newest[(run.dir, run.workspace)]}
