"""Values the forge hands back: changed files, reviews."""

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


class StatusState(str, Enum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
