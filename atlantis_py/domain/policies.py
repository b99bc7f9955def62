"""Policy checks on plans (Atlantis's `policies:`): the server's policy sets, what
each said about a plan, and who approved a failing set. The sets are declared
server-side only, so a pull request cannot switch off its own checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PolicyOwners:
    """Who may approve a failing set: user names and teams ("org/team" on
    GitHub, a group path on GitLab)."""

    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.users or self.teams)


@dataclass(frozen=True)
class PolicySet:
    """`path` is absolute: a folder of `*.rego` files (searched recursively,
    `*_test.rego` left out) or one file."""

    name: str
    path: str
    owners: PolicyOwners = field(default_factory=PolicyOwners)
    prevent_self_approve: bool = False


@dataclass(frozen=True)
class PolicySets:
    """`owners` may approve every set; each set's own owners only that set."""

    file: str
    sets: tuple[PolicySet, ...] = ()
    owners: PolicyOwners = field(default_factory=PolicyOwners)

    def named(self, name: str) -> PolicySet | None:
        return next((s for s in self.sets if s.name == name), None)


@dataclass(frozen=True)
class PolicySetResult:
    """One set's verdict on one plan. `error` is a policy error (a file that does
    not parse, no Rego file at the path): the set then fails, never passes."""

    name: str
    passed: bool
    denies: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class PolicyApproval:
    """An owner's `atlantis approve_policies` for one failing set of one project,
    counted only while the pull request's head is `head_sha` and the project's
    plan is still the run `run_id` (a new plan is judged afresh)."""

    project: str
    policy_set: str
    user: str
    head_sha: str
    run_id: int
    at: datetime | None = None


@dataclass(frozen=True)
class FailingSet:
    """A set that failed on a project's current plan, and the owners who approved
    it on the current head (none: it blocks the apply)."""

    project: str
    result: PolicySetResult
    approved_by: tuple[str, ...] = ()

    @property
    def approved(self) -> bool:
        return bool(self.approved_by)
