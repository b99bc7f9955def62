"""Approval policy: pure decisions over a frozen set of facts.

Everything the decision depends on (reviews, author, head SHA, plan counts,
the clock, team membership, who has write access, who asked, and at apply
time whether the forge would merge and whether the branch is behind its base)
arrives in `Facts`, resolved by the caller beforehand. That keeps every rule a
table-driven test, and makes the same decision whichever path (comment, API,
background check) asks.
Refusals are sentences for the pull request: each names what is missing.
The server's limits (approval_limits), who the policy names (approvers) and
deadlines are beside this module; their names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from atlantis_py.core.approval_limits import PolicyLimits, bound
from atlantis_py.core.approvers import (
    approver_entries,
    approving_users,
    eligible_approvers,
    latest_reviews,
    named,
    people,
    policy_teams,
    resolve_members,
    resolve_writers,
)
from atlantis_py.core.deadlines import (
    EXPIRED,
    deadline_passed,
    expiry_notice,
    format_opening,
    next_window_opening,
    review_deadline_at,
)
from atlantis_py.core.requirements import mergeable_refusal, undiverged_refusal
from atlantis_py.domain.forge import Mergeability, Review, ReviewState
from atlantis_py.domain.projects import Environment
from atlantis_py.domain.results import PlanCounts
from atlantis_py.domain.rules import format_duration


@dataclass(frozen=True)
class Facts:
    """What is known when a decision is asked for. `members` maps "org/team"
    to its users (only the teams and users the policy names need resolving;
    see resolve_members). `writers` are the approving reviewers with write
    access to `repo` (see resolve_writers): anyone else's approval does not
    count, so it is empty unless the caller looked. `requester` is who
    commented apply, None when no one asked (e.g. a status check).

    `mergeable` and `behind` (commits of `base_ref` the pull request's branch
    lacks) are only known at apply time, and only asked for when an
    environment's apply_requirements name them; None means not asked."""

    author: str
    head_sha: str
    now: datetime
    reviews: tuple[Review, ...] = ()
    plans: Mapping[str, PlanCounts] = field(default_factory=dict)
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    requester: str | None = None
    repo: str = ""
    writers: frozenset[str] = frozenset()
    base_ref: str = ""
    mergeable: Mergeability | None = None
    behind: int | None = None
    opened_by: str = ""  # who opened it through the API: an author too

    def authored_by(self, user: str) -> bool:
        return user.lower() in (self.author.lower(), self.opened_by.lower() or self.author.lower())

    def __post_init__(self) -> None:
        if self.now.utcoffset() is None:
            raise ValueError("Facts.now must be timezone-aware")

    @property
    def destroying(self) -> tuple[str, ...]:
        """Projects whose plan deletes or replaces resources."""
        return tuple(sorted(n for n, c in self.plans.items() if c.destroy or c.replace))


@dataclass(frozen=True)
class NotCounted:
    user: str
    commit_sha: str
    reason: str


@dataclass(frozen=True)
class ApprovalDecision:
    """Which approvals count. `required` already includes the destroy rule;
    `destroy_approvers_missing` lists the named destroy approvers when none of
    them approved (one is enough). When the environment does not require
    `approved`, `required` is 0 and nothing is rejected: reviews are listed
    but decide nothing."""

    environment: str
    required: int
    counted: tuple[tuple[str, str], ...]  # (user, commit sha)
    not_counted: tuple[NotCounted, ...]
    rejected_by: tuple[str, ...]
    destroying: tuple[str, ...] = ()
    destroy_approvers_missing: tuple[str, ...] = ()

    @property
    def missing(self) -> int:
        return max(0, self.required - len(self.counted))

    @property
    def ok(self) -> bool:
        return self.missing == 0 and not self.rejected_by and not self.destroy_approvers_missing


@dataclass(frozen=True)
class ApplyVerdict:
    decision: ApprovalDecision
    refusals: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.refusals


def evaluate_approval(env: Environment, facts: Facts) -> ApprovalDecision:
    """Which approvals count for `env` on the head commit, and whether that is enough."""
    destroying = facts.destroying
    rule = env.destroy_requires if destroying else None
    required = env.required_approvals
    if rule is not None and rule.required_approvals is not None:
        required = max(required, rule.required_approvals)
    allowed = approver_entries(env, bool(destroying))
    counted: list[tuple[str, str]] = []
    skipped: list[NotCounted] = []
    rejected: list[str] = []
    for review in latest_reviews(facts.reviews).values():
        if review.state is ReviewState.CHANGES_REQUESTED:
            rejected.append(review.user)
        elif review.state is ReviewState.APPROVED:
            reason = _not_counted_reason(env, facts, review, allowed)
            if reason is None:
                counted.append((review.user, review.commit_sha))
            else:
                skipped.append(NotCounted(review.user, review.commit_sha, reason))
    destroy_missing: tuple[str, ...] = ()
    if rule is not None and rule.approvers and not any(
            named(user, rule.approvers, facts.members) for user, _ in counted):
        destroy_missing = rule.approvers
    if "approved" not in env.apply_requirements:
        required, rejected, destroy_missing = 0, [], ()
    return ApprovalDecision(environment=env.name, required=required, counted=tuple(counted),
                            not_counted=tuple(skipped), rejected_by=tuple(rejected),
                            destroying=destroying, destroy_approvers_missing=destroy_missing)


def _not_counted_reason(env: Environment, facts: Facts, review: Review,
                        allowed: tuple[str, ...]) -> str | None:
    if review.user.lower() not in {w.lower() for w in facts.writers}:
        return f"has no write access to {facts.repo or 'the repository'}"
    if facts.authored_by(review.user) and not env.allow_self_approval:
        return "the author cannot approve their own pull request"
    if review.commit_sha != facts.head_sha:
        return "approved an older commit"
    if env.approval_ttl is not None:
        ttl = format_duration(env.approval_ttl)
        if review.submitted_at is None:
            return f"expired: its time is unknown, so it cannot be checked against {ttl}"
        age = facts.now - review.submitted_at
        if age > env.approval_ttl:
            return f"expired: given {format_duration(age)} ago, approvals count for {ttl}"
    if allowed and not named(review.user, allowed, facts.members):
        return f"not an approver for {env.name}"
    return None


def check_apply(env: Environment, facts: Facts) -> ApplyVerdict:
    """Whether `facts.requester` may apply now; every unmet rule becomes one refusal."""
    decision = evaluate_approval(env, facts)
    refusals: list[str] = []
    requester = facts.requester
    if requester is not None and not may_apply(env, facts):
        allowed = (people(env.appliers, "and") if env.appliers
                   else "the approvers and the author")
        refusals.append(f"{requester} may not apply: allowed are {allowed}")
    refusals.extend(f"changes requested by {user}: apply is blocked until {user} approves "
                    "or the review is dismissed" for user in decision.rejected_by)
    if decision.missing:
        refusals.append(_missing_text(env, facts, decision))
    if decision.destroy_approvers_missing:
        refusals.append(f"the plan destroys or replaces resources "
                        f"({', '.join(decision.destroying)}): needs an approval from "
                        f"{people(decision.destroy_approvers_missing, 'or')}")
    window = env.apply_window
    if window is not None and not window.is_open(facts.now):
        refusals.append(f"outside the apply window {window.describe()}; next opening "
                        f"{format_opening(next_window_opening(window, facts.now))}")
    if "mergeable" in env.apply_requirements and facts.mergeable is not None:
        refusals.extend(_some(mergeable_refusal(facts.mergeable)))
    if "undiverged" in env.apply_requirements and facts.behind is not None:
        refusals.extend(_some(undiverged_refusal(facts.behind, facts.base_ref)))
    return ApplyVerdict(decision=decision, refusals=tuple(refusals))


def _some(refusal: str | None) -> tuple[str, ...]:
    return () if refusal is None else (refusal,)


def _missing_text(env: Environment, facts: Facts, decision: ApprovalDecision) -> str:
    count = decision.missing
    text = f"needs {count} more approval{'' if count == 1 else 's'}"
    done = {user.lower() for user, _ in decision.counted}
    names = [n for n in eligible_approvers(env, facts.author, destroying=bool(decision.destroying))
             if n.lower() not in done and (env.allow_self_approval or not facts.authored_by(n))]
    if names:
        text += f" from {people(names, 'or')}"
    elif env.approvers:
        text += (": every named approver has approved or is the author; "
                 "add approvers or lower required_approvals")
    else:
        text += " from anyone" + ("" if env.allow_self_approval else " but the author")
    if decision.required > env.required_approvals:
        text += f" ({decision.required} required because the plan destroys or replaces resources)"
    return text


def may_apply(env: Environment, facts: Facts) -> bool:
    """Whether the requester may comment apply: the appliers when listed, else
    the approvers and the author (anyone, when approvers are not restricted).
    False when nobody asked."""
    user = facts.requester
    if user is None:
        return False
    if env.appliers:
        return named(user, env.appliers, facts.members)
    allowed = approver_entries(env, bool(facts.destroying))
    return (not allowed or facts.authored_by(user)
            or named(user, allowed, facts.members))


__all__ = [
    "EXPIRED", "ApplyVerdict", "ApprovalDecision", "Facts", "NotCounted", "PolicyLimits",
    "approving_users", "bound", "check_apply", "deadline_passed", "eligible_approvers",
    "evaluate_approval", "expiry_notice", "format_opening", "latest_reviews", "may_apply",
    "next_window_opening", "policy_teams", "resolve_members", "resolve_writers",
    "review_deadline_at",
]
