"""GitLab webhooks: token check and payload → Event, both on the request path.

GitLab does not sign bodies; it sends the hook's secret verbatim in
X-Gitlab-Token, so verification is a constant-time comparison of that header.
One "Merge Request Hook" carries every merge request action (open, update,
approve, merge …) in `object_attributes.action`; only the ones that change what
atlantis-py must do become Events, everything else parses to None.
"""

from __future__ import annotations

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

MERGE_REQUEST_HOOK = "Merge Request Hook"
NOTE_HOOK = "Note Hook"
HANDLED_EVENTS = frozenset({MERGE_REQUEST_HOOK, NOTE_HOOK})

_PULL_ACTIONS = {
    "open": PullAction.OPENED,
    "reopen": PullAction.OPENED,
    "close": PullAction.CLOSED,
    "merge": PullAction.MERGED,
}
# "approval"/"unapproval": one user's vote; "approved"/"unapproved": the merge
# request as a whole crossed its approval rule. Either way the worker re-reads
# approvals from the API, so both only need to wake it.
_APPROVALS = frozenset({"approved", "approval"})
_UNAPPROVALS = frozenset({"unapproved", "unapproval"})
_NOTE_CREATED = frozenset({"create", None})  # payloads before GitLab 15 have no action


class GitLabWebhooks(SecretWebhooks):
    """WebhookVerifier for GitLab: the secret token header, compared in constant time."""

    forge = "gitlab"
    title = "GitLab"
    event_header = "X-Gitlab-Event"
    handled_events = HANDLED_EVENTS

    def verify(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        event_type = header(headers, "X-Gitlab-Event")
        delivery_id = header(headers, "X-Gitlab-Event-UUID")
        token = header(headers, "X-Gitlab-Token")
        if not event_type or not delivery_id or token is None:
            log.warning("gitlab delivery refused: event, event UUID or token header missing")
            return None
        if not hmac.compare_digest(self._secret, token.encode()):
            log.warning("gitlab delivery %s refused: token mismatch", delivery_id)
            return None
        return self.delivery(delivery_id, event_type)

    def parse(self, event_type: str, payload: bytes) -> Event | None:
        """Runs on the request path (to decide whether a job is needed) and, for
        jobs queued before events were stored parsed, in the worker."""
        if event_type not in HANDLED_EVENTS:
            return None
        what = f"GitLab {event_type} payload"
        data = Fields(decode_json(payload, what), what)
        attributes = data.obj("object_attributes")
        action = attributes.raw("action")
        if action is not None and not isinstance(action, str):
            raise attributes.fail("action", "a string or null", action)
        if event_type == MERGE_REQUEST_HOOK:
            return _merge_request_event(data, attributes, action)
        return _note_event(data, attributes, action)


def _repo(data: Fields) -> Repo:
    return repo_of(data, "gitlab", "project", "path_with_namespace", "git_http_url")


def _pull(data: Fields, author: str) -> PullRequest:
    """The merge request as the hook describes it. The hook names who acted, not
    the author; callers pass the author only when they know it (an open)."""
    mr = data.obj("object_attributes")
    return PullRequest(
        repo=_repo(data),
        number=mr.number("iid"),
        author=author,
        head_sha=mr.obj("last_commit").text("id", limit=SHA_MAX),
        head_ref=mr.text("source_branch"),
        base_ref=mr.text("target_branch"),
        title=mr.optional_text("title"),
        url=mr.optional_text("url"),
        labels=data.names("labels", "title"),
    )


def _merge_request_event(data: Fields, attributes: Fields, action: str | None
                         ) -> Event | None:
    if action in _APPROVALS or action in _UNAPPROVALS:
        approved = action in _APPROVALS
        return ReviewEvent(pull=_pull(data, ""),
                           action=ReviewAction.SUBMITTED if approved else ReviewAction.DISMISSED,
                           reviewer=data.obj("user").text("username"),
                           state="approved" if approved else "dismissed")
    if action == "update":
        if not attributes.raw("oldrev"):
            log.debug("ignoring merge request update without new commits")
            return None
        kind = PullAction.UPDATED
    elif action is not None and action in _PULL_ACTIONS:
        kind = _PULL_ACTIONS[action]
    else:
        log.debug("ignoring merge request action %s", action)
        return None
    sender = data.obj("user").text("username")
    author = sender if action == "open" else ""
    return PullRequestEvent(pull=_pull(data, author), action=kind, sender=sender)


def _note_event(data: Fields, note: Fields, action: str | None) -> CommentEvent | None:
    """Only new notes on merge requests: an edit never runs a command again."""
    if note.raw("noteable_type") != "MergeRequest" or not data.has("merge_request"):
        return None
    if action not in _NOTE_CREATED or note.raw("system"):
        log.debug("ignoring note action %s (system: %s)", action, note.raw("system"))
        return None
    return CommentEvent(
        repo=_repo(data),
        pull_number=data.obj("merge_request").number("iid"),
        comment_id=note.number("id", limit=ID_MAX),
        body=note.optional_text("note"),
        author=data.obj("user").text("username"),
    )
