"""A fake GitHub: the REST subset atlantis-py uses, over loopback HTTP, on real git.

Tests drive it through this class (create repos, open and update pull requests,
review, set permissions, send signed webhooks) and assert on what the bot did
through the API (`comments`, `statuses`, `requests`). Routes live in
github_api.py, webhook payloads in github_payloads.py.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.fakeforge import github_payloads
from tests.fakeforge.github_api import GitHubApi
from tests.fakeforge.gitrepos import BareRepo

Permission = Literal["admin", "maintain", "write", "triage", "read", "none"]
ReviewStateName = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED"]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class RecordedRequest(NamedTuple):
    method: str
    path: str


@dataclass(eq=False)
class FakeComment:
    id: int
    user: str
    body: str
    created_at: datetime
    via_api: bool


@dataclass(eq=False)
class FakeReview:
    id: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_id: str
    submitted_at: datetime
    body: str = ""


@dataclass(frozen=True)
class FakeStatus:
    id: int
    sha: str
    context: str
    state: str
    description: str
    target_url: str | None
    created_at: datetime
    creator: str


@dataclass(eq=False)
class FakeRepo:
    owner: str
    name: str
    id: int
    default_branch: str
    git: BareRepo
    pulls: dict[int, FakePull] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    statuses: list[FakeStatus] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def clone_url(self) -> str:
        return self.git.url


@dataclass(eq=False)
class FakePull:
    repo: FakeRepo
    number: int
    id: int
    branch: str
    base: str
    author: str
    title: str
    head_sha: str
    created_at: datetime
    body: str = ""
    state: str = "open"
    merged: bool = False
    merge_sha: str | None = None
    closed_at: datetime | None = None
    previous_head_sha: str | None = None
    comments: list[FakeComment] = field(default_factory=list)
    reviews: list[FakeReview] = field(default_factory=list)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class FakeGitHub:
    """Thread-safe: the HTTP server calls in from several threads."""

    def __init__(
        self, tmp_path: Path, token: str = "test-token", bot_login: str = "atlantis-bot"
    ) -> None:
        self.token = token
        self.bot_login = bot_login
        self.root = tmp_path / "fake-github"
        self.root.mkdir(parents=True, exist_ok=True)
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[RecordedRequest] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.lock = threading.RLock()
        self.teams: dict[str, set[str]] = {}
        self._ids = itertools.count(1001)
        self.http = GitHubApi(self)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.http, threaded=True, request_handler=_QuietHandler
        )
        self.web_url = f"http://127.0.0.1:{self._server.server_port}"
        self.api_url = f"{self.web_url}/api/v3"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()

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

    # --- repositories and pull requests -------------------------------------------------

    def create_repo(
        self, full_name: str, files: Mapping[str, str], default_branch: str = "main"
    ) -> FakeRepo:
        owner, name = full_name.split("/", 1)
        with self.lock:
            git = BareRepo.create(self.root / owner / f"{name}.git", files, default_branch)
            repo = FakeRepo(owner, name, self.next_id(), default_branch, git)
            repo.permissions[owner] = "admin"
            self.repos[full_name] = repo
            return repo

    def open_pull(
        self,
        repo: FakeRepo,
        branch: str = "feature",
        changes: Mapping[str, str | None] | None = None,
        author: str = "alice",
        title: str = "Change infrastructure",
        base: str | None = None,
        body: str = "",
    ) -> FakePull:
        base = base or repo.default_branch
        with self.lock:
            sha = repo.git.commit(branch, changes or {}, title, start=f"refs/heads/{base}")
            number = len(repo.pulls) + 1
            pull = FakePull(repo, number, self.next_id(), branch, base, author, title, sha, now())
            pull.body = body
            repo.pulls[number] = pull
            repo.permissions.setdefault(author, "write")
            return pull

    def push_branch(self, repo: FakeRepo, branch: str, changes: Mapping[str, str | None],
                    base: str | None = None) -> str:
        """A new branch with one commit, as a developer pushes before opening a PR."""
        with self.lock:
            start = f"refs/heads/{base or repo.default_branch}"
            return repo.git.commit(branch, changes, f"Work on {branch}", start=start)

    def adopt_pull(self, repo: FakeRepo, branch: str, base: str, author: str, title: str,
                   body: str = "") -> FakePull:
        """A pull request for an existing branch (what POST /pulls does)."""
        with self.lock:
            sha = repo.git.branch_sha(branch)
            assert sha is not None
            number = len(repo.pulls) + 1
            pull = FakePull(repo, number, self.next_id(), branch, base, author, title, sha, now())
            pull.body = body
            repo.pulls[number] = pull
            return pull

    def add_team_member(self, team: str, user: str) -> None:
        with self.lock:
            self.teams.setdefault(team, set()).add(user)

    def push(self, pull: FakePull, changes: Mapping[str, str | None], message: str = "") -> str:
        """A new commit on the pull request's head branch; returns its sha."""
        with self.lock:
            sha = pull.repo.git.commit(pull.branch, changes, message or "Update")
            pull.previous_head_sha, pull.head_sha = pull.head_sha, sha
            return sha

    def commit_to_base(
        self, repo: FakeRepo, changes: Mapping[str, str | None], branch: str | None = None
    ) -> str:
        with self.lock:
            return repo.git.commit(branch or repo.default_branch, changes, "Commit to base")

    def close_pull(self, pull: FakePull, merged: bool = False) -> None:
        with self.lock:
            if merged:
                message = f"Merge pull request #{pull.number} from {pull.branch}"
                pull.merge_sha = pull.repo.git.merge(pull.base, pull.head_sha, message)
            pull.state, pull.merged, pull.closed_at = "closed", merged, now()

    def review(
        self,
        pull: FakePull,
        user: str,
        state: ReviewStateName = "APPROVED",
        commit_sha: str | None = None,
        body: str = "",
    ) -> FakeReview:
        with self.lock:
            review = FakeReview(
                self.next_id(), user, state, commit_sha or pull.head_sha, now(), body
            )
            pull.reviews.append(review)
            return review

    def dismiss_review(self, pull: FakePull, user: str) -> FakeReview:
        """Dismisses `user`'s latest review, as a maintainer would."""
        with self.lock:
            review = self.latest_review(pull, user)
            if review is None:
                raise LookupError(f"{user} has not reviewed #{pull.number}")
            review.state = "DISMISSED"
            return review

    def latest_review(self, pull: FakePull, user: str) -> FakeReview | None:
        with self.lock:
            mine = [r for r in pull.reviews if r.user == user]
            return mine[-1] if mine else None

    def set_permission(self, repo: FakeRepo, user: str, permission: Permission) -> None:
        with self.lock:
            repo.permissions[user] = permission

    def permission(self, repo: FakeRepo, user: str) -> str:
        with self.lock:
            return repo.permissions.get(user, "read")

    def add_comment(self, pull: FakePull, user: str, body: str, via_api: bool) -> FakeComment:
        with self.lock:
            comment = FakeComment(self.next_id(), user, body, now(), via_api)
            pull.comments.append(comment)
            return comment

    def add_status(self, repo: FakeRepo, sha: str, values: Mapping[str, Any]) -> FakeStatus:
        with self.lock:
            status = FakeStatus(
                id=self.next_id(),
                sha=sha,
                context=str(values.get("context") or "default"),
                state=str(values["state"]),
                description=str(values.get("description") or ""),
                target_url=values.get("target_url"),
                created_at=now(),
                creator=self.bot_login,
            )
            repo.statuses.append(status)
            return status

    # --- what the bot did -----------------------------------------------------------------

    def comments(self, pull: FakePull) -> list[str]:
        """Bodies of the comments posted through the API, oldest first."""
        with self.lock:
            return [c.body for c in pull.comments if c.via_api]

    def statuses(self, repo: FakeRepo, sha: str) -> list[dict[str, str]]:
        """Statuses posted on `sha`, in the order posted."""
        with self.lock:
            return [
                {"context": s.context, "state": s.state, "description": s.description}
                for s in repo.statuses
                if s.sha == sha
            ]

    def latest_statuses(self, repo: FakeRepo, sha: str) -> dict[str, str]:
        """context → latest state, as GitHub's checks box shows it."""
        return {s["context"]: s["state"] for s in self.statuses(repo, sha)}

    def record(self, method: str, path: str) -> None:
        with self.lock:
            self.requests.append(RecordedRequest(method, path))

    # --- webhooks -------------------------------------------------------------------------

    def pull_request_payload(
        self, pull: FakePull, action: str, sender: str | None = None
    ) -> dict[str, Any]:
        with self.lock:
            return github_payloads.pull_request(self, pull, action, sender)

    def comment_payload(self, pull: FakePull, user: str, body: str) -> dict[str, Any]:
        """Also records the comment on the pull request, as GitHub would."""
        with self.lock:
            comment = self.add_comment(pull, user, body, via_api=False)
            return github_payloads.issue_comment(self, pull, comment)

    def issue_comment_payload(
        self, repo: FakeRepo, number: int, user: str, body: str
    ) -> dict[str, Any]:
        """A comment on a plain issue (not a pull request)."""
        with self.lock:
            return github_payloads.plain_issue_comment(self, repo, number, user, body)

    def review_payload(self, pull: FakePull, user: str, state: str = "approved") -> dict[str, Any]:
        """Uses `user`'s latest recorded review when there is one; state
        "dismissed" makes a dismissed action."""
        with self.lock:
            return github_payloads.review(self, pull, user, state)

    def send_webhook(
        self,
        url: str,
        event: str,
        payload: Mapping[str, Any],
        secret: str,
        delivery_id: str | None = None,
        signature: str | None = None,
    ) -> tuple[int, str]:
        return github_payloads.send(url, event, payload, secret, delivery_id, signature)

    def deliver(
        self, event: str, payload: Mapping[str, Any], delivery_id: str | None = None
    ) -> tuple[int, str]:
        """send_webhook to `webhook_url` with `webhook_secret`, both set by the test."""
        if self.webhook_url is None or self.webhook_secret is None:
            raise RuntimeError("set fake.webhook_url and fake.webhook_secret before deliver()")
        return self.send_webhook(self.webhook_url, event, payload, self.webhook_secret, delivery_id)
