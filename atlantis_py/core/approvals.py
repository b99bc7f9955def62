"""Approval policy: pure decisions over a frozen set of facts.

Everything the decision depends on (reviews, author, head SHA, plan counts,
the clock, team membership, who has write access, who asked, and at apply
time whether the forge would merge and whether the branch is behind its base)
arrives in `Facts`, resolved by the caller beforehand. That keeps every rule a
table-driven test, and makes the same decision whichever path (comment, API,
background check) asks.
Refusals are sentences for the pull request: each names what is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from atlantis_py.core.requirements import mergeable_refusal, undiverged_refusal
from atlantis_py.domain.forge import Mergeability, Review, ReviewState
from atlantis_py.domain.projects import Environment
from atlantis_py.domain.results import PlanCounts
from atlantis_py.domain.rules import WEEKDAY_TITLES, ApplyWindow, format_duration

EXPIRED = "expired"


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


@dataclass(frozen=True)
class PolicyLimits:
    """Server-side bounds on every repo's environments, so a repository (whose
    rules branch anyone with merge rights edits) cannot go below the operator's
    bar. The defaults bound nothing: `bound(env, PolicyLimits()) == env`.

    min_approvals: floor for required_approvals (also for the destroy rule).
    max_approvals: ceiling, so a typo cannot make applies impossible; None = none.
    allow_self_approval: False forces allow_self_approval off everywhere.
    max_approval_ttl: approvals expire at least this soon; a repo may be stricter.
    max_review_deadline: pending requests expire at least this soon.
    A floor above 0 also keeps `approved` among every environment's
    apply_requirements, so leaving it out cannot skip approval.
    """

    min_approvals: int = 0
    max_approvals: int | None = None
    allow_self_approval: bool = True
    max_approval_ttl: timedelta | None = None
    max_review_deadline: timedelta | None = None

    def __post_init__(self) -> None:
        if self.min_approvals < 0:
            raise ValueError("min_approvals must be >= 0")
        if self.max_approvals is not None and self.max_approvals < self.min_approvals:
            raise ValueError("max_approvals must be >= min_approvals")


def bound(env: Environment, limits: PolicyLimits) -> Environment:
    """`env` tightened to the server's limits; never loosened except by max_approvals."""
    def count(value: int) -> int:
        value = max(value, limits.min_approvals)
        return value if limits.max_approvals is None else min(value, limits.max_approvals)

    destroy = env.destroy_requires
    if destroy is not None and destroy.required_approvals is not None:
        destroy = replace(destroy, required_approvals=count(destroy.required_approvals))
    requirements = env.apply_requirements
    if limits.min_approvals > 0 and "approved" not in requirements:
        requirements = ("approved", *requirements)
    return replace(
        env,
        apply_requirements=requirements,
        required_approvals=count(env.required_approvals),
        allow_self_approval=env.allow_self_approval and limits.allow_self_approval,
        approval_ttl=_shorter(env.approval_ttl, limits.max_approval_ttl),
        review_deadline=_shorter(env.review_deadline, limits.max_review_deadline),
        destroy_requires=destroy,
    )


def _shorter(repo: timedelta | None, server: timedelta | None) -> timedelta | None:
    if repo is None or server is None:
        return repo if server is None else server
    return min(repo, server)


def latest_reviews(reviews: Sequence[Review]) -> dict[str, Review]:
    """Each reviewer's newest review that carries a verdict; comments don't change it.
    A dismissal is a verdict too: it withdraws that reviewer's approval or rejection."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state is ReviewState.COMMENTED:
            continue
        latest[review.user.lower()] = review
    return latest


def evaluate_approval(env: Environment, facts: Facts) -> ApprovalDecision:
    """Which approvals count for `env` on the head commit, and whether that is enough."""
    destroying = facts.destroying
    rule = env.destroy_requires if destroying else None
    required = env.required_approvals
    if rule is not None and rule.required_approvals is not None:
        required = max(required, rule.required_approvals)
    allowed = _approver_entries(env, bool(destroying))
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
            _named(user, rule.approvers, facts.members) for user, _ in counted):
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
    if allowed and not _named(review.user, allowed, facts.members):
        return f"not an approver for {env.name}"
    return None


def check_apply(env: Environment, facts: Facts) -> ApplyVerdict:
    """Whether `facts.requester` may apply now; every unmet rule becomes one refusal."""
    decision = evaluate_approval(env, facts)
    refusals: list[str] = []
    requester = facts.requester
    if requester is not None and not may_apply(env, facts):
        allowed = (_people(env.appliers, "and") if env.appliers
                   else "the approvers and the author")
        refusals.append(f"{requester} may not apply: allowed are {allowed}")
    refusals.extend(f"changes requested by {user}: apply is blocked until {user} approves "
                    "or the review is dismissed" for user in decision.rejected_by)
    if decision.missing:
        refusals.append(_missing_text(env, facts, decision))
    if decision.destroy_approvers_missing:
        refusals.append(f"the plan destroys or replaces resources "
                        f"({', '.join(decision.destroying)}): needs an approval from "
                        f"{_people(decision.destroy_approvers_missing, 'or')}")
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
        text += f" from {_people(names, 'or')}"
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
        return _named(user, env.appliers, facts.members)
    allowed = _approver_entries(env, bool(facts.destroying))
    return (not allowed or facts.authored_by(user)
            or _named(user, allowed, facts.members))


def eligible_approvers(env: Environment, author: str, *, destroying: bool = False
                       ) -> tuple[str, ...]:
    """Users and teams whose approval would count, for mentions; empty when
    anyone may approve. The author is left out unless self-approval is allowed."""
    return tuple(e for e in _approver_entries(env, destroying)
                 if env.allow_self_approval or e.lower() != author.lower())


def _approver_entries(env: Environment, destroying: bool) -> tuple[str, ...]:
    """Named destroy approvers count as approvers too, but only narrow a list
    that is already restricted: an empty list means anyone."""
    extra = env.destroy_requires.approvers if destroying and env.destroy_requires else ()
    if not env.approvers:
        return ()
    seen = {e.lower() for e in env.approvers}
    return env.approvers + tuple(e for e in extra if e.lower() not in seen)


def next_window_opening(window: ApplyWindow, now: datetime) -> datetime:
    """The first moment at or after `now` that `window` is open, in its zone."""
    return window.next_opening(now)


def format_opening(moment: datetime) -> str:
    """'Mon 2026-11-23 09:00 CET': locale-free, with the zone's local name."""
    return f"{WEEKDAY_TITLES[moment.weekday()]} {moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def review_deadline_at(env: Environment, pending_since: datetime) -> datetime | None:
    return None if env.review_deadline is None else pending_since + env.review_deadline


def deadline_passed(env: Environment, pending_since: datetime, now: datetime) -> bool:
    """Whether a request PENDING since `pending_since` is past its review deadline
    and should be rejected with reason EXPIRED by the background check."""
    deadline = review_deadline_at(env, pending_since)
    return deadline is not None and now > deadline


def expiry_notice(env: Environment) -> str:
    """What the author is told when the background check expires a request."""
    limit = f" of {format_duration(env.review_deadline)}" if env.review_deadline else ""
    return (f"No approval arrived within the review deadline{limit} for {env.name}, "
            f'so this request was rejected with reason "{EXPIRED}".')


def policy_teams(env: Environment) -> tuple[str, ...]:
    """Every "org/team" the policy names, i.e. what resolve_members must look up."""
    extra = env.destroy_requires.approvers if env.destroy_requires else ()
    names = (*env.approvers, *extra, *env.appliers)
    return tuple(dict.fromkeys(n for n in names if "/" in n))


def resolve_members(env: Environment, users: Iterable[str],
                    in_team: Callable[[str, str], bool]) -> dict[str, frozenset[str]]:
    """Facts.members for `users` (reviewers, requester), asking `in_team(team,
    user)` (the forge's) only about the teams this policy names."""
    wanted = tuple(dict.fromkeys(u for u in users if u))
    return {team: frozenset(u for u in wanted if in_team(team, u))
            for team in policy_teams(env)}


def approving_users(reviews: Sequence[Review]) -> tuple[str, ...]:
    """Reviewers whose newest verdict is an approval: the only users whose
    write access a decision needs."""
    return tuple(r.user for r in latest_reviews(reviews).values()
                 if r.state is ReviewState.APPROVED)


def resolve_writers(reviews: Sequence[Review],
                    has_write_access: Callable[[str], bool]) -> frozenset[str]:
    """Facts.writers: the approving reviewers `has_write_access(user)` (the
    forge's, cached by the caller) says yes to."""
    return frozenset(user for user in approving_users(reviews) if has_write_access(user))


def _named(user: str, entries: Iterable[str], members: Mapping[str, frozenset[str]]) -> bool:
    """Whether `user` is one of `entries` (users and "org/team"), ignoring case."""
    who = user.lower()
    teams = {team.lower(): {m.lower() for m in people} for team, people in members.items()}
    for entry in entries:
        if "/" in entry:
            if who in teams.get(entry.lower(), set()):
                return True
        elif entry.lower() == who:
            return True
    return False


def _people(entries: Sequence[str], conj: str) -> str:
    """['alice', 'bob', 'acme/platform'] → 'alice, bob or a member of acme/platform'."""
    team = "a member of " if conj == "or" else "members of "
    words = [team + e if "/" in e else e for e in entries]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conj} {words[-1]}"
