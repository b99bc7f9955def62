"""GitLab (gitlab.com or self-managed) through python-gitlab. No python-gitlab
object leaves this module (and gitlab_api, the calls below it).

Calls go through the client's raw `http_*` helpers with URL-encoded project
paths ("group/sub/project" → "group%2Fsub%2Fproject"), so every answer is plain
JSON read with typed accessors rather than python-gitlab's dynamic attributes;
the client still does authentication, retries, pagination and error mapping.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gitlab.exceptions import GitlabError
from gitlab.utils import EncodedId

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.forge import (
    ChangedFile,
    Comment,
    Mergeability,
    Merged,
    Review,
    ReviewState,
    StatusState,
)
from atlantis_py.errors import ConfigError, ForgeError, TransientForgeError
from atlantis_py.forges.base import settled
from atlantis_py.forges.gitlab_api import (
    GitLabClient,
    api,
    approved_commit,
    changed_file,
    mergeability,
    mr_path,
    project_path,
    text_of,
    time_of,
    user_of,
)
from atlantis_py.forges.gitlab_webhooks import GitLabWebhooks

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
_APPROVED_NOTE = "approved this merge request"
_UNAPPROVED_NOTES = ("unapproved this merge request", "revoked approval for this merge request")


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
        self._client = GitLabClient(self._url, token, timeout)
        self._clone_urls: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitLabForge(url={self._url!r}, user={self.user!r})"

    def _clone_url(self, repo: str) -> str:
        with self._lock:
            known = self._clone_urls.get(repo)
        if known is None:
            known = text_of(self._client.get(project_path(repo)), "http_url_to_repo")
            with self._lock:
                self._clone_urls[repo] = known
        return known

    # --- Forge ----------------------------------------------------------------------------

    def pull_request(self, repo: str, number: int) -> PullRequest:
        with api(f"reading merge request {repo}!{number}"):
            return self._pull(repo, self._client.get(mr_path(repo, number)))

    def _pull(self, repo: str, mr: Mapping[str, Any]) -> PullRequest:
        return PullRequest(
            repo=Repo(forge=self.name, full_name=repo, clone_url=self._clone_url(repo)),
            number=int(mr["iid"]),
            author=user_of(mr, "author"),
            head_sha=text_of(mr, "sha"),
            head_ref=text_of(mr, "source_branch"),
            base_ref=text_of(mr, "target_branch"),
            title=text_of(mr, "title"),
            url=text_of(mr, "web_url"),
        )

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]:
        """From /diffs (GitLab 15.7+), which pages instead of truncating like /changes."""
        with api(f"listing files of {repo}!{number}"):
            return [changed_file(d) for d in self._client.list(f"{mr_path(repo, number)}/diffs")]

    def post_comment(self, repo: str, number: int, body: str) -> None:
        with api(f"commenting on {repo}!{number}"):
            self._client.post(f"{mr_path(repo, number)}/notes", {"body": body})

    def comments(self, repo: str, number: int) -> list[Comment]:
        """GET …/merge_requests/{iid}/notes, oldest first, system notes left out."""
        with api(f"listing notes of {repo}!{number}"):
            return [Comment(author=user_of(n, "author"), body=text_of(n, "body"))
                    for n in self._client.list(f"{mr_path(repo, number)}/notes", sort="asc",
                                        order_by="created_at")
                    if not n.get("system")]

    def set_status(self, repo: str, sha: str, context: str, state: StatusState,
                   description: str) -> None:
        if len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
        with api(f"setting status {context} on {repo}@{sha[:12]}"):
            try:
                self._client.post(f"{project_path(repo)}/statuses/{EncodedId(sha)}",
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
        mr = mr_path(repo, number)
        with api(f"listing approvals of {repo}!{number}"):
            approved_by = self._client.get(f"{mr}/approvals").get("approved_by") or []
            approvals = [(user_of(a), time_of(a.get("approved_at")))
                         for a in approved_by if isinstance(a, dict)]
            if any(when is None for _, when in approvals):
                noted = self._approval_notes(mr)
                approvals = [(user, when or noted.get(user)) for user, when in approvals]
            versions = [(created, text_of(v, "head_commit_sha"))
                        for v in self._client.list(f"{mr}/versions")
                        if (created := time_of(v.get("created_at"))) is not None]
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
        for note in self._client.list(f"{mr}/notes", sort="asc", order_by="created_at"):
            body = text_of(note, "body").strip().lower()
            user, when = user_of(note, "author"), time_of(note.get("created_at"))
            if not note.get("system") or not user or when is None:
                continue
            if body.startswith(_APPROVED_NOTE):
                times[user] = when
            elif body.startswith(_UNAPPROVED_NOTES):
                times.pop(user, None)
        return times

    def _changes_requested(self, mr: str) -> list[Review]:
        try:
            reviewers = self._client.list(f"{mr}/reviewers")
        except GitlabError as e:
            if e.response_code == 404:  # GitLab before the reviewers API
                return []
            raise
        return [Review(user=user_of(r), state=ReviewState.CHANGES_REQUESTED, commit_sha="")
                for r in reviewers if r.get("state") == "requested_changes" and user_of(r)]

    def can_run_commands(self, repo: str, user: str) -> bool:
        with api(f"reading {user}'s membership of {repo}"):
            level = self._access_level(f"{project_path(repo)}/members/all", user)
            return level >= self._command_access_level

    def can_approve(self, repo: str, user: str) -> bool:
        with api(f"reading {user}'s membership of {repo}"):
            level = self._access_level(f"{project_path(repo)}/members/all", user)
            return level >= self._approver_access_level

    def default_branch(self, repo: str) -> str:
        with api(f"reading project {repo}"):
            branch = text_of(self._client.get(project_path(repo)), "default_branch")
        if not branch:
            raise ForgeError(f"GitLab: project {repo} has no default branch (is it empty?)")
        return branch

    def mergeable(self, repo: str, number: int) -> Mergeability:
        """From `detailed_merge_status` (GitLab 15.6+; `merge_status` before),
        asked again while GitLab is still checking."""
        with api(f"reading whether {repo}!{number} can be merged"):
            return settled(lambda: mergeability(self._client.get(
                mr_path(repo, number), with_merge_status_recheck="true")))

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        """PUT /merge_requests/{iid}/merge with the applied head's `sha` (GitLab
        answers 409 if the branch moved since) and, as Atlantis does,
        `should_remove_source_branch`: GitLab deletes the branch itself."""
        path = f"{mr_path(repo, number)}/merge"
        data: dict[str, Any] = {"sha": head_sha}
        if delete_branch:
            data["should_remove_source_branch"] = True
        try:
            with api(f"merging {repo}!{number}"):
                result = self._client.put(path, data)
        except TransientForgeError:
            raise
        except ForgeError:
            # a merge retried after its answer was lost finds it merged already
            with api(f"reading merge request {repo}!{number}"):
                result = self._client.get(mr_path(repo, number))
            if result.get("state") != "merged" or result.get("sha") != head_sha:
                raise
        if not isinstance(result, dict) or result.get("state") != "merged":
            state = result.get("state") if isinstance(result, dict) else None
            raise ForgeError(f"GitLab: merging {repo}!{number} left it {state or 'unmerged'}")
        return Merged(True) if delete_branch else Merged()

    def in_team(self, team: str, user: str) -> bool:
        if not team:
            return False
        with api(f"reading {user}'s membership of group {team}"):
            return self._access_level(f"/groups/{EncodedId(team)}/members/all", user) > 0

    def _access_level(self, members: str, user: str) -> int:
        """The user's effective role (inherited from parent groups included);
        0 for non-members, unknown users and pending or blocked memberships."""
        found = self._client.list("/users", username=user)
        user_id = next((u.get("id") for u in found if text_of(u, "username") == user), None)
        if not isinstance(user_id, int):
            log.info("no GitLab user named %s", user)
            return 0
        member = self._client.optional(f"{members}/{user_id}")
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
        with api(f"opening a merge request on {repo} from {head}"):
            mr = self._client.post(f"{project_path(repo)}/merge_requests",
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
