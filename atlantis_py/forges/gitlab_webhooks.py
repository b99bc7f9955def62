"""GitLab webhooks: token check on the request path, payload → Event in the worker.

GitLab does not sign bodies; it sends the hook's secret verbatim in
X-Gitlab-Token, so verification is a constant-time comparison of that header.
One "Merge Request Hook" carries every merge request action (open, update,
approve, merge …) in `object_attributes.action`; only the ones that change what
atlantis-py must do become Events, everything else parses to None.
"""

from __future__ import annotations

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


class GitLabWebhooks:
    """WebhookVerifier for GitLab: the secret token header, compared in constant time."""

    forge = "gitlab"

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigError("the GitLab webhook secret is empty; anyone could forge deliveries")
        self._secret = secret.encode()

    def __repr__(self) -> str:
        return "GitLabWebhooks(secret=***)"

    def recognises(self, headers: Mapping[str, str]) -> bool:
        return header(headers, "X-Gitlab-Event") is not None

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
        return Delivery(
            forge=self.forge,
            delivery_id=delivery_id,
            event_type=event_type,
            handled=event_type in HANDLED_EVENTS,
        )

    def serial_key(self, event_type: str, payload: bytes) -> str:
        """Keys jobs by "gitlab:group/sub/project#iid" so one merge request's jobs
        run in order. Raises ValueError when the body names no project."""
        data = json.loads(payload)
        project = data.get("project") if isinstance(data, dict) else None
        repo = project.get("path_with_namespace") if isinstance(project, dict) else None
        if not repo or not isinstance(repo, str):
            raise ValueError(f"GitLab {event_type} payload names no project")
        if (problem := repo_name_problem(repo, self.forge)) is not None:
            raise ValueError(f"GitLab {event_type} payload: {problem}")
        holder = data.get("merge_request") if event_type == NOTE_HOOK else \
            data.get("object_attributes")
        iid = holder.get("iid") if isinstance(holder, dict) else None
        if isinstance(iid, int) and not isinstance(iid, bool):
            return f"gitlab:{repo}#{iid}"
        return f"gitlab:{repo}"

    def parse(self, event_type: str, payload: bytes) -> Event | None:
        try:
            data = json.loads(payload)
            if event_type == MERGE_REQUEST_HOOK:
                return _merge_request_event(data)
            if event_type == NOTE_HOOK:
                return _note_event(data)
        except (ValueError, KeyError, TypeError) as e:
            raise ForgeError(f"malformed GitLab {event_type} payload: {e!r}") from e
        return None


def _repo(data: Mapping[str, Any]) -> Repo:
    project = data["project"]
    full_name = str(project["path_with_namespace"])
    if (problem := repo_name_problem(full_name, "gitlab")) is not None:
        raise ValueError(problem)
    return Repo(
        forge="gitlab",
        full_name=full_name,
        clone_url=str(project["git_http_url"]),
    )


def _pull(data: Mapping[str, Any], author: str) -> PullRequest:
    """The merge request as the hook describes it. The hook names who acted, not
    the author; callers pass the author only when they know it (an open)."""
    mr = data["object_attributes"]
    return PullRequest(
        repo=_repo(data),
        number=int(mr["iid"]),
        author=author,
        head_sha=str(mr["last_commit"]["id"]),
        head_ref=str(mr["source_branch"]),
        base_ref=str(mr["target_branch"]),
        title=str(mr.get("title") or ""),
        url=str(mr.get("url") or ""),
    )


def _merge_request_event(data: Mapping[str, Any]) -> Event | None:
    action = data["object_attributes"].get("action")
    sender = str(data["user"]["username"])
    if action in _APPROVALS:
        return ReviewEvent(pull=_pull(data, ""), action=ReviewAction.SUBMITTED,
                           reviewer=sender, state="approved")
    if action in _UNAPPROVALS:
        return ReviewEvent(pull=_pull(data, ""), action=ReviewAction.DISMISSED,
                           reviewer=sender, state="dismissed")
    if action == "update":
        if not data["object_attributes"].get("oldrev"):
            log.debug("ignoring merge request update without new commits")
            return None
        kind = PullAction.UPDATED
    elif action in _PULL_ACTIONS:
        kind = _PULL_ACTIONS[action]
    else:
        log.debug("ignoring merge request action %s", action)
        return None
    author = sender if action == "open" else ""
    return PullRequestEvent(pull=_pull(data, author), action=kind, sender=sender)


def _note_event(data: Mapping[str, Any]) -> CommentEvent | None:
    note = data["object_attributes"]
    if note.get("noteable_type") != "MergeRequest" or "merge_request" not in data:
        return None
    if note.get("action") not in _NOTE_CREATED or note.get("system"):
        log.debug("ignoring note action %s (system: %s)", note.get("action"), note.get("system"))
        return None
    return CommentEvent(
        repo=_repo(data),
        pull_number=int(data["merge_request"]["iid"]),
        comment_id=int(note["id"]),
        body=str(note.get("note") or ""),
        author=str(data["user"]["username"]),
    )
