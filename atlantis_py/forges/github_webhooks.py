"""GitHub webhooks: signature check and payload → Event, both on the request path.

Only the fields the rest of atlantis-py needs are read, each checked for its
type (forges/payload.py); everything else GitHub sends is ignored so new
payload fields never break parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping

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
from atlantis_py.forges.base import Delivery, SecretWebhooks, header
from atlantis_py.forges.payload import ID_MAX, SHA_MAX, Fields, decode_json, repo_of

log = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset({"pull_request", "issue_comment", "pull_request_review"})

_PULL_ACTIONS = {
    "opened": PullAction.OPENED,
    "reopened": PullAction.OPENED,
    "synchronize": PullAction.UPDATED,
}
_REVIEW_STATES = frozenset({"approved", "changes_requested"})


class GitHubWebhooks(SecretWebhooks):
    """WebhookVerifier for GitHub: HMAC-SHA256 of the raw body with the shared secret."""

    forge = "github"
    title = "GitHub"
    event_header = "X-GitHub-Event"
    handled_events = HANDLED_EVENTS

    def verify(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        event_type = header(headers, "X-GitHub-Event")
        delivery_id = header(headers, "X-GitHub-Delivery")
        signature = header(headers, "X-Hub-Signature-256")
        if not event_type or not delivery_id or not signature:
            log.warning("github delivery refused: event, delivery id or signature header missing")
            return None
        expected = "sha256=" + hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            log.warning("github delivery %s refused: signature mismatch", delivery_id)
            return None
        return self.delivery(delivery_id, event_type)

    def parse(self, event_type: str, payload: bytes) -> Event | None:
        """Runs on the request path (to decide whether a job is needed) and, for
        jobs queued before events were stored parsed, in the worker."""
        if event_type not in HANDLED_EVENTS:
            return None
        what = f"GitHub {event_type} payload"
        data = Fields(decode_json(payload, what), what)
        action = data.raw("action")
        if not isinstance(action, str):
            raise data.fail("action", "a string", action)
        if event_type == "pull_request":
            return _pull_request_event(data, action)
        if event_type == "issue_comment":
            return _issue_comment_event(data, action)
        return _review_event(data, action)


def _repo(data: Fields) -> Repo:
    return repo_of(data, "github", "repository", "full_name", "clone_url")


def _pull(data: Fields) -> PullRequest:
    pr = data.obj("pull_request")
    return PullRequest(
        repo=_repo(data),
        number=pr.number("number"),
        author=pr.obj("user").text("login"),
        head_sha=pr.obj("head").text("sha", limit=SHA_MAX),
        head_ref=pr.obj("head").text("ref"),
        base_ref=pr.obj("base").text("ref"),
        title=pr.optional_text("title"),
        url=pr.optional_text("html_url"),
        labels=pr.names("labels", "name"),
    )


def _pull_request_event(data: Fields, action: str) -> PullRequestEvent | None:
    if action == "closed":
        merged = data.obj("pull_request").flag("merged")
        kind = PullAction.MERGED if merged else PullAction.CLOSED
    elif action in _PULL_ACTIONS:
        kind = _PULL_ACTIONS[action]
    else:
        log.debug("ignoring pull_request action %s", action)
        return None
    return PullRequestEvent(pull=_pull(data), action=kind,
                            sender=data.obj("sender").text("login"))


def _issue_comment_event(data: Fields, action: str) -> CommentEvent | None:
    """Only new comments on pull requests: an edit never runs a command again."""
    if action != "created":
        return None
    issue = data.obj("issue")
    if not issue.raw("pull_request"):
        return None
    comment = data.obj("comment")
    return CommentEvent(
        repo=_repo(data),
        pull_number=issue.number("number"),
        comment_id=comment.number("id", limit=ID_MAX),
        body=comment.optional_text("body"),
        author=comment.obj("user").text("login"),
    )


def _review_event(data: Fields, action: str) -> ReviewEvent | None:
    review = data.obj("review")
    if action == "submitted":
        state = review.text("state").lower()
        if state not in _REVIEW_STATES:
            log.debug("ignoring a submitted review with state %s", state)
            return None
        kind = ReviewAction.SUBMITTED
    elif action == "dismissed":
        kind, state = ReviewAction.DISMISSED, "dismissed"
    else:
        log.debug("ignoring pull_request_review %s", action)
        return None
    return ReviewEvent(
        pull=_pull(data),
        action=kind,
        reviewer=review.obj("user").text("login"),
        state=state,
    )
