"""The approval gate's inputs, gathered once: every review, the rules (from the
rules branch, never the pull request's base), the plans, the clock, team
membership, who has write access and, at apply, whether the forge would merge
and whether the branch is behind its base; the verdicts come from core."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from atlantis_py.core.approvals import (
    ApplyVerdict,
    Facts,
    bound,
    check_apply,
    resolve_members,
    resolve_writers,
)
from atlantis_py.core.requirements import base_branch_refusal
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import Mergeability, Review
from atlantis_py.domain.projects import Environment, Project, RepoConfig
from atlantis_py.domain.records import PullRecord, RunRecord
from atlantis_py.domain.results import PlanCounts, RunStatus
from atlantis_py.flows.access import can_approve
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


def environment(svc: Services, rules: RepoConfig, name: str) -> Environment:
    """The rules branch's rules for `name`, bounded by the server's limits."""
    return bound(rules.environment_for(Project(name="", dir=".", environment=name)), svc.limits)


def base_refusal(svc: Services, base_ref: str) -> str | None:
    """Why nothing is applied into `base_ref` (--apply-base-branches), if so."""
    return base_branch_refusal(base_ref, svc.apply_base_branches)


def verdicts(svc: Services, record: PullRecord, rules: RepoConfig, plans: Sequence[RunRecord],
             reviews: Sequence[Review], *, requester: str | None = None,
             applying: PullRequest | None = None,
             environments: Sequence[str] = ()) -> list[EnvVerdict]:
    """One verdict per environment the plans belong to (and each one named in
    `environments`, e.g. an import's), in name order. When `applying` (its
    mirror just fetched), the environments' `mergeable` and `undiverged`
    requirements are checked too, each asked at most once."""
    forge = svc.forges[record.forge]
    now = svc.clock()
    users = [r.user for r in reviews] + ([requester] if requester else [])
    writers = resolve_writers(reviews, lambda user: can_approve(forge, record.repo, user))
    mergeable, behind = _apply_checks(svc, applying)
    out = []
    for name in sorted({r.environment for r in plans} | set(environments)):
        env = environment(svc, rules, name)
        counts: dict[str, PlanCounts] = {r.project: r.counts for r in plans
                                         if r.environment == name and r.counts is not None}
        wants = env.apply_requirements
        facts = Facts(author=record.author, opened_by=record.opened_by,
                      head_sha=record.head_sha, now=now,
                      reviews=tuple(reviews), plans=counts,
                      members=resolve_members(env, users, forge.in_team), requester=requester,
                      repo=record.repo, writers=writers, base_ref=record.base_ref,
                      mergeable=mergeable() if mergeable and "mergeable" in wants else None,
                      behind=behind() if behind and "undiverged" in wants else None)
        out.append(EnvVerdict(env, check_apply(env, facts)))
    return out


def _apply_checks(svc: Services, pull: PullRequest | None
                  ) -> tuple[Callable[[], Mergeability] | None, Callable[[], int] | None]:
    """Lazy, remembered lookups of the forge's mergeability and of how many
    commits of the base branch the head lacks (git, in the mirror)."""
    if pull is None:
        return None, None

    @cache
    def mergeable() -> Mergeability:
        return svc.forges[pull.repo.forge].mergeable(pull.repo.full_name, pull.number)

    @cache
    def behind() -> int:
        return svc.workspaces.commits_behind(pull.repo, pull.base_ref, pull.head_sha)

    return mergeable, behind
