"""Approval policy: pure functions over facts (reviews, author, head SHA).

Kept free of I/O so every rule is a table-driven test, and so the same
decision is made whichever path (comment, API) asks for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.domain.projects import Environment


@dataclass(frozen=True)
class NotCounted:
    user: str
    commit_sha: str
    reason: str


@dataclass(frozen=True)
class ApprovalDecision:
    environment: str
    required: int
    counted: tuple[tuple[str, str], ...]  # (user, commit sha)
    not_counted: tuple[NotCounted, ...]
    rejected_by: tuple[str, ...]

    @property
    def missing(self) -> int:
        return max(0, self.required - len(self.counted))

    @property
    def ok(self) -> bool:
        return self.missing == 0 and not self.rejected_by


def latest_reviews(reviews: Sequence[Review]) -> dict[str, Review]:
    """Each reviewer's newest review that carries a verdict; comments don't change it."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state is ReviewState.COMMENTED:
            continue
        latest[review.user.lower()] = review
    return latest


def evaluate(env: Environment, reviews: Sequence[Review], *, author: str,
             head_sha: str) -> ApprovalDecision:
    """Which approvals count for `env` on `head_sha`, and whether that is enough."""
    counted: list[tuple[str, str]] = []
    skipped: list[NotCounted] = []
    rejected: list[str] = []
    allowed = {a.lower() for a in env.approvers if "/" not in a}
    for user, review in latest_reviews(reviews).items():
        name = review.user
        if review.state is ReviewState.CHANGES_REQUESTED:
            rejected.append(name)
            continue
        if review.state is not ReviewState.APPROVED:
            continue
        if user == author.lower():
            skipped.append(NotCounted(name, review.commit_sha,
                                      "the author cannot approve their own pull request"))
        elif review.commit_sha != head_sha:
            skipped.append(NotCounted(name, review.commit_sha,
                                      "approved an older commit"))
        elif env.approvers and user not in allowed:
            skipped.append(NotCounted(name, review.commit_sha,
                                      f"not an approver for {env.name}"))
        else:
            counted.append((name, review.commit_sha))
    return ApprovalDecision(environment=env.name, required=env.required_approvals,
                            counted=tuple(counted), not_counted=tuple(skipped),
                            rejected_by=tuple(rejected))
