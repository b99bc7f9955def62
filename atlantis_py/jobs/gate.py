"""The approval gate's inputs, gathered once: every review, the base rules, the plans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from atlantis_py.core.approvals import ApprovalDecision, evaluate
from atlantis_py.domain.forge import Review
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import PullRecord, RunRecord
from atlantis_py.domain.results import RunStatus
from atlantis_py.jobs.services import Services


def all_reviews(svc: Services, record: PullRecord) -> list[Review]:
    """Forge reviews and API/CLI reviews in time order, so the newest verdict of each
    reviewer wins whichever way it was given."""
    forge = svc.forges[record.forge].reviews(record.repo, record.number)
    given = svc.reviews.list(record.id)
    merged = [*forge, *given]
    merged.sort(key=_when)
    return merged


def _when(review: Review) -> datetime:
    """Naive UTC for ordering: the forge gives aware times, the store naive UTC."""
    at = review.submitted_at
    if at is None:
        return datetime.min
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at


def current_plans(svc: Services, record: PullRecord) -> list[RunRecord]:
    """Successful plans of the current head, newest per project."""
    return [r for r in svc.pulls.latest_runs(record.id, "plan").values()
            if r.head_sha == record.head_sha and r.status == RunStatus.SUCCESS.value]


def decisions(base: RepoConfig, plans: Sequence[RunRecord], reviews: Sequence[Review], *,
              author: str, head_sha: str) -> list[ApprovalDecision]:
    """One decision per environment the plans belong to, in name order."""
    out = []
    for name in sorted({r.environment for r in plans}):
        env = base.environment_for(Project(name="", dir=".", environment=name))
        out.append(evaluate(env, reviews, author=author, head_sha=head_sha))
    return out

