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

Routes live in gitlab_api.py, webhook payloads in gitlab_payloads.py.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Self

from werkzeug.serving import BaseWSGIServer, make_server

from tests.fakeforge import gitlab_payloads
from tests.fakeforge.github import FakeReview, RecordedRequest, _QuietHandler
from tests.fakeforge.gitlab_api import GitLabApi
from tests.fakeforge.gitrepos import BareRepo

Permission = Literal["admin", "maintain", "write", "triage", "read", "none"]
ReviewStateName = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED"]

ACCESS_LEVELS = {"admin": 40, "maintain": 40, "write": 30, "triage": 20, "read": 20}
NEUTRAL_STATES = {"running": "pending", "failed": "failure", "canceled": "error"}
_REVIEWER_STATES = {"APPROVED": "approved", "CHANGES_REQUESTED": "requested_changes",
                    "COMMENTED": "reviewed", "DISMISSED": "unapproved"}


@dataclass(eq=False)
class FakeNote:
    id: int
    user: str
    body: str
    created_at: datetime
    via_api: bool
    system: bool = False


@dataclass(frozen=True)
class FakeVersion:
    id: int
    head_sha: str
    base_sha: str
    start_sha: str
    created_at: datetime


@dataclass(frozen=True)
class FakeStatus:
    id: int
    sha: str
    context: str  # GitLab's `name`
    state: str  # pending | running | success | failed | canceled
    description: str
    target_url: str | None
    created_at: datetime
    creator: str


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
class FakeMergeRequest:
    repo: FakeProject
    number: int  # the iid; named as on FakePull so tests read the same
    id: int
    branch: str
    base: str
    author: str
    title: str
    head_sha: str
    created_at: datetime
    body: str = ""
    state: str = "opened"  # opened | closed | merged
    merged: bool = False
    merge_sha: str | None = None
    closed_at: datetime | None = None
    previous_head_sha: str | None = None
    comments: list[FakeNote] = field(default_factory=list)
    reviews: list[FakeReview] = field(default_factory=list)  # approve/unapprove history
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


class FakeGitLab:
    """Thread-safe: the HTTP server calls in from several threads.

    `approvals_with_timestamps = False` answers approvals without `approved_at`,
    as GitLab before 17 does, so the forge must date them from system notes.
    """

    def __init__(
        self, tmp_path: Path, token: str = "test-token", bot_login: str = "atlantis-bot"
    ) -> None:
        self.token = token
        self.bot_login = bot_login
        self.root = tmp_path / "fake-gitlab"
        self.root.mkdir(parents=True, exist_ok=True)
        self.repos: dict[str, FakeProject] = {}
        self.groups: dict[str, dict[str, int]] = {}
        self.users: dict[str, int] = {}
        self.requests: list[RecordedRequest] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.approvals_with_timestamps = True
        self.lock = threading.RLock()
        self._ids = itertools.count(2001)
        self._last_tick = datetime.now(UTC)
        self.http = GitLabApi(self)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.http, threaded=True, request_handler=_QuietHandler
        )
        self.web_url = f"http://127.0.0.1:{self._server.server_port}"
        self.api_url = self.web_url  # python-gitlab appends /api/v4 itself
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-gitlab",
            daemon=True,
        )
        self._thread.start()
        self.user_id(bot_login)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

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

    def open_pull(
        self,
        repo: FakeProject,
        branch: str = "feature",
        changes: Mapping[str, str | None] | None = None,
        author: str = "alice",
        title: str = "Change infrastructure",
        base: str | None = None,
        body: str = "",
    ) -> FakeMergeRequest:
        base = base or repo.default_branch
        with self.lock:
            repo.git.commit(branch, changes or {}, title, start=f"refs/heads/{base}")
            return self.add_pull(repo, branch, base, author, title, body)

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

    def _add_version(self, pull: FakeMergeRequest) -> None:
        git = pull.repo.git
        start = git.branch_sha(pull.base) or ""
        pull.versions.append(FakeVersion(
            self.next_id(), pull.head_sha, git.merge_base(start, pull.head_sha), start,
            self.now()))

    def push(self, pull: FakeMergeRequest, changes: Mapping[str, str | None],
             message: str = "") -> str:
        """A new commit on the merge request's source branch (and a new version)."""
        with self.lock:
            sha = pull.repo.git.commit(pull.branch, changes, message or "Update")
            pull.previous_head_sha, pull.head_sha = pull.head_sha, sha
            self._add_version(pull)
            return sha

    def commit_to_base(
        self, repo: FakeProject, changes: Mapping[str, str | None], branch: str | None = None
    ) -> str:
        with self.lock:
            return repo.git.commit(branch or repo.default_branch, changes, "Commit to base")

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

    def latest_review(self, pull: FakeMergeRequest, user: str) -> FakeReview | None:
        with self.lock:
            mine = [r for r in pull.reviews if r.user == user]
            return mine[-1] if mine else None

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

    def add_comment(self, pull: FakeMergeRequest, user: str, body: str, via_api: bool,
                    system: bool = False, at: datetime | None = None) -> FakeNote:
        with self.lock:
            note = FakeNote(self.next_id(), user, body, at or self.now(), via_api, system)
            pull.comments.append(note)
            return note

    def add_status(self, repo: FakeProject, sha: str, values: Mapping[str, Any]) -> FakeStatus:
        with self.lock:
            status = FakeStatus(
                id=self.next_id(),
                sha=sha,
                context=str(values.get("name") or values.get("context") or "default"),
                state=str(values["state"]),
                description=str(values.get("description") or ""),
                target_url=values.get("target_url"),
                created_at=self.now(),
                creator=self.bot_login,
            )
            repo.statuses.append(status)
            return status

    # --- what the bot did -----------------------------------------------------------------

    def comments(self, pull: FakeMergeRequest) -> list[str]:
        """Bodies of the notes posted through the API, oldest first."""
        with self.lock:
            return [c.body for c in pull.comments if c.via_api and not c.system]

    def statuses(self, repo: FakeProject, sha: str) -> list[dict[str, str]]:
        """Statuses posted on `sha`, in the order posted, states in neutral names."""
        with self.lock:
            return [
                {"context": s.context, "state": NEUTRAL_STATES.get(s.state, s.state),
                 "description": s.description}
                for s in repo.statuses
                if s.sha == sha
            ]

    def latest_statuses(self, repo: FakeProject, sha: str) -> dict[str, str]:
        return {s["context"]: s["state"] for s in self.statuses(repo, sha)}

    def record(self, method: str, path: str) -> None:
        with self.lock:
            self.requests.append(RecordedRequest(method, path))

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

    def send_webhook(
        self,
        url: str,
        event: str,
        payload: Mapping[str, Any],
        secret: str,
        delivery_id: str | None = None,
        signature: str | None = None,
    ) -> tuple[int, str]:
        """`event` may be GitHub's name (pull_request …) or GitLab's (Note Hook …);
        `signature` replaces the token sent, to forge a delivery."""
        return gitlab_payloads.send(url, event, payload, signature or secret, delivery_id)

    def deliver(
        self, event: str, payload: Mapping[str, Any], delivery_id: str | None = None
    ) -> tuple[int, str]:
        """send_webhook to `webhook_url` with `webhook_secret`, both set by the test."""
        if self.webhook_url is None or self.webhook_secret is None:
            raise RuntimeError("set fake.webhook_url and fake.webhook_secret before deliver()")
        return self.send_webhook(self.webhook_url, event, payload, self.webhook_secret, delivery_id)
