"""The server's bounds on every repository's environments: a repository (whose
rules branch anyone with merge rights edits) cannot go below the operator's bar."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from atlantis_py.domain.projects import Environment


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
