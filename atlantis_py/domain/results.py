"""What running terraform produced, as the report layer needs it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from atlantis_py.domain.policies import PolicySetResult


class RunStatus(str, Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"  # could not run at all (lock held, checkout failed, bad config)
    RUNNING = "running"  # a stored run not finished (yet)
    INTERRUPTED = "interrupted"  # its worker died while it ran


@dataclass(frozen=True)
class PlanCounts:
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.destroy or self.replace)

    def summary(self) -> str:
        if not self.has_changes:
            return "No changes. Your infrastructure matches the configuration."
        text = f"Plan: {self.add} to add, {self.change} to change, {self.destroy} to destroy."
        if self.replace:
            text = (
                f"Plan: {self.add} to add, {self.change} to change, {self.destroy} to destroy"
                f" ({self.replace} to replace)."
            )
        return text


@dataclass(frozen=True)
class ResourceChange:
    """One resource a plan changes: its address and create, update, delete or replace."""

    address: str
    action: str


@dataclass(frozen=True)
class ProjectResult:
    """One project's outcome for one command. `output` is terraform's text;
    `reasons` and `deleted` come from detection, for the comment to show why
    the project was planned and that it will be destroyed."""

    project: str
    dir: str
    workspace: str
    command: str  # plan | apply
    status: RunStatus
    output: str = ""
    error: str | None = None
    counts: PlanCounts | None = None
    head_sha: str = ""
    reasons: tuple[str, ...] = ()
    deleted: bool = False
    skipped_vars: tuple[str, ...] = ()  # stack vars Atmos resolves at run time
    locked_by: int | None = None  # number of the pull request holding this dir's lock
    policies: tuple[PolicySetResult, ...] = ()  # the policy sets' verdicts on this plan
    # did not run, and why (a dependency not applied, an earlier execution
    # order group failed): never stored as a run, only said in the comment
    skipped: str | None = None
    changes: tuple[ResourceChange, ...] = ()  # a plan's, from its JSON (MAX_CHANGES at most)
