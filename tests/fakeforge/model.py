"""The records both fake forges keep: comments, reviews, statuses, pull requests.

GitLab's merge requests, notes and commit statuses are stored in the same shapes
as GitHub's pull requests, comments and statuses, so end-to-end tests read them
the same way whichever forge they run against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Literal, NamedTuple, Protocol, TypeVar

from tests.fakeforge.gitrepos import BareRepo

# GitHub's roles; FakeGitLab maps them onto access levels.
Permission = Literal["admin", "maintain", "write", "triage", "read", "none"]
ReviewStateName = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED"]


class RecordedRequest(NamedTuple):
    method: str
    path: str


@dataclass(eq=False)
class FakeComment:
    id: int
    user: str
    body: str
    created_at: datetime
    via_api: bool
    system: bool = False  # GitLab's system notes ("approved this merge request")


@dataclass(eq=False)
class FakeReview:
    id: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_id: str
    submitted_at: datetime
    body: str = ""


@dataclass(frozen=True)
class FakeStatus:
    id: int
    sha: str
    context: str  # GitLab's `name`
    state: str  # as the forge names it: GitLab's running/failed/canceled stay so
    description: str
    target_url: str | None
    created_at: datetime
    creator: str


class ForgeRepo(Protocol):
    """What the shared bookkeeping needs of a forge's repository record."""

    default_branch: str
    git: BareRepo
    statuses: list[FakeStatus]


RepoT = TypeVar("RepoT")


@dataclass(eq=False)
class PullRequest(Generic[RepoT]):
    """A GitHub pull request or a GitLab merge request (`number` is its iid)."""

    repo: RepoT
    number: int
    id: int
    branch: str
    base: str
    author: str
    title: str
    head_sha: str
    created_at: datetime
    body: str = ""
    state: str = "open"
    merged: bool = False
    merge_sha: str | None = None
    closed_at: datetime | None = None
    previous_head_sha: str | None = None
    mergeable: bool | None = True  # None: the forge is still working it out
    labels: list[str] = field(default_factory=list)
    comments: list[FakeComment] = field(default_factory=list)
    reviews: list[FakeReview] = field(default_factory=list)
