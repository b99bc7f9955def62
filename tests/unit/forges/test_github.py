"""GitHubForge against the fake GitHub over real HTTP, and the fake's own contract."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from atlantis_py.domain.events import (
    CommentEvent,
    Event,
    PullAction,
    PullRequestEvent,
    ReviewAction,
    ReviewEvent,
)
from atlantis_py.domain.forge import (
    ChangedFile,
    FileStatus,
    Mergeability,
    Merged,
    ReviewState,
    StatusState,
)
from atlantis_py.errors import ConfigError, ForgeError
from atlantis_py.forges.github import GitHubForge, GitHubWebhooks
from atlantis_py.forges.github_api import web_root
from tests.fakeforge import FakeGitHub, FakePull, FakeRepo, RecordedRequest

REPO = "acme/infra"
FILES = {
    "README.md": "infra\n",
    "envs/prod/main.tf": 'resource "null_resource" "a" {}\n',
    "modules/net/main.tf": "# network\n" * 20,
    "old/legacy.tf": "# legacy\n",
}


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(tmp_path) as fake:
        yield fake


@pytest.fixture
def forge(fake: FakeGitHub) -> GitHubForge:
    return GitHubForge(fake.token, fake.api_url, user=fake.bot_login, write_interval=0, retries=0)


@pytest.fixture
def repo(fake: FakeGitHub) -> FakeRepo:
    return fake.create_repo(REPO, FILES)


@pytest.fixture
def pull(fake: FakeGitHub, repo: FakeRepo) -> FakePull:
    return fake.open_pull(
        repo,
        branch="feature",
        changes={
            "envs/prod/main.tf": 'resource "null_resource" "b" {}\n',
            "envs/dev/main.tf": "# new\n",
            "old/legacy.tf": None,
            "modules/net/main.tf": None,
            "modules/network/main.tf": "# network\n" * 20,
        },
        author="alice",
        title="Move the network module",
    )


def test_pull_request(forge: GitHubForge, fake: FakeGitHub, repo: FakeRepo, pull: FakePull) -> None:
    pr = forge.pull_request(REPO, pull.number)
    assert pr.number == 1
    assert pr.author == "alice"
    assert pr.head_sha == pull.head_sha
    assert (pr.head_ref, pr.base_ref) == ("feature", "main")
    assert pr.title == "Move the network module"
    assert pr.url == f"{fake.web_url}/{REPO}/pull/1"
    assert pr.repo.full_name == REPO and pr.repo.forge == "github"
    assert pr.repo.clone_url == repo.clone_url
    assert fake.requests == [RecordedRequest("GET", f"/api/v3/repos/{REPO}/pulls/1")]


def test_changed_files_with_deletes_and_renames(forge: GitHubForge, pull: FakePull) -> None:
    assert forge.changed_files(REPO, pull.number) == [
        ChangedFile("envs/dev/main.tf", FileStatus.ADDED),
        ChangedFile("envs/prod/main.tf", FileStatus.MODIFIED),
        ChangedFile("modules/network/main.tf", FileStatus.RENAMED, "modules/net/main.tf"),
        ChangedFile("old/legacy.tf", FileStatus.REMOVED),
    ]


def test_changed_files_ignore_later_commits_on_base(
    forge: GitHubForge, fake: FakeGitHub, repo: FakeRepo, pull: FakePull
) -> None:
    fake.commit_to_base(repo, {"envs/stage/main.tf": "# stage\n", "README.md": "changed\n"})
    fake.push(pull, {"envs/dev/main.tf": "# newer\n", "envs/qa/main.tf": "# qa\n"})
    paths = [f.path for f in forge.changed_files(REPO, pull.number)]
    assert "envs/stage/main.tf" not in paths and "README.md" not in paths
    assert "envs/qa/main.tf" in paths


def test_changed_files_follow_pagination(
    forge: GitHubForge, fake: FakeGitHub, repo: FakeRepo
) -> None:
    changes: dict[str, str | None] = {f"stacks/s{i:03}.yaml": f"n: {i}\n" for i in range(230)}
    pull = fake.open_pull(repo, branch="many", changes=changes)
    files = forge.changed_files(REPO, pull.number)
    assert [f.path for f in files] == sorted(changes)
    pages = [r for r in fake.requests if r.path.endswith(f"/pulls/{pull.number}/files")]
    assert len(pages) == 3


def test_post_comment_is_recorded(forge: GitHubForge, fake: FakeGitHub, pull: FakePull) -> None:
    forge.post_comment(REPO, pull.number, "Ran Plan for 2 projects")
    forge.post_comment(REPO, pull.number, "second")
    assert fake.comments(pull) == ["Ran Plan for 2 projects", "second"]
    assert fake.requests[-1] == RecordedRequest("POST", f"/api/v3/repos/{REPO}/issues/1/comments")


def test_comment_over_the_limit_is_a_forge_error(forge: GitHubForge, pull: FakePull) -> None:
    with pytest.raises(ForgeError, match="422"):
        forge.post_comment(REPO, pull.number, "x" * (forge.comment_limit + 1))


def test_set_status_is_recorded_and_truncated(
    forge: GitHubForge, fake: FakeGitHub, repo: FakeRepo, pull: FakePull
) -> None:
    forge.set_status(REPO, pull.head_sha, "atlantis/plan", StatusState.PENDING, "Planning…")
    forge.set_status(REPO, pull.head_sha, "atlantis/plan", StatusState.SUCCESS, "d" * 300)
    statuses = fake.statuses(repo, pull.head_sha)
    assert statuses[0] == {
        "context": "atlantis/plan",
        "state": "pending",
        "description": "Planning…",
    }
    assert statuses[1]["state"] == "success"
    assert len(statuses[1]["description"]) == 140
    assert statuses[1]["description"].endswith("…")
    assert fake.latest_statuses(repo, pull.head_sha) == {"atlantis/plan": "success"}


def test_status_on_an_unknown_sha_is_a_forge_error(forge: GitHubForge, pull: FakePull) -> None:
    with pytest.raises(ForgeError, match="No commit found"):
        forge.set_status(REPO, "f" * 40, "atlantis/plan", StatusState.PENDING, "")


def test_reviews_carry_the_commit_they_approved(
    forge: GitHubForge, fake: FakeGitHub, pull: FakePull
) -> None:
    first_head = pull.head_sha
    fake.review(pull, "bob", "APPROVED")
    fake.review(pull, "carol", "CHANGES_REQUESTED")
    new_head = fake.push(pull, {"envs/dev/main.tf": "# changed\n"})
    fake.review(pull, "dave", "COMMENTED")
    fake.review(pull, "erin", "APPROVED")
    fake.dismiss_review(pull, "erin")
    reviews = forge.reviews(REPO, pull.number)
    assert [(r.user, r.state, r.commit_sha) for r in reviews] == [
        ("bob", ReviewState.APPROVED, first_head),
        ("carol", ReviewState.CHANGES_REQUESTED, first_head),
        ("dave", ReviewState.COMMENTED, new_head),
        ("erin", ReviewState.DISMISSED, new_head),
    ]
    assert all(r.submitted_at is not None and r.submitted_at.tzinfo for r in reviews)


@pytest.mark.parametrize(
    ("permission", "allowed"),
    [
        ("admin", True),
        ("maintain", True),
        ("write", True),
        ("triage", False),
        ("read", False),
        ("none", False),
    ],
)
def test_can_run_commands(
    forge: GitHubForge, fake: FakeGitHub, repo: FakeRepo, permission: Any, allowed: bool
) -> None:
    fake.set_permission(repo, "mallory", permission)
    assert forge.can_run_commands(REPO, "mallory") is allowed


@pytest.mark.parametrize(
    ("permission", "allowed"),
    [("admin", True), ("maintain", True), ("write", True), ("triage", False), ("read", False),
     ("none", False)],
)
def test_can_approve_needs_write_access(
    forge: GitHubForge, fake: FakeGitHub, repo: FakeRepo, permission: Any, allowed: bool
) -> None:
    fake.set_permission(repo, "mallory", permission)
    assert forge.can_approve(REPO, "mallory") is allowed
    assert not forge.can_approve(REPO, "stranger"), "anyone reads a public repository"


def test_default_branch_is_asked_each_time(forge: GitHubForge, fake: FakeGitHub,
                                           repo: FakeRepo) -> None:
    assert forge.default_branch(REPO) == "main"
    repo.default_branch = "trunk"
    assert forge.default_branch(REPO) == "trunk"
    with pytest.raises(ForgeError, match="HTTP 404"):
        forge.default_branch("acme/missing")


def test_mergeable(forge: GitHubForge, fake: FakeGitHub, pull: FakePull,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert forge.mergeable(REPO, pull.number) == Mergeability(True, "clean")
    fake.set_mergeable(pull, False)
    assert forge.mergeable(REPO, pull.number) == Mergeability(False, "dirty")
    monkeypatch.setattr("atlantis_py.forges.base.MERGEABLE_WAIT", 0)
    fake.set_mergeable(pull, None)
    fake.requests.clear()
    assert forge.mergeable(REPO, pull.number) == Mergeability(None, "unknown")
    asked = [r for r in fake.requests if r.path.endswith(f"/pulls/{pull.number}")]
    assert len(asked) == 3, "null is asked again, as GitHub says to"


def test_merge_pull_as_of_the_applied_head(forge: GitHubForge, fake: FakeGitHub,
                                           repo: FakeRepo, pull: FakePull) -> None:
    with pytest.raises(ForgeError, match="409.*Head branch was modified"):
        forge.merge_pull(REPO, pull.number, "0" * 40, delete_branch=True)
    fake.set_mergeable(pull, False)
    with pytest.raises(ForgeError, match="405.*not mergeable"):
        forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=True)
    assert not pull.merged and repo.git.branch_sha("feature") == pull.head_sha
    fake.set_mergeable(pull, True)
    assert forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=True) \
        == Merged(True)
    assert pull.merged and repo.git.branch_sha("feature") is None
    assert ("DELETE", f"/api/v3/repos/{REPO}/git/refs/heads/feature") in fake.requests


def test_a_branch_the_repository_deleted_on_merge_counts_as_deleted(
        forge: GitHubForge, repo: FakeRepo, pull: FakePull) -> None:
    repo.git.git("update-ref", "-d", "refs/heads/feature")  # "delete head branches" is on
    assert forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=True) \
        == Merged(True)


def test_a_merge_whose_answer_was_lost_is_found_merged(forge: GitHubForge, fake: FakeGitHub,
                                                       pull: FakePull) -> None:
    fake.outage(requests=1, only=["merge"], lands=True)
    with pytest.raises(ForgeError, match="502"):
        forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=False)
    assert pull.merged  # it landed; the job's retry asks again:
    assert forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=False) == Merged()


def test_permission_defaults(forge: GitHubForge, pull: FakePull) -> None:
    assert forge.can_run_commands(REPO, "alice")  # opened the pull request
    assert forge.can_run_commands(REPO, "acme")  # owns the repo
    assert not forge.can_run_commands(REPO, "stranger")


def test_permission_not_found_means_no(forge: GitHubForge, repo: FakeRepo) -> None:
    assert forge.can_run_commands("acme/missing", "alice") is False


def test_missing_pull_request_is_a_forge_error(forge: GitHubForge, repo: FakeRepo) -> None:
    with pytest.raises(ForgeError, match="404"):
        forge.pull_request(REPO, 99)


def test_unknown_route_is_a_forge_error_naming_it(fake: FakeGitHub, repo: FakeRepo) -> None:
    wrong = GitHubForge(fake.token, f"{fake.web_url}/wrong/v3", write_interval=0, retries=0)
    with pytest.raises(ForgeError, match=r"501.*GET /wrong/v3/repos/acme/infra/pulls/1"):
        wrong.pull_request(REPO, 1)


def test_bad_token_is_a_forge_error(fake: FakeGitHub, pull: FakePull) -> None:
    intruder = GitHubForge("not-the-token", fake.api_url, write_interval=0, retries=0)
    with pytest.raises(ForgeError, match="401") as raised:
        intruder.post_comment(REPO, pull.number, "hi")
    assert "not-the-token" not in str(raised.value)
    assert fake.comments(pull) == []


def test_unreachable_api_is_a_forge_error(tmp_path: Path) -> None:
    fake = FakeGitHub(tmp_path)
    api_url = fake.api_url
    fake.close()
    offline = GitHubForge("t", api_url, write_interval=0, retries=0, timeout=5)
    with pytest.raises(ForgeError, match="ConnectionError"):
        offline.reviews(REPO, 1)


def test_empty_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        GitHubForge("")


def test_repr_hides_the_token() -> None:
    assert "s3cret" not in repr(GitHubForge("s3cret"))


def test_git_env_sends_the_token_as_a_header_for_the_forge_host_only() -> None:
    env = GitHubForge("s3cret").clone_env
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_CONFIG_KEY_0"] == "http.https://github.com/.extraHeader"
    scheme, encoded = env["GIT_CONFIG_VALUE_0"].removeprefix("Authorization: ").split()
    assert (scheme, base64.b64decode(encoded)) == ("Basic", b"x-access-token:s3cret")
    assert not any("s3cret" in v for v in env.values())

    def header_for(url: str) -> str:
        result = subprocess.run(
            ["git", "config", "--get-urlmatch", "http.extraheader", url],
            env={**env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"},
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip()

    assert header_for("https://github.com/acme/infra.git") == env["GIT_CONFIG_VALUE_0"]
    assert header_for("https://gitlab.com/acme/infra.git") == ""


@pytest.mark.parametrize(
    ("api_url", "root"),
    [
        ("https://api.github.com", "https://github.com/"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/"),
        ("http://127.0.0.1:8080/api/v3", "http://127.0.0.1:8080/"),
    ],
)
def test_web_root(api_url: str, root: str) -> None:
    assert web_root(api_url) == root


# --- the fake itself ---------------------------------------------------------------------


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_clone_url_is_a_real_repo(
    fake: FakeGitHub, repo: FakeRepo, pull: FakePull, tmp_path: Path
) -> None:
    work = tmp_path / "clone"
    _git("clone", "--quiet", repo.clone_url, str(work))
    assert (work / "envs/prod/main.tf").read_text() == FILES["envs/prod/main.tf"]
    _git("fetch", "--quiet", "origin", pull.head_sha, cwd=work)
    _git("checkout", "--quiet", pull.head_sha, cwd=work)
    assert not (work / "old/legacy.tf").exists()
    assert (work / "modules/network/main.tf").exists()


def test_merging_a_pull_advances_base(
    fake: FakeGitHub, repo: FakeRepo, pull: FakePull, forge: GitHubForge
) -> None:
    fake.close_pull(pull, merged=True)
    assert repo.git.read("refs/heads/main", "envs/dev/main.tf") == "# new\n"
    assert pull.merge_sha == repo.git.branch_sha("main")
    assert forge.pull_request(REPO, pull.number).head_sha == pull.head_sha


def test_unknown_route_answers_501(fake: FakeGitHub) -> None:
    request = urllib.request.Request(
        f"{fake.api_url}/repos/acme/infra/hooks", headers={"Authorization": "token test-token"}
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 501
    assert "GET /api/v3/repos/acme/infra/hooks" in json.loads(raised.value.read())["message"]


class _Receiver:
    """A stand-in for the real webhook endpoint: verify, then parse, answer 202."""

    def __init__(self, secret: str) -> None:
        self.hooks = GitHubWebhooks(secret)
        self.events: list[Event | None] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        delivery = self.hooks.verify(dict(request.headers), request.get_data())
        if delivery is None:
            return Response("forged", status=401)(environ, start_response)
        self.events.append(self.hooks.parse(delivery.event_type, request.get_data()))
        return Response("queued", status=202)(environ, start_response)


@pytest.fixture
def receiver(fake: FakeGitHub) -> Iterator[_Receiver]:
    receiver = _Receiver("hook-secret")
    fake.webhook_url, fake.webhook_secret = receiver.url, "hook-secret"
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _deliver(
    fake: FakeGitHub, receiver: _Receiver, event: str, payload: Mapping[str, Any]
) -> Event:
    assert fake.deliver(event, payload) == (202, "queued")
    parsed = receiver.events[-1]
    assert parsed is not None
    return parsed


def test_webhooks_from_the_fake_parse_to_its_state(
    fake: FakeGitHub, receiver: _Receiver, repo: FakeRepo, pull: FakePull
) -> None:
    opened = _deliver(fake, receiver, "pull_request", fake.pull_request_payload(pull, "opened"))
    assert isinstance(opened, PullRequestEvent) and opened.action is PullAction.OPENED
    assert opened.pull.head_sha == pull.head_sha
    assert opened.pull.repo.clone_url == repo.clone_url and opened.sender == "alice"

    fake.push(pull, {"envs/dev/main.tf": "# v2\n"})
    payload = fake.pull_request_payload(pull, "synchronize")
    assert payload["after"] == pull.head_sha != payload["before"]
    updated = _deliver(fake, receiver, "pull_request", payload)
    assert isinstance(updated, PullRequestEvent) and updated.action is PullAction.UPDATED

    comment = _deliver(
        fake, receiver, "issue_comment", fake.comment_payload(pull, "bob", "atlantis plan")
    )
    assert isinstance(comment, CommentEvent)
    assert (comment.pull_number, comment.author, comment.body) == (1, "bob", "atlantis plan")
    assert fake.comments(pull) == []  # a user's comment, not the bot's

    fake.review(pull, "bob", "APPROVED")
    review = _deliver(fake, receiver, "pull_request_review", fake.review_payload(pull, "bob"))
    assert isinstance(review, ReviewEvent) and review.state == "approved"
    assert review.reviewer == "bob" and review.pull.head_sha == pull.head_sha

    fake.dismiss_review(pull, "bob")
    dismissed = _deliver(
        fake, receiver, "pull_request_review", fake.review_payload(pull, "bob", "dismissed")
    )
    assert isinstance(dismissed, ReviewEvent) and dismissed.action is ReviewAction.DISMISSED

    fake.close_pull(pull, merged=True)
    merged = _deliver(fake, receiver, "pull_request", fake.pull_request_payload(pull, "closed"))
    assert isinstance(merged, PullRequestEvent) and merged.action is PullAction.MERGED


def test_plain_issue_comment_is_ignored(
    fake: FakeGitHub, receiver: _Receiver, repo: FakeRepo
) -> None:
    payload = fake.issue_comment_payload(repo, 7, "bob", "atlantis plan")
    assert fake.deliver("issue_comment", payload) == (202, "queued")
    assert receiver.events == [None]


def test_forged_signature_is_refused(fake: FakeGitHub, receiver: _Receiver, pull: FakePull) -> None:
    status, _ = fake.send_webhook(
        receiver.url,
        "pull_request",
        fake.pull_request_payload(pull, "opened"),
        "hook-secret",
        signature="sha256=" + "0" * 64,
    )
    assert status == 401 and receiver.events == []


def test_one_forge_serves_concurrent_callers(
    forge: GitHubForge, fake: FakeGitHub, repo: FakeRepo, pull: FakePull
) -> None:
    def work(i: int) -> int:
        forge.post_comment(REPO, pull.number, f"comment {i}")
        forge.set_status(REPO, pull.head_sha, f"atlantis/p{i}", StatusState.SUCCESS, "ok")
        return len(forge.changed_files(REPO, pull.number))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(work, range(8))) == [4] * 8
    assert sorted(fake.comments(pull)) == sorted(f"comment {i}" for i in range(8))
    assert len(fake.latest_statuses(repo, pull.head_sha)) == 8


@pytest.mark.parametrize("name", ["acme/x/../../other/secret/issues#",
                                  "acme/x/../../../user/repos#", "acme/%2e%2e/x",
                                  "acme/infra?per_page=1", "acme/infra/pulls"])
def test_a_crafted_name_never_becomes_a_request(forge: GitHubForge, fake: FakeGitHub,
                                                repo: FakeRepo, name: str) -> None:
    with pytest.raises(ForgeError, match="repository name"):
        forge.create_pull(name, "feature", "main", "t", "", "alice")
    with pytest.raises(ForgeError, match="repository name"):
        forge.post_comment(name, 1, "x")
    assert fake.requests == []
