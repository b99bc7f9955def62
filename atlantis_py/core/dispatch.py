"""Event → what to do. Pure: no I/O, so routing is a table-driven test.

The web process routes each delivery before storing it (an Ignore needs no
job) and the worker routes the stored event again; both go through `Router`,
so they cannot disagree about what is addressed to the bot."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from atlantis_py.core.grammar import parse_comment
from atlantis_py.domain.commands import Command
from atlantis_py.domain.events import (
    CommentEvent,
    Event,
    PullAction,
    PullRequestEvent,
    Repo,
    ReviewEvent,
)
from atlantis_py.errors import CommandParseError


@dataclass(frozen=True)
class Autoplan:
    event: PullRequestEvent


@dataclass(frozen=True)
class Cleanup:
    event: PullRequestEvent


@dataclass(frozen=True)
class RunCommand:
    event: CommentEvent
    command: Command


@dataclass(frozen=True)
class ReplyHelp:
    event: CommentEvent
    reason: str


@dataclass(frozen=True)
class RecordReview:
    event: ReviewEvent


@dataclass(frozen=True)
class Ignore:
    reason: str


Action = Autoplan | Cleanup | RunCommand | ReplyHelp | RecordReview | Ignore


def route(event: Event, *, bot_user: str, repo_allowed: bool) -> Action:
    """Decide what an event asks of us. The bot's own comments are ignored so
    it can never trigger itself."""
    if not repo_allowed:
        return Ignore("repository is not in --repo-allowlist")
    if isinstance(event, PullRequestEvent):
        if event.action in (PullAction.OPENED, PullAction.UPDATED):
            return Autoplan(event)
        return Cleanup(event)
    if isinstance(event, ReviewEvent):
        return RecordReview(event)
    if event.author.lower() == bot_user.lower():
        return Ignore("comment by the bot itself")
    names: Sequence[str] = ("atlantis", f"@{bot_user}") if bot_user else ("atlantis",)
    try:
        command = parse_comment(event.body, names)
    except CommandParseError as err:
        return ReplyHelp(event, str(err))
    if command is None:
        return Ignore("not a command")
    return RunCommand(event, command)


def event_repo(event: Event) -> Repo:
    return event.repo if isinstance(event, CommentEvent) else event.pull.repo


def event_pull_number(event: Event) -> int:
    return event.pull_number if isinstance(event, CommentEvent) else event.pull.number


@dataclass(frozen=True)
class Router:
    """`route` with the server's bot names (per forge) and repo allow-list."""

    bot_users: Mapping[str, str]
    repo_allowed: Callable[[str], bool]

    def __call__(self, event: Event) -> Action:
        repo = event_repo(event)
        return route(event, bot_user=self.bot_users.get(repo.forge, ""),
                     repo_allowed=self.repo_allowed(repo.full_name))
