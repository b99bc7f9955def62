"""Compatibility layer for the first cut of the approval policy.

The policy now lives in core/policy.py as pure functions over `Facts`; this
module keeps the old `evaluate(env, reviews, author=, head_sha=)` call working
until its callers pass Facts (with the clock, plan counts and team members).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from atlantis_py.core.policy import (
    ApprovalDecision,
    Facts,
    NotCounted,
    evaluate_approval,
    latest_reviews,
)
from atlantis_py.domain.forge import Review
from atlantis_py.domain.projects import Environment

__all__ = ["ApprovalDecision", "NotCounted", "evaluate", "latest_reviews"]


def evaluate(env: Environment, reviews: Sequence[Review], *, author: str, head_sha: str,
             now: datetime | None = None) -> ApprovalDecision:
    """evaluate_approval without plan counts or team members: teams match no one,
    destroy rules do not apply, and the clock is read here when not given."""
    facts = Facts(author=author, head_sha=head_sha, now=now or datetime.now(UTC),
                  reviews=tuple(reviews))
    return evaluate_approval(env, facts)
