"""Policy verdicts per plan run, and owners' approvals of failing sets. An
approval names the head commit it was given on: a push leaves it behind."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select

from atlantis_py.domain.policies import PolicyApproval, PolicySetResult
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.policy_tables import PolicyApprovalRow, PolicyResultRow


class PolicyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, run_id: int, results: Sequence[PolicySetResult]) -> None:
        with self.db.session() as s:
            for r in results:
                s.add(PolicyResultRow(run_id=run_id, policy_set=r.name, passed=r.passed,
                                      denies=json.dumps(list(r.denies)),
                                      warnings=json.dumps(list(r.warnings)), error=r.error))

    def results(self, run_ids: Iterable[int]) -> dict[int, tuple[PolicySetResult, ...]]:
        """run id → its sets' verdicts, in the order they were checked."""
        ids = list(run_ids)
        if not ids:
            return {}
        found: dict[int, list[PolicySetResult]] = {}
        with self.db.session() as s:
            rows = s.scalars(select(PolicyResultRow).where(PolicyResultRow.run_id.in_(ids))
                             .order_by(PolicyResultRow.id)).all()
            for row in rows:
                found.setdefault(row.run_id, []).append(PolicySetResult(
                    name=row.policy_set, passed=row.passed,
                    denies=tuple(json.loads(row.denies or "[]")),
                    warnings=tuple(json.loads(row.warnings or "[]")), error=row.error))
        return {run_id: tuple(results) for run_id, results in found.items()}

    def result_counts(self) -> dict[str, int]:
        """Every verdict ever kept, per set and plan, by result: `passed`,
        `failed` (a deny) or `error` (the set could not be evaluated). Rows are
        never deleted, so these only grow (a Prometheus counter)."""
        counts = {"passed": 0, "failed": 0, "error": 0}
        with self.db.session() as s:
            rows = s.execute(select(PolicyResultRow.passed, PolicyResultRow.error.is_(None),
                                    func.count()).group_by(
                PolicyResultRow.passed, PolicyResultRow.error.is_(None))).all()
        for passed, no_error, n in rows:
            key = "passed" if passed else "failed" if no_error else "error"
            counts[key] += int(n)
        return counts

    def approve(self, pull_id: int, approval: PolicyApproval) -> None:
        with self.db.session() as s:
            s.add(PolicyApprovalRow(pull_id=pull_id, head_sha=approval.head_sha,
                                    run_id=approval.run_id, project=approval.project, policy_set=approval.policy_set,
                                    user=approval.user, at=utcnow()))

    def approvals(self, pull_id: int, head_sha: str) -> list[PolicyApproval]:
        """The approvals given on `head_sha`; those of older heads never count."""
        with self.db.session() as s:
            rows = s.scalars(select(PolicyApprovalRow).where(
                PolicyApprovalRow.pull_id == pull_id, PolicyApprovalRow.head_sha == head_sha)
                .order_by(PolicyApprovalRow.id)).all()
            return [PolicyApproval(project=r.project, policy_set=r.policy_set, user=r.user,
                                   head_sha=r.head_sha, run_id=r.run_id, at=r.at)
                    for r in rows]
