"""GitHub webhooks: signature check on the request path, payload → Event in the worker.

Only the fields the rest of atlantis-py needs are read; everything else GitHub
sends is ignored so new payload fields never break parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

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
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.errors import ConfigError, ForgeError
from atlantis_py.forges.base import Delivery, header

log = logging.getLogger(__name__)

HANDLED_EVENTS = frozenset({"pull_request", "issue_comment", "pull_request_review"})

_PULL_ACTIONS = {
    "opened": PullAction.OPENED,
    "reopened": PullAction.OPENED,
    "synchronize": PullAction.UPDATED,
}
_REVIEW_STATES = frozenset({"approved", "changes_requested"})


class GitHubWebhooks:
    """WebhookVerifier for GitHub: HMAC-SHA256 of the raw body with the shared secret."""

    forge = "github"

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigError("the GitHub webhook secret is empty; anyone could forge deliveries")
        self._secret = secret.encode()

    def __repr__(self) -> str:
        return "GitHubWebhooks(secret=***)"

    def recognises(self, headers: Mapping[str, str]) -> bool:
        return header(headers, "X-GitHub-Event") is not None

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
        return Delivery(
            forge=self.forge,
            delivery_id=delivery_id,
            event_type=event_type,
            handled=event_type in HANDLED_EVENTS,
        )

    def serial_key(self, event_type: str, payload: bytes) -> str:
        """Keys jobs by "github:owner/name#number" so one pull request's jobs run in order.
        Raises ValueError when the body is not a JSON object with a repository."""
        data = json.loads(payload)
        repository = data.get("repository") if isinstance(data, dict) else None
        repo = repository.get("full_name") if isinstance(repository, dict) else None
        if not repo or not isinstance(repo, str):
            raise ValueError(f"GitHub {event_type} payload names no repository")
        if (problem := repo_name_problem(repo, self.forge)) is not None:
            raise ValueError(f"GitHub {event_type} payload: {problem}")
        holder = data.get("issue") if event_type == "issue_comment" else data.get("pull_request")
        number = holder.get("number") if isinstance(holder, dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            return f"github:{repo}#{number}"
        return f"github:{repo}"

    def parse(self, event_type: str, payload: bytes) -> Event | None:
        try:
            data = json.loads(payload)
            if event_type == "pull_request":
                return _pull_request_event(data)
            if event_type == "issue_comment":
                return _issue_comment_event(data)
            if event_type == "pull_request_review":
                return _review_event(data)
        except (ValueError, KeyError, TypeError) as e:
            raise ForgeError(f"malformed GitHub {event_type} payload: {e!r}") from e
        return None


def _repo(data: Mapping[str, Any]) -> Repo:
    repository = data["repository"]
    full_name = str(repository["full_name"])
    if (problem := repo_name_problem(full_name, "github")) is not None:
        raise ValueError(problem)
    return Repo(
        forge="github",
        full_name=full_name,
        clone_url=str(repository["clone_url"]),
    )


def _pull(data: Mapping[str, Any]) -> PullRequest:
    pr = data["pull_request"]
    return PullRequest(
        repo=_repo(data),
        number=int(pr["number"]),
        author=str(pr["user"]["login"]),
        head_sha=str(pr["head"]["sha"]),
        head_ref=str(pr["head"]["ref"]),
        base_ref=str(pr["base"]["ref"]),
        title=str(pr.get("title") or ""),
        url=str(pr.get("html_url") or ""),
    )


def _pull_request_event(data: Mapping[str, Any]) -> PullRequestEvent | None:
    action = data["action"]
    if action == "closed":
        merged = bool(data["pull_request"].get("merged"))
        kind = PullAction.MERGED if merged else PullAction.CLOSED
    elif action in _PULL_ACTIONS:
        kind = _PULL_ACTIONS[action]
    else:
        log.debug("ignoring pull_request action %s", action)
        return None
    return PullRequestEvent(pull=_pull(data), action=kind, sender=str(data["sender"]["login"]))


def _issue_comment_event(data: Mapping[str, Any]) -> CommentEvent | None:
    issue = data["issue"]
    if data["action"] != "created" or not issue.get("pull_request"):
        return None
    comment = data["comment"]
    return CommentEvent(
        repo=_repo(data),
        pull_number=int(issue["number"]),
        comment_id=int(comment["id"]),
        body=str(comment.get("body") or ""),
        author=str(comment["user"]["login"]),
    )


def _review_event(data: Mapping[str, Any]) -> ReviewEvent | None:
    action = data["action"]
    review = data["review"]
    state = str(review["state"]).lower()
    if action == "submitted" and state in _REVIEW_STATES:
        kind = ReviewAction.SUBMITTED
    elif action == "dismissed":
        kind, state = ReviewAction.DISMISSED, "dismissed"
    else:
        log.debug("ignoring pull_request_review %s with state %s", action, state)
        return None
    return ReviewEvent(
        pull=_pull(data),
        action=kind,
        reviewer=str(review["user"]["login"]),
        state=state,
    )
