"""A fake GitLab: the REST v4 subset atlantis-py uses, over loopback HTTP, on real git.

Its test-facing methods mirror FakeGitHub's names and meanings (create_repo,
open_pull, push, review, set_permission, comments, statuses, *_payload, deliver)
so end-to-end tests can run unchanged against either forge. Where GitLab differs
the fake behaves like GitLab:

* `review(..., "APPROVED")` approves: GitLab records who and when, never which
  commit; the forge derives the commit from the merge request's versions, which
  the fake creates on open_pull and push. `commit_sha=` an older head backdates
  the approval to when that commit was the head.
* `review(..., "CHANGES_REQUESTED")` withdraws the user's approval and sets their
  reviewer state to `requested_changes` (GitLab 17's "Request changes");
  "COMMENTED" sets it to `reviewed` and changes nothing else.
* `dismiss_review` is an unapprove.
* `set_permission` maps admin/maintain → Maintainer (40), write → Developer (30),
  triage/read → Reporter (20), none → not a member.
* `statuses()` reports GitLab's states in the neutral names both fakes share:
  running → pending, failed → failure, canceled → error.

Routes live in gitlab_api.py, webhook payloads in gitlab_payloads.py; what both
fakes share in forge.py (bookkeeping, server) and model.py (records).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from tests.fakeforge import gitlab_payloads
from tests.fakeforge.forge import FakeForge
from tests.fakeforge.gitlab_api import GitLabApi
from tests.fakeforge.gitrepos import BareRepo
from tests.fakeforge.model import (
    FakeComment,
    FakeReview,
    FakeStatus,
    Permission,
    PullRequest,
    ReviewStateName,
)

FakeNote = FakeComment  # GitLab calls a comment a note

ACCESS_LEVELS = {"admin": 40, "maintain": 40, "write": 30, "triage": 20, "read": 20}
_REVIEWER_STATES = {"APPROVED": "approved", "CHANGES_REQUESTED": "requested_changes",
                    "COMMENTED": "reviewed", "DISMISSED": "unapproved"}


@dataclass(frozen=True)
class FakeVersion:
    id: int
    head_sha: str
    base_sha: str
    start_sha: str
    created_at: datetime


@dataclass(eq=False)
class FakeProject:
    full_name: str  # "group/sub/project"
    id: int
    default_branch: str
    git: BareRepo
    pulls: dict[int, FakeMergeRequest] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)  # direct members only
    statuses: list[FakeStatus] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.full_name.rsplit("/", 1)[-1]

    @property
    def namespace(self) -> str:
        return self.full_name.rsplit("/", 1)[0]

    @property
    def owner(self) -> str:
        return self.full_name.split("/", 1)[0]

    @property
    def clone_url(self) -> str:
        return self.git.url


@dataclass(eq=False)
class FakeMergeRequest(PullRequest["FakeProject"]):
    """`number` is the iid, named as on FakePull so tests read the same; `reviews`
    is the approve/unapprove history."""

    state: str = "opened"  # opened | closed | merged
    versions: list[FakeVersion] = field(default_factory=list)  # oldest first

    @property
    def iid(self) -> int:
        return self.number

    def approvals(self) -> list[FakeReview]:
        """Each user's standing approval: their newest verdict, when it approves."""
        latest: dict[str, FakeReview] = {}
        for review in self.reviews:
            if review.state != "COMMENTED":
                latest[review.user] = review
        return [r for r in latest.values() if r.state == "APPROVED"]

    def reviewer_states(self) -> dict[str, str]:
        return {r.user: _REVIEWER_STATES[r.state] for r in self.reviews}


class FakeGitLab(FakeForge[FakeProject, FakeMergeRequest]):
    """Thread-safe: the HTTP server calls in from several threads.

    `approvals_with_timestamps = False` answers approvals without `approved_at`,
    as GitLab before 17 does, so the forge must date them from system notes.
    """

    NEUTRAL_STATES: ClassVar[Mapping[str, str]] = {
        "running": "pending", "failed": "failure", "canceled": "error"}
    STATUS_NAME_FIELDS: ClassVar[tuple[str, ...]] = ("name", "context")
    FAULT_ROUTES: ClassVar[Mapping[str, frozenset[str]]] = {
        "pull": frozenset({"mr"}),
        "files": frozenset({"mr_diffs"}),
        "reviews": frozenset({"mr_approvals", "mr_versions", "mr_reviewers"}),
        "comment": frozenset({"create_note"}),
        "status": frozenset({"create_status"}),
        "merge": frozenset({"merge_mr"}),
        "permission": frozenset({"users", "project_member"}),
    }
    SECONDARY_LIMIT: ClassVar[tuple[int, str]] = (429, "429 Too Many Requests")

    def __init__(
        self, tmp_path: Path, token: str = "test-token", bot_login: str = "atlantis-bot"
    ) -> None:
        super().__init__(tmp_path / "fake-gitlab", token, bot_login, first_id=2001)
        self.groups: dict[str, dict[str, int]] = {}
        self.users: dict[str, int] = {}
        self.approvals_with_timestamps = True
        self._last_tick = datetime.now(UTC)
        self.http = GitLabApi(self)
        self.web_url = self.serve(self.http, "fake-gitlab")
        self.api_url = self.web_url  # python-gitlab appends /api/v4 itself
        self.user_id(bot_login)

    def now(self) -> datetime:
        """Strictly increasing, millisecond precision as GitLab reports: an approval
        and a push in the same second still have a definite order."""
        with self.lock:
            tick = datetime.now(UTC)
            tick = tick.replace(microsecond=tick.microsecond // 1000 * 1000)
            if tick <= self._last_tick:
                tick = self._last_tick + timedelta(milliseconds=1)
            self._last_tick = tick
            return tick

    def user_id(self, username: str) -> int:
        """Registers the user on first sight; unknown users are not found by the API."""
        with self.lock:
            if username not in self.users:
                self.users[username] = self.next_id()
            return self.users[username]

    # --- projects and merge requests ------------------------------------------------------

    def create_repo(
        self, full_name: str, files: Mapping[str, str], default_branch: str = "main"
    ) -> FakeProject:
        with self.lock:
            git = BareRepo.create(self.root / f"{full_name}.git", files, default_branch)
            repo = FakeProject(full_name, self.next_id(), default_branch, git)
            repo.members[repo.owner] = ACCESS_LEVELS["admin"]
            self.user_id(repo.owner)
            self.repos[full_name] = repo
            return repo

    def add_pull(self, repo: FakeProject, branch: str, base: str, author: str, title: str,
                 body: str = "") -> FakeMergeRequest:
        """A merge request for an existing branch, as the API creates one."""
        with self.lock:
            sha = repo.git.rev_parse(f"refs/heads/{branch}")
            number = len(repo.pulls) + 1
            pull = FakeMergeRequest(repo, number, self.next_id(), branch, base, author, title,
                                    sha, self.now(), body)
            repo.pulls[number] = pull
            repo.members.setdefault(author, ACCESS_LEVELS["write"])
            self.user_id(author)
            self._add_version(pull)
            return pull

    def open_on_branch(self, repo: FakeProject, branch: str, base: str, author: str,
                       title: str, body: str) -> FakeMergeRequest:
        return self.add_pull(repo, branch, base, author, title, body)

    def pushed(self, pull: FakeMergeRequest) -> None:
        """Each push makes a new merge request version."""
        self._add_version(pull)

    def _add_version(self, pull: FakeMergeRequest) -> None:
        git = pull.repo.git
        start = git.branch_sha(pull.base) or ""
        pull.versions.append(FakeVersion(
            self.next_id(), pull.head_sha, git.merge_base(start, pull.head_sha), start,
            self.now()))

    def close_pull(self, pull: FakeMergeRequest, merged: bool = False) -> None:
        with self.lock:
            if merged:
                message = f"Merge branch '{pull.branch}' into '{pull.base}'"
                pull.merge_sha = pull.repo.git.merge(pull.base, pull.head_sha, message)
            pull.state = "merged" if merged else "closed"
            pull.merged, pull.closed_at = merged, self.now()

    def review(
        self,
        pull: FakeMergeRequest,
        user: str,
        state: ReviewStateName = "APPROVED",
        commit_sha: str | None = None,
        body: str = "",
    ) -> FakeReview:
        with self.lock:
            when = self.now()
            if commit_sha and commit_sha != pull.head_sha:
                found = [v.created_at for v in pull.versions if v.head_sha == commit_sha]
                if not found:
                    raise LookupError(f"{commit_sha} was never the head of !{pull.number}")
                when = found[-1]
            had_approval = any(r.user == user for r in pull.approvals())
            review = FakeReview(self.next_id(), user, state, commit_sha or pull.head_sha,
                                when, body)
            pull.reviews.append(review)
            self.user_id(user)
            if state == "APPROVED":
                self.add_comment(pull, user, "approved this merge request", False, system=True,
                                 at=when)
            elif state == "CHANGES_REQUESTED":
                if had_approval:
                    self.add_comment(pull, user, "unapproved this merge request", False,
                                     system=True)
                self.add_comment(pull, user, "requested changes", False, system=True)
            return review

    def dismiss_review(self, pull: FakeMergeRequest, user: str) -> FakeReview:
        """Withdraws `user`'s approval (GitLab's unapprove)."""
        with self.lock:
            if self.latest_review(pull, user) is None:
                raise LookupError(f"{user} has not reviewed !{pull.number}")
            review = FakeReview(self.next_id(), user, "DISMISSED", pull.head_sha, self.now())
            pull.reviews.append(review)
            self.add_comment(pull, user, "unapproved this merge request", False, system=True)
            return review

    def set_permission(self, repo: FakeProject, user: str, permission: Permission) -> None:
        with self.lock:
            self.user_id(user)
            if permission == "none":
                repo.members.pop(user, None)
            else:
                repo.members[user] = ACCESS_LEVELS[permission]

    def add_group_member(self, group: str, user: str, access_level: int = 30) -> None:
        """Membership of `group` is inherited by its subgroups and their projects."""
        with self.lock:
            self.user_id(user)
            self.groups.setdefault(group, {})[user] = access_level

    def group_exists(self, group: str) -> bool:
        with self.lock:
            return group in self.groups or any(
                r.full_name.startswith(group + "/") for r in self.repos.values())

    def access_level(self, repo: FakeProject | None, group: str, user: str) -> int:
        """Effective level in `repo` (or in `group` when repo is None): the highest of
        the direct membership and those of every ancestor group; 0 for none."""
        with self.lock:
            levels = [repo.members.get(user, 0)] if repo is not None else [0]
            parts = group.split("/")
            for i in range(1, len(parts) + 1):
                levels.append(self.groups.get("/".join(parts[:i]), {}).get(user, 0))
            return max(levels)

    # --- webhooks -------------------------------------------------------------------------

    def pull_request_payload(
        self, pull: FakeMergeRequest, action: str, sender: str | None = None
    ) -> dict[str, Any]:
        """GitHub action names are accepted: opened, reopened, synchronize, edited,
        closed (a merge when the merge request was merged); GitLab's too."""
        with self.lock:
            return gitlab_payloads.merge_request(self, pull, action, sender)

    def comment_payload(self, pull: FakeMergeRequest, user: str, body: str) -> dict[str, Any]:
        """Also records the note on the merge request, as GitLab would."""
        with self.lock:
            note = self.add_comment(pull, user, body, via_api=False)
            self.user_id(user)
            return gitlab_payloads.note(self, pull, note)

    def issue_comment_payload(
        self, repo: FakeProject, number: int, user: str, body: str
    ) -> dict[str, Any]:
        """A note on a plain issue (not a merge request)."""
        with self.lock:
            return gitlab_payloads.issue_note(self, repo, number, user, body)

    def review_payload(self, pull: FakeMergeRequest, user: str,
                       state: str = "approved") -> dict[str, Any]:
        """"approved" → an `approved` hook, "dismissed" → `unapproved`."""
        with self.lock:
            action = "unapproved" if state.lower() == "dismissed" else "approved"
            return gitlab_payloads.merge_request(self, pull, action, user)

    def webhook_headers(self, url: str, event: str, body: bytes, secret: str,
                        delivery_id: str | None, signature: str | None) -> dict[str, str]:
        """`event` may be GitHub's name (pull_request …) or GitLab's (Note Hook …)."""
        return gitlab_payloads.headers(url, event, signature or secret, delivery_id)
