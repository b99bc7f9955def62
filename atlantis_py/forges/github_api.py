"""GitHub's REST API through PyGithub, below GitHubForge: the clients, the
library's failures translated into ForgeError, and readers of its answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit

import requests
from github import Auth, Github, GithubException, RateLimitExceededException
from urllib3.util import Retry

from atlantis_py.domain.forge import FileStatus, ReviewState
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.errors import ForgeError, TransientForgeError
from atlantis_py.forges.transient import (
    is_transient,
    lower,
    request_failure,
    retry_after,
    uncertain,
)

log = logging.getLogger(__name__)

_FILE_STATUSES = {
    "added": FileStatus.ADDED,
    "copied": FileStatus.ADDED,
    "modified": FileStatus.MODIFIED,
    "changed": FileStatus.MODIFIED,
    "unchanged": FileStatus.MODIFIED,
    "removed": FileStatus.REMOVED,
    "renamed": FileStatus.RENAMED,
}
REVIEW_STATES = {
    "APPROVED": ReviewState.APPROVED,
    "CHANGES_REQUESTED": ReviewState.CHANGES_REQUESTED,
    "COMMENTED": ReviewState.COMMENTED,
    "DISMISSED": ReviewState.DISMISSED,
}


def client_factory(api_url: str, *, write_interval: float, retries: int,
                   timeout: int) -> Callable[[Auth.Auth], Github]:
    """Clients for one API URL, one per credential (a token, an App's installation)."""
    # a blip is retried here, briefly and for reads only (a POST that timed out
    # may have landed); anything longer, and every rate limit, goes back to the
    # job queue as a TransientForgeError, so no worker thread sleeps on it
    retry = Retry(
        total=retries,
        backoff_factor=0.5,
        status_forcelist=[502, 503, 504],
        raise_on_status=False,
        respect_retry_after_header=False,
    )

    def client(auth: Auth.Auth) -> Github:
        return Github(
            base_url=api_url,
            auth=auth,
            timeout=timeout,
            retry=retry if retries > 0 else None,
            per_page=100,
            lazy=True,
            seconds_between_requests=None,
            seconds_between_writes=write_interval or None,
        )

    return client


@contextmanager
def api(action: str) -> Iterator[None]:
    """Translate the client library's failures into ForgeError at the boundary:
    TransientForgeError (with how long to wait) for outages and rate limits."""
    try:
        yield
    except GithubException as e:
        raise classify(action, e) from e
    except requests.RequestException as e:
        raise request_failure("GitHub", action, e) from e


def classify(action: str, e: GithubException, now: float | None = None) -> ForgeError:
    """5xx, 429, and a 403 that is a rate limit (Retry-After, an exhausted quota,
    or PyGithub's reading of the message) are transient; the rest permanent."""
    message = f"GitHub: {action} failed: HTTP {e.status}: {_message(e)}"
    headers = lower(e.headers)
    if is_transient(e.status, headers) or isinstance(e, RateLimitExceededException):
        wait = retry_after(headers, time.time() if now is None else now)
        return TransientForgeError(message, retry_after=wait, uncertain=uncertain(e.status))
    return ForgeError(message, e.status)


def _message(e: GithubException) -> str:
    data = e.data
    if isinstance(data, dict):
        return str(data.get("message") or data)
    return str(data or "")


def web_root(api_url: str) -> str:
    """Where clones live for an API URL: github.com for api.github.com, the
    same host for GitHub Enterprise (https://ghe.example.com/api/v3)."""
    parts = urlsplit(api_url)
    host = parts.netloc
    if host == "api.github.com":
        host = "github.com"
    return f"{parts.scheme}://{host}/"


def repo_path(full_name: str) -> str:
    """`owner/name` as it goes into /repos/{owner}/{name}: checked, each part
    URL-encoded, so no name can point the bot's token at another path."""
    if (problem := repo_name_problem(full_name, "github")) is not None:
        raise ForgeError(f"GitHub: {problem}", 422)
    owner, name = full_name.split("/")
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


def file_status(status: str) -> FileStatus:
    known = _FILE_STATUSES.get(status)
    if known is None:
        log.debug("unknown GitHub file status %s; treating as modified", status)
        return FileStatus.MODIFIED
    return known
