"""The real server (waitress + workers + SQLite) against a fake forge, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from atlantis_py.app import HTTPServer, Service, create_service
from atlantis_py.domain.records import PullRecord
from atlantis_py.queue.retry import RetryPolicy
from atlantis_py.settings import Settings
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.gitlab import FakeGitLab
from tests.fakeforge.neutral import NeutralForge, NeutralPull, NeutralRepo

SECRET = "e2e-webhook-secret"
# the users World.repo gives write access; anyone else's approval does not count
REVIEWERS = ("bob", "carol", "dave", "erin")


def tf_project(state_dir: Path, name: str, value: str = "v1") -> str:
    """A root module with one terraform_data resource and state outside the worktree."""
    return (
        'terraform {\n'
        f'  backend "local" {{ path = "{state_dir / name}.tfstate" }}\n'
        '}\n\n'
        f'resource "terraform_data" "{name}" {{\n'
        f'  input = "{value}"\n'
        '}\n'
    )


@dataclass
class World:
    fake: NeutralForge  # a FakeGitHub or a FakeGitLab, per `forge`
    service: Service
    http: HTTPServer
    state_dir: Path
    forge: str = "github"

    def record(self, pull: NeutralPull) -> PullRecord:
        found = self.service.services.pulls.get(self.forge, pull.repo.full_name, pull.number)
        assert found is not None, f"no IPR stored for {pull.repo.full_name}#{pull.number}"
        return found

    def settle(self) -> None:
        assert self.service.settle(180), "jobs did not finish"

    def repo(self, files: Mapping[str, str], name: str = "acme/infra") -> NeutralRepo:
        """A repository whose team (REVIEWERS) has write access, so their approvals count."""
        repo = self.fake.create_repo(name, files)
        for user in REVIEWERS:
            self.fake.set_permission(repo, user, "write")
        return repo

    def open_pr(self, repo: NeutralRepo, changes: Mapping[str, str | None],
                author: str = "alice", branch: str = "feature") -> NeutralPull:
        pull = self.fake.open_pull(repo, branch=branch, changes=changes, author=author)
        status, _ = self.fake.deliver("pull_request",
                                      self.fake.pull_request_payload(pull, "opened"))
        assert status == 202
        self.settle()
        return pull

    def push(self, pull: NeutralPull, changes: Mapping[str, str | None]) -> str:
        sha = self.fake.push(pull, changes)
        status, _ = self.fake.deliver("pull_request",
                                      self.fake.pull_request_payload(pull, "synchronize"))
        assert status == 202
        self.settle()
        return sha

    def comment(self, pull: NeutralPull, user: str, body: str) -> str:
        """Sends the comment and returns the first comment the bot posted in reply.
        Jobs already queued (an API review's or cancel's notice) finish first, so
        their comments are not taken for the reply."""
        self.settle()
        before = len(self.fake.comments(pull))
        status, _ = self.fake.deliver("issue_comment",
                                      self.fake.comment_payload(pull, user, body))
        assert status == 202
        self.settle()
        new = self.fake.comments(pull)[before:]
        return "\n".join(new)

    def approve(self, pull: NeutralPull, user: str) -> None:
        self.fake.review(pull, user, "APPROVED")
        status, _ = self.fake.deliver("pull_request_review",
                                      self.fake.review_payload(pull, user, "approved"))
        assert status == 202
        self.settle()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.port}"

    def token(self, user: str, role: str) -> str:
        from atlantis_py.domain.records import Role
        from atlantis_py.store.tokens import TokenStore

        return TokenStore(self.service.db).create(user, Role(role))

    def api(self, method: str, path: str, token: str | None = None,
            body: object = None) -> tuple[int, Any]:
        """A raw HTTP call to /api/v1; returns (status, parsed JSON or text)."""
        import json
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/api/v1{path}", data=data, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, text = resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def bot_comments(self, pull: NeutralPull) -> list[str]:
        return self.fake.comments(pull)

    def statuses(self, pull: NeutralPull) -> dict[str, tuple[str, str]]:
        """context -> (state, description) of the newest status on the head commit."""
        latest: dict[str, tuple[str, str]] = {}
        for status in self.fake.statuses(pull.repo, pull.head_sha):
            latest[status["context"]] = (status["state"], status["description"])
        return latest

    def state_resources(self, name: str) -> list[str]:
        import json

        path = self.state_dir / f"{name}.tfstate"
        if not path.exists():
            return []
        data = json.loads(path.read_text())
        return [r["name"] for r in data.get("resources", [])]


# retries come back within a second, and give up after 30 s
QUICK_RETRIES = RetryPolicy(limit=timedelta(seconds=30), first=0.2, longest=1.0)


@contextmanager
def running_world(tmp_path: Path, forge: str = "github", database_url: str = "",
                  retry: RetryPolicy = QUICK_RETRIES, *,
                  github_app: tuple[int, str] | None = None,
                  **settings: Any) -> Iterator[World]:
    """A server (HTTP + inline workers) wired to a fresh fake forge; `settings`
    override Settings fields (e.g. notifications_file, min_approvals);
    `github_app` (id, PEM key) authenticates as a GitHub App instead of a token."""
    fake: FakeGitHub | FakeGitLab
    forge_settings: dict[str, Any]
    if forge == "gitlab":
        fake = FakeGitLab(tmp_path)
        forge_settings = {"gitlab_token": fake.token, "gitlab_webhook_secret": SECRET,
                          "gitlab_url": fake.api_url, "gitlab_user": fake.bot_login}
    else:
        fake = FakeGitHub(tmp_path)
        forge_settings = {"gh_token": fake.token, "gh_webhook_secret": SECRET,
                          "gh_api_url": fake.api_url, "gh_user": fake.bot_login}
        if github_app is not None:  # the App installed on acme, its key's PEM
            app_id, pem = github_app
            key = load_pem_private_key(pem.encode(), None)
            assert isinstance(key, RSAPrivateKey)
            fake.install_app(app_id, "acme-atlantis", key.public_key(), {"acme": 77})
            forge_settings = {"gh_app_id": app_id, "gh_app_key": pem,
                              "gh_app_slug": "acme-atlantis", "gh_webhook_secret": SECRET,
                              "gh_api_url": fake.api_url}
    values: dict[str, Any] = {
        **forge_settings, "data_dir": tmp_path / "data", "database_url": database_url,
        "port": 0, "host": "127.0.0.1", "parallel_pool_size": 2, "worker_threads": 2,
        **settings}
    service = create_service(Settings(**values), retry=retry)
    http = HTTPServer(service, "127.0.0.1", 0)
    http.start()
    service.start()
    fake.webhook_url = f"http://127.0.0.1:{http.port}/events"
    fake.webhook_secret = SECRET
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    try:
        yield World(fake, service, http, state_dir, forge)
    finally:
        http.close()
        service.stop()
        fake.close()


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """Parametrise with `indirect=True` and "FORGE[-postgres]" (github, gitlab) to run
    against that forge's fake, on SQLite or PostgreSQL."""
    param = getattr(request, "param", "github")
    forge, _, db = param.partition("-")
    database_url = request.getfixturevalue("make_postgres_db")() if db == "postgres" else ""
    with running_world(tmp_path, forge, database_url) as w:
        yield w
