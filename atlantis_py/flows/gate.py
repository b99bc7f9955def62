"""The approval gate's inputs, gathered once: every review, the base rules, the
plans, the clock and team membership; the verdicts come from core.policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from atlantis_py.core.approvals import ApplyVerdict, Facts, bound, check_apply, resolve_members
from atlantis_py.domain.forge import Review
from atlantis_py.domain.projects import Environment, Project, RepoConfig
from atlantis_py.domain.records import PullRecord, RunRecord
from atlantis_py.domain.results import PlanCounts, RunStatus
from atlantis_py.flows.services import Services


@dataclass(frozen=True)
class EnvVerdict:
    environment: Environment
    verdict: ApplyVerdict


def all_reviews(svc: Services, record: PullRecord) -> list[Review]:
    """Forge reviews and API/CLI reviews in time order, so the newest verdict of each
    reviewer wins whichever way it was given."""
    merged = [*svc.forges[record.forge].reviews(record.repo, record.number),
              *svc.reviews.list(record.id)]
    merged.sort(key=_when)
    return merged


def _when(review: Review) -> datetime:
    """Aware UTC for ordering: the forge gives aware times, the store naive UTC."""
    at = review.submitted_at
    if at is None:
        return datetime.min.replace(tzinfo=UTC)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def current_plans(svc: Services, record: PullRecord) -> list[RunRecord]:
    """Successful plans of the current head, newest per project."""
    return [r for r in svc.pulls.latest_runs(record.id, "plan").values()
            if r.head_sha == record.head_sha and r.status is RunStatus.SUCCESS]


def environment(svc: Services, base: RepoConfig, name: str) -> Environment:
    """The base branch's rules for `name`, bounded by the server's limits."""
    return bound(base.environment_for(Project(name="", dir=".", environment=name)), svc.limits)


def verdicts(svc: Services, record: PullRecord, base: RepoConfig, plans: Sequence[RunRecord],
             reviews: Sequence[Review], *, requester: str | None = None) -> list[EnvVerdict]:
    """One verdict per environment the plans belong to, in name order."""
    forge = svc.forges[record.forge]
    now = svc.clock()
    users = [r.user for r in reviews] + ([requester] if requester else [])
    out = []
    for name in sorted({r.environment for r in plans}):
        env = environment(svc, base, name)
        counts: dict[str, PlanCounts] = {r.project: r.counts for r in plans
                                         if r.environment == name and r.counts is not None}
        facts = Facts(author=record.author, head_sha=record.head_sha, now=now,
                      reviews=tuple(reviews), plans=counts,
                      members=resolve_members(env, users, forge.in_team), requester=requester)
        out.append(EnvVerdict(env, check_apply(env, facts)))
    return out
