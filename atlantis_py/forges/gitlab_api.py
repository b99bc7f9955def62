"""GitLab's REST API through python-gitlab, below GitLabForge: the client's raw
`http_*` calls answering plain JSON, the library's failures translated into
ForgeError, and typed readers of the answers."""

from __future__ import annotations

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

from atlantis_py.domain.forge import ChangedFile, FileStatus, Mergeability
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.errors import ForgeError, TransientForgeError
from atlantis_py.forges.transient import (
    is_transient,
    lower,
    request_failure,
    retry_after,
    uncertain,
)

# detailed_merge_status values that let an apply go ahead: a running or failed
# pipeline may be atlantis's own commit status (Atlantis reads them the same way)
_MERGEABLE = frozenset({"mergeable", "ci_must_pass", "ci_still_running"})
# GitLab is still working it out: ask again
_CHECKING = frozenset({"checking", "unchecked", "preparing", "approvals_syncing",
                       "cannot_be_merged_recheck"})
# python-gitlab retries a blip itself, twice and briefly; a longer outage and
# every rate limit go back to the job queue instead of holding a worker thread
_CALL_RETRIES: dict[str, Any] = {"max_retries": 2, "obey_rate_limit": False}
_answers = threading.local()  # headers of this thread's latest answer: GitlabError has none


def _remember(response: requests.Response, *_args: object, **_kwargs: object) -> None:
    _answers.headers = dict(response.headers)


@contextmanager
def api(action: str) -> Iterator[None]:
    """Translate the client library's failures into ForgeError at the boundary:
    TransientForgeError (with how long to wait) for outages and rate limits."""
    _answers.headers = {}
    try:
        yield
    except GitlabError as e:
        raise classify(action, e, getattr(_answers, "headers", {})) from e
    except requests.RequestException as e:
        raise request_failure("GitLab", action, e) from e


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


def text_of(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def user_of(data: Mapping[str, Any], key: str = "user") -> str:
    user = data.get(key)
    return text_of(user, "username") if isinstance(user, Mapping) else ""


def time_of(value: object) -> datetime | None:
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


class GitLabClient:
    """One GitLab instance's API, authenticated with one token."""

    def __init__(self, url: str, token: str, timeout: int) -> None:
        session = requests.Session()
        session.hooks["response"].append(_remember)
        self.gl = gitlab.Gitlab(url, private_token=token, timeout=timeout,
                                retry_transient_errors=True, session=session)

    def get(self, path: str, **query: Any) -> dict[str, Any]:
        result = self.gl.http_get(path, query_data=query, **_CALL_RETRIES)
        if not isinstance(result, dict):
            raise ForgeError(f"GitLab: GET {path} did not answer a JSON object")
        return result

    def list(self, path: str, **query: Any) -> list[dict[str, Any]]:
        return [item for item in self.gl.http_list(path, query_data=query, get_all=True,
                                                    **_CALL_RETRIES)
                if isinstance(item, dict)]

    def post(self, path: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Not retried here: a POST whose answer was a 5xx may have landed, and
        the job queue retries it only after checking (flows/outbox.py)."""
        result = self.gl.http_post(path, post_data=dict(data), obey_rate_limit=False,
                                    retry_transient_errors=False)
        if not isinstance(result, dict):
            raise ForgeError(f"GitLab: POST {path} did not answer a JSON object")
        return result

    def optional(self, path: str) -> dict[str, Any] | None:
        """GET that answers None on 404 (no such member, user or endpoint)."""
        try:
            return self.get(path)
        except GitlabError as e:
            if e.response_code == 404:
                return None
            raise

    def put(self, path: str, data: Mapping[str, Any]) -> object:
        """Not retried here either, as POST."""
        return self.gl.http_put(path, post_data=dict(data), obey_rate_limit=False,
                                retry_transient_errors=False)


def project_path(repo: str) -> str:
    """The project's API path: the name checked, then URL-encoded whole
    ("group/sub/project" → "group%2Fsub%2Fproject"), as GitLab wants it."""
    if (problem := repo_name_problem(repo, "gitlab")) is not None:
        raise ForgeError(f"GitLab: {problem}", 422)
    return f"/projects/{EncodedId(repo)}"


def mr_path(repo: str, number: int) -> str:
    return f"{project_path(repo)}/merge_requests/{number}"


def mergeability(mr: Mapping[str, Any]) -> Mergeability:
    detailed = text_of(mr, "detailed_merge_status")
    if detailed:
        if detailed in _CHECKING:
            return Mergeability(None, detailed)
        return Mergeability(detailed in _MERGEABLE, detailed)
    status = text_of(mr, "merge_status")
    if not status or status in _CHECKING:
        return Mergeability(None, status)
    return Mergeability(status == "can_be_merged", status)


def changed_file(diff: Mapping[str, Any]) -> ChangedFile:
    path, old = text_of(diff, "new_path"), text_of(diff, "old_path")
    if diff.get("deleted_file"):
        return ChangedFile(path=old or path, status=FileStatus.REMOVED)
    if diff.get("new_file"):
        return ChangedFile(path=path, status=FileStatus.ADDED)
    if diff.get("renamed_file"):
        return ChangedFile(path=path, status=FileStatus.RENAMED, previous_path=old)
    return ChangedFile(path=path, status=FileStatus.MODIFIED)
