"""A fake GitHub: the REST subset atlantis-py uses, over loopback HTTP, on real git.

Tests drive it through this class (create repos, open and update pull requests,
review, set permissions, send signed webhooks) and assert on what the bot did
through the API (`comments`, `statuses`, `requests`). Routes live in
github_api.py, webhook payloads in github_payloads.py; what both fakes share in
forge.py (bookkeeping, server) and model.py (records).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from tests.fakeforge import github_payloads
from tests.fakeforge.forge import FakeForge
from tests.fakeforge.github_api import GitHubApi
from tests.fakeforge.github_app import FakeApp
from tests.fakeforge.gitrepos import BareRepo
from tests.fakeforge.model import (
    FakeComment,
    FakeReview,
    FakeStatus,
    Permission,
    PullRequest,
    RecordedRequest,
    ReviewStateName,
)

__all__ = ["FakeComment", "FakeGitHub", "FakePull", "FakeRepo", "FakeReview", "FakeStatus",
           "RecordedRequest"]


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
class FakePull(PullRequest["FakeRepo"]):
    pass


class FakeGitHub(FakeForge[FakeRepo, FakePull]):
    """Thread-safe: the HTTP server calls in from several threads."""

    FAULT_ROUTES: ClassVar[Mapping[str, frozenset[str]]] = {
        "pull": frozenset({"pull"}),
        "files": frozenset({"pull_files"}),
        "reviews": frozenset({"pull_reviews"}),
        "comment": frozenset({"create_comment"}),
        "status": frozenset({"create_status"}),
        "merge": frozenset({"merge_pull"}),
        "permission": frozenset({"permission"}),
    }
    SECONDARY_LIMIT: ClassVar[tuple[int, str]] = (
        403, "You have exceeded a secondary rate limit. Please wait a few minutes.")

    def __init__(
        self, tmp_path: Path, token: str = "test-token", bot_login: str = "atlantis-bot"
    ) -> None:
        super().__init__(tmp_path / "fake-github", token, bot_login, first_id=1001)
        self.teams: dict[str, set[str]] = {}
        self.app: FakeApp | None = None
        self.http = GitHubApi(self)
        self.web_url = self.serve(self.http, "fake-github")
        self.api_url = f"{self.web_url}/api/v3"

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
            pull = FakePull(repo, number, self.next_id(), branch, base, author, title, sha,
                            self.now(), body)
            repo.pulls[number] = pull
            return pull

    def open_on_branch(self, repo: FakeRepo, branch: str, base: str, author: str, title: str,
                       body: str) -> FakePull:
        pull = self.adopt_pull(repo, branch, base, author, title, body)
        repo.permissions.setdefault(author, "write")
        return pull

    def install_app(self, app_id: int, slug: str, public_key: RSAPublicKey,
                    installations: Mapping[str, int],
                    token_lifetime: timedelta = timedelta(hours=1)) -> FakeApp:
        """From now on only the App's installation tokens are accepted, and the
        bot comments as `{slug}[bot]`."""
        with self.lock:
            self.app = FakeApp(app_id, slug, public_key, dict(installations), token_lifetime)
            self.bot_login = f"{slug}[bot]"
            return self.app

    def add_team_member(self, team: str, user: str) -> None:
        with self.lock:
            self.teams.setdefault(team, set()).add(user)

    def close_pull(self, pull: FakePull, merged: bool = False) -> None:
        with self.lock:
            if merged:
                message = f"Merge pull request #{pull.number} from {pull.branch}"
                pull.merge_sha = pull.repo.git.merge(pull.base, pull.head_sha, message)
            pull.state, pull.merged, pull.closed_at = "closed", merged, self.now()

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
                self.next_id(), user, state, commit_sha or pull.head_sha, self.now(), body
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

    def set_permission(self, repo: FakeRepo, user: str, permission: Permission) -> None:
        with self.lock:
            repo.permissions[user] = permission

    def permission(self, repo: FakeRepo, user: str) -> str:
        with self.lock:
            return repo.permissions.get(user, "read")

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

    def webhook_headers(self, url: str, event: str, body: bytes, secret: str,
                        delivery_id: str | None, signature: str | None) -> dict[str, str]:
        return github_payloads.headers(event, body, secret, delivery_id, signature)
