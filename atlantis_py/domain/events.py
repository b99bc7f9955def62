"""Neutral events: what a forge webhook means, after the forge module parsed it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class Repo:
    """A repository on a forge. `full_name` is "owner/name" (GitLab: "group/sub/name")."""

    forge: str
    full_name: str
    clone_url: str


@dataclass(frozen=True)
class PullRequest:
    repo: Repo
    number: int
    author: str
    head_sha: str
    head_ref: str
    base_ref: str
    title: str = ""
    url: str = ""
    labels: tuple[str, ...] = ()  # as the webhook named them (--disable-autoplan-label)


class PullAction(str, Enum):
    OPENED = "opened"
    UPDATED = "updated"  # new commits pushed
    CLOSED = "closed"  # closed without merge
    MERGED = "merged"


@dataclass(frozen=True)
class PullRequestEvent:
    pull: PullRequest
    action: PullAction
    sender: str


@dataclass(frozen=True)
class CommentEvent:
    """A comment on a pull request. `pull` may carry only the number: head_sha
    is filled by the dispatcher from the forge when the payload lacks it."""

    repo: Repo
    pull_number: int
    comment_id: int
    body: str
    author: str


class ReviewAction(str, Enum):
    SUBMITTED = "submitted"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class ReviewEvent:
    pull: PullRequest
    action: ReviewAction
    reviewer: str
    state: str  # approved | changes_requested | commented | dismissed


Event = PullRequestEvent | CommentEvent | ReviewEvent
