"""GitLab (gitlab.com or self-managed) through python-gitlab. No python-gitlab
object leaves this module.

Calls go through the client's raw `http_*` helpers with URL-encoded project
paths ("group/sub/project" → "group%2Fsub%2Fproject"), so every answer is plain
JSON read with typed accessors rather than python-gitlab's dynamic attributes;
the client still does authentication, retries, pagination and error mapping.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import gitlab
import requests
from gitlab.exceptions import GitlabError
from gitlab.utils import EncodedId

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.forge import (
    ChangedFile,
    Comment,
    FileStatus,
    Mergeability,
    Merged,
    Review,
    ReviewState,
    StatusState,
)
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.errors import ConfigError, ForgeError, TransientForgeError
from atlantis_py.forges.gitlab_webhooks import GitLabWebhooks
from atlantis_py.forges.transient import (
    TRANSIENT_REQUEST_ERRORS,
    is_transient,
    lower,
    retry_after,
    uncertain,
)

__all__ = ["GitLabForge", "GitLabWebhooks", "approved_commit"]

log = logging.getLogger(__name__)

DEFAULT_URL = "https://gitlab.com"
DEVELOPER = 30  # GitLab's access level that may push to unprotected branches
NOTE_LIMIT = 1_000_000  # GitLab refuses longer notes
STATUS_DESCRIPTION_LIMIT = 255

# GitLab has no "pending update": re-posting `pending` on a pending status is
# refused, so work in progress is `running`, which may follow pending.
_STATUS_STATES = {
    StatusState.PENDING: "running",
    StatusState.SUCCESS: "success",
    StatusState.FAILURE: "failed",
    StatusState.ERROR: "failed",
}
# detailed_merge_status values that let an apply go ahead: a running or failed
# pipeline may be atlantis's own commit status (Atlantis reads them the same way)
_MERGEABLE = frozenset({"mergeable", "ci_must_pass", "ci_still_running"})
# GitLab is still working it out: ask again
_CHECKING = frozenset({"checking", "unchecked", "preparing", "approvals_syncing",
                       "cannot_be_merged_recheck"})
MERGEABLE_TRIES = 3
MERGEABLE_WAIT = 1.0  # seconds between tries
_APPROVED_NOTE = "approved this merge request"
_UNAPPROVED_NOTES = ("unapproved this merge request", "revoked approval for this merge request")


# python-gitlab retries a blip itself, twice and briefly; a longer outage and
# every rate limit go back to the job queue instead of holding a worker thread
_CALL_RETRIES: dict[str, Any] = {"max_retries": 2, "obey_rate_limit": False}
_answers = threading.local()  # headers of this thread's latest answer: GitlabError has none


def _remember(response: requests.Response, *_args: object, **_kwargs: object) -> None:
    _answers.headers = dict(response.headers)


@contextmanager
def _api(action: str) -> Iterator[None]:
    """Translate the client library's failures into ForgeError at the boundary:
    TransientForgeError (with how long to wait) for outages and rate limits."""
    _answers.headers = {}
    try:
        yield
    except GitlabError as e:
        raise classify(action, e, getattr(_answers, "headers", {})) from e
    except TRANSIENT_REQUEST_ERRORS as e:
        raise TransientForgeError(f"GitLab: {action} failed: {type(e).__name__}",
                                  uncertain=uncertain(None, e)) from e
    except requests.RequestException as e:
        raise ForgeError(f"GitLab: {action} failed: {type(e).__name__}") from e


def classify(action: str, e: GitlabError, headers: Mapping[str, str],
             now: float | None = None) -> ForgeError:
    """5xx, 429, and a 403 with Retry-After or an exhausted quota are transient."""
    message = f"GitLab: {action} failed: HTTP {e.response_code}: {e.error_message}"
    known = lower(headers)
    if is_transient(e.response_code, known):
        return TransientForgeError(message, retry_after(known, time.time() if now is None
                                                        else now),
                                   uncertain=uncertain(e.response_code))
    return ForgeError(message, e.response_code)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _username(data: Mapping[str, Any], key: str = "user") -> str:
    user = data.get(key)
    return _text(user, "username") if isinstance(user, Mapping) else ""


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def approved_commit(versions: Sequence[tuple[datetime, str]], approved_at: datetime) -> str:
    """The head commit an approval given at `approved_at` was for: the head of
    the newest merge request version created at or before it. GitLab keeps
    approvals across pushes and records no commit on them; without this an
    approval of an old commit would count for whatever was pushed later."""
    sha = ""
    for created, head in sorted(versions):
        if created <= approved_at:
            sha = head
    return sha


class GitLabForge:
    """Forge for one GitLab instance, authenticated with one token (a bot user's
    personal, project or group access token).

    `command_access_level` is the least project role that may run commands
    (30 = Developer, 40 = Maintainer); `approver_access_level` the least whose
    approval counts. Roles inherited from groups count.
    """

    name = "gitlab"
    comment_limit = NOTE_LIMIT

    def __init__(self, token: str, url: str = DEFAULT_URL, user: str = "", *,
                 command_access_level: int = DEVELOPER, approver_access_level: int = DEVELOPER,
                 timeout: int = 30) -> None:
        if not token:
            raise ConfigError("the GitLab token is empty")
        self.user = user
        self._token = token
        self._url = url.rstrip("/")
        self._command_access_level = command_access_level
        self._approver_access_level = approver_access_level
        session = requests.Session()
        session.hooks["response"].append(_remember)
        self._gl = gitlab.Gitlab(self._url, private_token=token, timeout=timeout,
                                 retry_transient_errors=True, session=session)
        self._clone_urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitLabForge(url={self._url!r}, user={self.user!r})"

    # --- raw calls ------------------------------------------------------------------------

    def _get(self, path: str, **query: Any) -> dict[str, Any]:
        result = self._gl.http_get(path, query_data=query, **_CALL_RETRIES)
        if not isinstance(result, dict):
            raise ForgeError(f"GitLab: GET {path} did not answer a JSON object")
        return result

    def _list(self, path: str, **query: Any) -> list[dict[str, Any]]:
        return [item for item in self._gl.http_list(path, query_data=query, get_all=True,
                                                    **_CALL_RETRIES)
                if isinstance(item, dict)]

    def _post(self, path: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Not retried here: a POST whose answer was a 5xx may have landed, and
        the job queue retries it only after checking (flows/outbox.py)."""
        result = self._gl.http_post(path, post_data=dict(data), obey_rate_limit=False,
                                    retry_transient_errors=False)
        if not isinstance(result, dict):
            raise ForgeError(f"GitLab: POST {path} did not answer a JSON object")
        return result

    def _optional(self, path: str) -> dict[str, Any] | None:
        """GET that answers None on 404 (no such member, user or endpoint)."""
        try:
            return self._get(path)
        except GitlabError as e:
            if e.response_code == 404:
                return None
            raise

    @staticmethod
    def _project(repo: str) -> str:
        """The project's API path: the name checked, then URL-encoded whole
        ("group/sub/project" → "group%2Fsub%2Fproject"), as GitLab wants it."""
        if (problem := repo_name_problem(repo, "gitlab")) is not None:
            raise ForgeError(f"GitLab: {problem}", 422)
        return f"/projects/{EncodedId(repo)}"

    def _mr(self, repo: str, number: int) -> str:
        return f"{self._project(repo)}/merge_requests/{number}"

    def _clone_url(self, repo: str) -> str:
        with self._lock:
            known = self._clone_urls.get(repo)
        if known is None:
            known = _text(self._get(self._project(repo)), "http_url_to_repo")
            with self._lock:
                self._clone_urls[repo] = known
        return known

    # --- Forge ----------------------------------------------------------------------------

    def pull_request(self, repo: str, number: int) -> PullRequest:
        with _api(f"reading merge request {repo}!{number}"):
            return self._pull(repo, self._get(self._mr(repo, number)))

    def _pull(self, repo: str, mr: Mapping[str, Any]) -> PullRequest:
        return PullRequest(
            repo=Repo(forge=self.name, full_name=repo, clone_url=self._clone_url(repo)),
            number=int(mr["iid"]),
            author=_username(mr, "author"),
            head_sha=_text(mr, "sha"),
            head_ref=_text(mr, "source_branch"),
            base_ref=_text(mr, "target_branch"),
            title=_text(mr, "title"),
            url=_text(mr, "web_url"),
        )

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]:
        """From /diffs (GitLab 15.7+), which pages instead of truncating like /changes."""
        with _api(f"listing files of {repo}!{number}"):
            return [_changed_file(d) for d in self._list(f"{self._mr(repo, number)}/diffs")]

    def post_comment(self, repo: str, number: int, body: str) -> None:
        with _api(f"commenting on {repo}!{number}"):
            self._post(f"{self._mr(repo, number)}/notes", {"body": body})

    def comments(self, repo: str, number: int) -> list[Comment]:
        """GET …/merge_requests/{iid}/notes, oldest first, system notes left out."""
        with _api(f"listing notes of {repo}!{number}"):
            return [Comment(author=_username(n, "author"), body=_text(n, "body"))
                    for n in self._list(f"{self._mr(repo, number)}/notes", sort="asc",
                                        order_by="created_at")
                    if not n.get("system")]

    def set_status(self, repo: str, sha: str, context: str, state: StatusState,
                   description: str) -> None:
        if len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
        with _api(f"setting status {context} on {repo}@{sha[:12]}"):
            try:
                self._post(f"{self._project(repo)}/statuses/{EncodedId(sha)}",
                           {"state": _STATUS_STATES[state], "name": context,
                            "description": description})
            except GitlabError as e:
                if e.response_code == 400 and "Cannot transition status" in str(e.error_message):
                    log.debug("status %s on %s is already %s", context, sha[:12], state.value)
                    return
                raise

    def reviews(self, repo: str, number: int) -> list[Review]:
        """Approvals, each tied to the commit it was given on (see approved_commit),
        then reviewers' "requested changes", which block like GitHub's."""
        mr = self._mr(repo, number)
        with _api(f"listing approvals of {repo}!{number}"):
            approved_by = self._get(f"{mr}/approvals").get("approved_by") or []
            approvals = [(_username(a), _when(a.get("approved_at")))
                         for a in approved_by if isinstance(a, dict)]
            if any(when is None for _, when in approvals):
                noted = self._approval_notes(mr)
                approvals = [(user, when or noted.get(user)) for user, when in approvals]
            versions = [(created, _text(v, "head_commit_sha"))
                        for v in self._list(f"{mr}/versions")
                        if (created := _when(v.get("created_at"))) is not None]
            result = [
                Review(user=user, state=ReviewState.APPROVED,
                       commit_sha=approved_commit(versions, when) if when else "",
                       submitted_at=when)
                for user, when in approvals
                if user
            ]
            return result + self._changes_requested(mr)

    def _approval_notes(self, mr: str) -> dict[str, datetime]:
        """Older GitLab gives approvals no time; the system notes it writes on
        approve/unapprove do. Each user's approval dates from their newest
        "approved" note not followed by an "unapproved" one."""
        times: dict[str, datetime] = {}
        for note in self._list(f"{mr}/notes", sort="asc", order_by="created_at"):
            body = _text(note, "body").strip().lower()
            user, when = _username(note, "author"), _when(note.get("created_at"))
            if not note.get("system") or not user or when is None:
                continue
            if body.startswith(_APPROVED_NOTE):
                times[user] = when
            elif body.startswith(_UNAPPROVED_NOTES):
                times.pop(user, None)
        return times

    def _changes_requested(self, mr: str) -> list[Review]:
        try:
            reviewers = self._list(f"{mr}/reviewers")
        except GitlabError as e:
            if e.response_code == 404:  # GitLab before the reviewers API
                return []
            raise
        return [Review(user=_username(r), state=ReviewState.CHANGES_REQUESTED, commit_sha="")
                for r in reviewers if r.get("state") == "requested_changes" and _username(r)]

    def can_run_commands(self, repo: str, user: str) -> bool:
        with _api(f"reading {user}'s membership of {repo}"):
            level = self._access_level(f"{self._project(repo)}/members/all", user)
            return level >= self._command_access_level

    def can_approve(self, repo: str, user: str) -> bool:
        with _api(f"reading {user}'s membership of {repo}"):
            level = self._access_level(f"{self._project(repo)}/members/all", user)
            return level >= self._approver_access_level

    def default_branch(self, repo: str) -> str:
        with _api(f"reading project {repo}"):
            branch = _text(self._get(self._project(repo)), "default_branch")
        if not branch:
            raise ForgeError(f"GitLab: project {repo} has no default branch (is it empty?)")
        return branch

    def mergeable(self, repo: str, number: int) -> Mergeability:
        """From `detailed_merge_status` (GitLab 15.6+; `merge_status` before),
        asked again while GitLab is still checking."""
        with _api(f"reading whether {repo}!{number} can be merged"):
            for attempt in range(MERGEABLE_TRIES):
                found = _mergeability(self._get(self._mr(repo, number),
                                                with_merge_status_recheck="true"))
                if found.mergeable is not None or attempt == MERGEABLE_TRIES - 1:
                    break
                time.sleep(MERGEABLE_WAIT)
            return found

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        """PUT /merge_requests/{iid}/merge with the applied head's `sha` (GitLab
        answers 409 if the branch moved since) and, as Atlantis does,
        `should_remove_source_branch`: GitLab deletes the branch itself."""
        path = f"{self._mr(repo, number)}/merge"
        data: dict[str, Any] = {"sha": head_sha}
        if delete_branch:
            data["should_remove_source_branch"] = True
        try:
            with _api(f"merging {repo}!{number}"):
                result = self._gl.http_put(path, post_data=data, obey_rate_limit=False,
                                           retry_transient_errors=False)
        except TransientForgeError:
            raise
        except ForgeError:
            # a merge retried after its answer was lost finds it merged already
            with _api(f"reading merge request {repo}!{number}"):
                result = self._get(self._mr(repo, number))
            if result.get("state") != "merged" or result.get("sha") != head_sha:
                raise
        if not isinstance(result, dict) or result.get("state") != "merged":
            state = result.get("state") if isinstance(result, dict) else None
            raise ForgeError(f"GitLab: merging {repo}!{number} left it {state or 'unmerged'}")
        return Merged(True) if delete_branch else Merged()

    def in_team(self, team: str, user: str) -> bool:
        if not team:
            return False
        with _api(f"reading {user}'s membership of group {team}"):
            return self._access_level(f"/groups/{EncodedId(team)}/members/all", user) > 0

    def _access_level(self, members: str, user: str) -> int:
        """The user's effective role (inherited from parent groups included);
        0 for non-members, unknown users and pending or blocked memberships."""
        found = self._list("/users", username=user)
        user_id = next((u.get("id") for u in found if _text(u, "username") == user), None)
        if not isinstance(user_id, int):
            log.info("no GitLab user named %s", user)
            return 0
        member = self._optional(f"{members}/{user_id}")
        if member is None:
            return 0
        if member.get("state", "active") != "active" or \
                member.get("membership_state", "active") != "active":
            return 0
        level = member.get("access_level")
        return level if isinstance(level, int) else 0

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str,
                    opened_by: str) -> PullRequest:
        """Opened as the bot's account: GitLab cannot open it as `opened_by`."""
        with _api(f"opening a merge request on {repo} from {head}"):
            mr = self._post(f"{self._project(repo)}/merge_requests",
                            {"source_branch": head, "target_branch": base, "title": title,
                             "description": body})
            return self._pull(repo, mr)

    @property
    def clone_env(self) -> dict[str, str]:
        """The token goes in an http.extraHeader scoped to the instance's URL, so it
        is in neither argv nor the remote URL and no other host sees it."""
        basic = base64.b64encode(f"oauth2:{self._token}".encode()).decode()
        return {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"http.{self._url}/.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
        }


def _mergeability(mr: Mapping[str, Any]) -> Mergeability:
    detailed = _text(mr, "detailed_merge_status")
    if detailed:
        if detailed in _CHECKING:
            return Mergeability(None, detailed)
        return Mergeability(detailed in _MERGEABLE, detailed)
    status = _text(mr, "merge_status")
    if not status or status in _CHECKING:
        return Mergeability(None, status)
    return Mergeability(status == "can_be_merged", status)


def _changed_file(diff: Mapping[str, Any]) -> ChangedFile:
    path, old = _text(diff, "new_path"), _text(diff, "old_path")
    if diff.get("deleted_file"):
        return ChangedFile(path=old or path, status=FileStatus.REMOVED)
    if diff.get("new_file"):
        return ChangedFile(path=path, status=FileStatus.ADDED)
    if diff.get("renamed_file"):
        return ChangedFile(path=path, status=FileStatus.RENAMED, previous_path=old)
    return ChangedFile(path=path, status=FileStatus.MODIFIED)
