"""Values the forge hands back: changed files, reviews, comments, mergeability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class FileStatus(str, Enum):
    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    RENAMED = "renamed"


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: FileStatus = FileStatus.MODIFIED
    previous_path: str | None = None


class ReviewState(str, Enum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    COMMENTED = "commented"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Review:
    user: str
    state: ReviewState
    commit_sha: str
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class Comment:
    """A comment on a pull request (a GitLab note), as the forge lists it."""

    author: str
    body: str


@dataclass(frozen=True)
class Mergeability:
    """Whether the forge would merge a pull request as it stands. `mergeable`
    None: the forge is still working it out. `detail` is the forge's own word
    for the state ("dirty", "conflict", "discussions_not_resolved"), quoted in
    refusals so the author can look it up."""

    mergeable: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Merged:
    """A pull request the forge merged for us (automerge). `branch_deleted`:
    None when deleting its source branch was not asked, else whether it went;
    `branch_error` says why not."""

    branch_deleted: bool | None = None
    branch_error: str = ""


class StatusState(str, Enum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
