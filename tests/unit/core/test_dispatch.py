"""Routing: which action each neutral event asks for."""

from __future__ import annotations

import pytest

from atlantis_py.core.dispatch import (
    Autoplan,
    Cleanup,
    Ignore,
    RecordReview,
    ReplyHelp,
    RunCommand,
    route,
)
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.domain.events import (
    CommentEvent,
    Event,
    PullAction,
    PullRequest,
    PullRequestEvent,
    Repo,
    ReviewAction,
    ReviewEvent,
)

REPO = Repo(forge="github", full_name="acme/infra", clone_url="https://example.invalid/x.git")
PULL = PullRequest(repo=REPO, number=7, author="alice", head_sha="a" * 40,
                   head_ref="feature", base_ref="main")
BOT = "atlantis-bot"


def pr(action: PullAction) -> PullRequestEvent:
    return PullRequestEvent(pull=PULL, action=action, sender="alice")


def review(action: ReviewAction, state: str, reviewer: str = "bob") -> ReviewEvent:
    return ReviewEvent(pull=PULL, action=action, reviewer=reviewer, state=state)


def comment(body: str, author: str = "bob") -> CommentEvent:
    return CommentEvent(repo=REPO, pull_number=7, comment_id=1, body=body, author=author)


KINDS = [
    pytest.param(pr(PullAction.OPENED), Autoplan, id="pr-opened-autoplan"),
    pytest.param(pr(PullAction.UPDATED), Autoplan, id="pr-updated-autoplan"),
    pytest.param(pr(PullAction.CLOSED), Cleanup, id="pr-closed-cleanup"),
    pytest.param(pr(PullAction.MERGED), Cleanup, id="pr-merged-cleanup"),
    pytest.param(review(ReviewAction.SUBMITTED, "approved"), RecordReview,
                 id="review-approved"),
    pytest.param(review(ReviewAction.SUBMITTED, "changes_requested"), RecordReview,
                 id="review-changes-requested"),
    pytest.param(review(ReviewAction.SUBMITTED, "commented"), RecordReview,
                 id="review-commented"),
    pytest.param(review(ReviewAction.DISMISSED, "dismissed"), RecordReview,
                 id="review-dismissed"),
    pytest.param(comment("atlantis plan"), RunCommand, id="comment-command"),
    pytest.param(comment("lgtm"), Ignore, id="comment-chatter"),
    pytest.param(comment("atlantis frobnicate"), ReplyHelp, id="comment-bad-command"),
]


@pytest.mark.parametrize("event, kind", KINDS)
def test_event_kind_to_action(event: Event, kind: type) -> None:
    action = route(event, bot_user=BOT, repo_allowed=True)
    assert type(action) is kind
    if not isinstance(action, Ignore):
        assert action.event is event


@pytest.mark.parametrize("event", [
    pytest.param(pr(PullAction.OPENED), id="pr-opened"),
    pytest.param(pr(PullAction.CLOSED), id="pr-closed"),
    pytest.param(review(ReviewAction.SUBMITTED, "approved"), id="review"),
    pytest.param(comment("atlantis apply"), id="command"),
    pytest.param(comment("atlantis frobnicate"), id="bad-command"),
])
def test_repo_not_allowed_is_ignored(event: Event) -> None:
    action = route(event, bot_user=BOT, repo_allowed=False)
    assert isinstance(action, Ignore)
    assert "allowlist" in action.reason


@pytest.mark.parametrize("author, bot", [
    pytest.param(BOT, BOT, id="same-case"),
    pytest.param("Atlantis-Bot", BOT, id="author-upper"),
    pytest.param(BOT, "ATLANTIS-BOT", id="bot-setting-upper"),
])
@pytest.mark.parametrize("body", [
    pytest.param("atlantis plan", id="command"),
    pytest.param("atlantis frobnicate", id="bad-command"),
    pytest.param("Ran Plan for dir: `.`", id="report"),
])
def test_bots_own_comment_is_ignored(author: str, bot: str, body: str) -> None:
    action = route(comment(body, author=author), bot_user=bot, repo_allowed=True)
    assert isinstance(action, Ignore)
    assert "bot" in action.reason


@pytest.mark.parametrize("author", [
    pytest.param("atlantis-bot2", id="prefix-of-other-user"),
    pytest.param("atlantis", id="default-name-not-the-bot"),
])
def test_other_users_are_not_mistaken_for_the_bot(author: str) -> None:
    action = route(comment("atlantis plan", author=author), bot_user=BOT, repo_allowed=True)
    assert isinstance(action, RunCommand)


@pytest.mark.parametrize("body", [
    pytest.param("", id="empty"),
    pytest.param("looks good", id="chatter"),
    pytest.param("please run atlantis plan", id="command-not-first-word"),
    pytest.param("@someone-else plan", id="other-user-mentioned"),
    pytest.param("terraform plan", id="terraform"),
])
def test_non_command_comment_is_ignored(body: str) -> None:
    action = route(comment(body), bot_user=BOT, repo_allowed=True)
    assert isinstance(action, Ignore)
    assert action.reason == "not a command"


@pytest.mark.parametrize("body, reason_part", [
    pytest.param("atlantis frobnicate", "unknown command 'frobnicate'", id="unknown-command"),
    pytest.param("atlantis plan --bogus", "unknown flag '--bogus'", id="unknown-flag"),
    pytest.param("atlantis plan -p", "needs a value", id="flag-without-value"),
    pytest.param("atlantis plan -- -rf", "'-rf' is not allowed", id="extra-arg-refused"),
    pytest.param("atlantis plan -d ../x", "outside the repository", id="dir-escapes"),
    pytest.param("atlantis unlock now", "unlock takes no arguments", id="unlock-args"),
    pytest.param("@atlantis-bot frobnicate", "unknown command", id="addressed-bad-command"),
    pytest.param("atlantis plan -p 'x", "cannot read the command", id="unbalanced-quote"),
])
def test_bad_command_replies_help_with_reason(body: str, reason_part: str) -> None:
    event = comment(body)
    action = route(event, bot_user=BOT, repo_allowed=True)
    assert isinstance(action, ReplyHelp)
    assert action.event is event
    assert reason_part in action.reason


@pytest.mark.parametrize("body, bot, command", [
    pytest.param("atlantis plan", BOT, Command(CommandName.PLAN), id="atlantis-plan"),
    pytest.param("@atlantis-bot plan", BOT, Command(CommandName.PLAN), id="at-botname-plan"),
    pytest.param("@Atlantis-Bot plan", BOT, Command(CommandName.PLAN),
                 id="at-botname-any-case"),
    pytest.param("@atlantis-bot apply -p net", BOT, Command(CommandName.APPLY, project="net"),
                 id="at-botname-apply-project"),
    pytest.param("@atlantis plan -d app", BOT, Command(CommandName.PLAN, dir="app"),
                 id="at-atlantis"),
    pytest.param("@atlantis-bot", BOT, Command(CommandName.HELP), id="bare-mention-is-help"),
    pytest.param("atlantis unlock", BOT, Command(CommandName.UNLOCK), id="unlock"),
    pytest.param("atlantis plan", "", Command(CommandName.PLAN), id="no-bot-name"),
])
def test_command_comment_runs_command(body: str, bot: str, command: Command) -> None:
    event = comment(body)
    action = route(event, bot_user=bot, repo_allowed=True)
    assert isinstance(action, RunCommand)
    assert action.event is event
    assert action.command == command

