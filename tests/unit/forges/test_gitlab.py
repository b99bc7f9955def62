"""GitLabForge against the fake GitLab over real HTTP, and the fake's own contract."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
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
    Review,
    ReviewState,
    StatusState,
)
from atlantis_py.errors import ConfigError, ForgeError
from atlantis_py.forges.gitlab import GitLabForge, GitLabWebhooks
from atlantis_py.forges.gitlab_api import approved_commit
from atlantis_py.forges.gitlab_api import mergeability as _mergeability
from tests.fakeforge.gitlab import FakeGitLab, FakeMergeRequest, FakeProject

REPO = "acme/platform/infra"  # a project in a subgroup
FILES = {
    "README.md": "infra\n",
    "envs/prod/main.tf": 'resource "null_resource" "a" {}\n',
    "modules/net/main.tf": "# network\n" * 20,
    "old/legacy.tf": "# legacy\n",
}


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeGitLab]:
    with FakeGitLab(tmp_path) as fake:
        yield fake


@pytest.fixture
def forge(fake: FakeGitLab) -> GitLabForge:
    return GitLabForge(fake.token, fake.api_url, user=fake.bot_login)


@pytest.fixture
def repo(fake: FakeGitLab) -> FakeProject:
    return fake.create_repo(REPO, FILES)


@pytest.fixture
def pull(fake: FakeGitLab, repo: FakeProject) -> FakeMergeRequest:
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


def test_pull_request_in_a_subgroup(forge: GitLabForge, fake: FakeGitLab, repo: FakeProject,
                                    pull: FakeMergeRequest) -> None:
    pr = forge.pull_request(REPO, pull.number)
    assert (pr.number, pr.author, pr.head_sha) == (1, "alice", pull.head_sha)
    assert (pr.head_ref, pr.base_ref, pr.title) == ("feature", "main", "Move the network module")
    assert pr.repo.forge == "gitlab" and pr.repo.full_name == REPO
    assert pr.repo.clone_url == repo.clone_url
    assert pr.url.endswith("/acme/platform/infra/-/merge_requests/1")
    assert ("GET", "/api/v4/projects/acme%2Fplatform%2Finfra/merge_requests/1") in fake.requests
    forge.pull_request(REPO, pull.number)
    project_reads = [r for r in fake.requests if r.path.endswith("acme%2Fplatform%2Finfra")]
    assert len(project_reads) == 1  # the clone URL is cached


def test_changed_files_with_deletes_and_renames(forge: GitLabForge,
                                                pull: FakeMergeRequest) -> None:
    assert sorted(forge.changed_files(REPO, pull.number), key=lambda f: f.path) == [
        ChangedFile("envs/dev/main.tf", FileStatus.ADDED),
        ChangedFile("envs/prod/main.tf", FileStatus.MODIFIED),
        ChangedFile("modules/network/main.tf", FileStatus.RENAMED, "modules/net/main.tf"),
        ChangedFile("old/legacy.tf", FileStatus.REMOVED),
    ]


def test_changed_files_follow_pagination(forge: GitLabForge, fake: FakeGitLab,
                                         repo: FakeProject) -> None:
    many = fake.open_pull(repo, branch="many", changes={f"d{i:02}/main.tf": "#\n" for i in range(45)})
    files = forge.changed_files(REPO, many.number)
    assert [f.path for f in files] == [f"d{i:02}/main.tf" for i in range(45)]
    pages = [r for r in fake.requests if r.path.endswith(f"/merge_requests/{many.number}/diffs")]
    assert len(pages) == 3


def test_post_comment_is_recorded(forge: GitLabForge, fake: FakeGitLab,
                                  pull: FakeMergeRequest) -> None:
    forge.post_comment(REPO, pull.number, "plan output")
    assert fake.comments(pull) == ["plan output"]


def test_merge_pull_removes_the_source_branch(forge: GitLabForge, fake: FakeGitLab,
                                              repo: FakeProject,
                                              pull: FakeMergeRequest) -> None:
    with pytest.raises(ForgeError, match="409"):
        forge.merge_pull(REPO, pull.number, "0" * 40, delete_branch=True)
    fake.set_mergeable(pull, False)
    with pytest.raises(ForgeError, match="405"):
        forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=True)
    fake.set_mergeable(pull, True)
    assert forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=True) \
        == Merged(True)
    assert pull.merged and pull.state == "merged"
    assert repo.git.branch_sha("feature") is None
    # asked again (a retry after a lost answer): it is merged, as asked
    assert forge.merge_pull(REPO, pull.number, pull.head_sha, delete_branch=False) == Merged()


def test_note_limit(forge: GitLabForge, fake: FakeGitLab, pull: FakeMergeRequest) -> None:
    assert forge.comment_limit == 1_000_000
    forge.post_comment(REPO, pull.number, "x" * forge.comment_limit)
    with pytest.raises(ForgeError, match="HTTP 400.*too long"):
        forge.post_comment(REPO, pull.number, "x" * (forge.comment_limit + 1))
    assert len(fake.comments(pull)) == 1


@pytest.mark.parametrize(
    ("state", "gitlab", "neutral"),
    [(StatusState.PENDING, "running", "pending"), (StatusState.SUCCESS, "success", "success"),
     (StatusState.FAILURE, "failed", "failure"), (StatusState.ERROR, "failed", "failure")],
)
def test_status_states(forge: GitLabForge, fake: FakeGitLab, repo: FakeProject,
                       pull: FakeMergeRequest, state: StatusState, gitlab: str,
                       neutral: str) -> None:
    forge.set_status(REPO, pull.head_sha, "atlantis/plan", state, "1/1 projects planned")
    assert repo.statuses[-1].state == gitlab
    assert fake.statuses(repo, pull.head_sha) == [
        {"context": "atlantis/plan", "state": neutral, "description": "1/1 projects planned"}]


def test_status_updates_follow_gitlab_transitions(forge: GitLabForge, fake: FakeGitLab,
                                                  repo: FakeProject,
                                                  pull: FakeMergeRequest) -> None:
    sha = pull.head_sha
    forge.set_status(REPO, sha, "atlantis/plan", StatusState.PENDING, "planning")
    forge.set_status(REPO, sha, "atlantis/plan", StatusState.PENDING, "still planning")
    forge.set_status(REPO, sha, "atlantis/plan", StatusState.SUCCESS, "done")
    forge.set_status(REPO, sha, "atlantis/plan", StatusState.PENDING, "again")
    forge.set_status(REPO, sha, "atlantis/plan", StatusState.FAILURE, "x" * 300)
    states = [s["state"] for s in fake.statuses(repo, sha)]
    assert states == ["pending", "success", "pending", "failure"]
    assert len(fake.statuses(repo, sha)[-1]["description"]) == 255


def test_status_on_an_unknown_sha_is_a_forge_error(forge: GitLabForge,
                                                   pull: FakeMergeRequest) -> None:
    with pytest.raises(ForgeError, match="HTTP 404"):
        forge.set_status(REPO, "0" * 40, "atlantis/plan", StatusState.SUCCESS, "")


def _approvals(reviews: list[Review]) -> dict[str, str]:
    return {r.user: r.commit_sha for r in reviews if r.state is ReviewState.APPROVED}


@pytest.mark.parametrize("timestamps", [True, False], ids=["approved_at", "system-notes"])
def test_approvals_count_for_the_head_they_were_given_on(
        forge: GitLabForge, fake: FakeGitLab, pull: FakeMergeRequest, timestamps: bool) -> None:
    fake.approvals_with_timestamps = timestamps
    first = pull.head_sha
    fake.review(pull, "bob", "APPROVED")
    second = fake.push(pull, {"envs/dev/main.tf": "# v2\n"})
    fake.review(pull, "carol", "APPROVED")
    fake.review(pull, "dave", "APPROVED", commit_sha=first)  # backdated: approved the old head
    assert _approvals(forge.reviews(REPO, pull.number)) == {
        "bob": first, "carol": second, "dave": first}

    fake.dismiss_review(pull, "bob")
    fake.review(pull, "bob", "APPROVED")  # approves again, now on the new head
    fake.dismiss_review(pull, "carol")
    reviews = forge.reviews(REPO, pull.number)
    assert _approvals(reviews) == {"bob": second, "dave": first}
    assert all(r.submitted_at is not None for r in reviews)


def test_changes_requested_blocks(forge: GitLabForge, fake: FakeGitLab,
                                  pull: FakeMergeRequest) -> None:
    fake.review(pull, "bob", "APPROVED")
    fake.review(pull, "bob", "CHANGES_REQUESTED")
    fake.review(pull, "carol", "COMMENTED")
    reviews = forge.reviews(REPO, pull.number)
    assert [(r.user, r.state) for r in reviews] == [("bob", ReviewState.CHANGES_REQUESTED)]


def test_no_reviews(forge: GitLabForge, pull: FakeMergeRequest) -> None:
    assert forge.reviews(REPO, pull.number) == []


T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(-1, ""), (0, "a"), (5, "a"), (10, "b"), (11, "b"), (30, "c")],
)
def test_approved_commit(minutes: int, expected: str) -> None:
    versions = [(T0 + timedelta(minutes=20), "c"), (T0, "a"), (T0 + timedelta(minutes=10), "b")]
    assert approved_commit(versions, T0 + timedelta(minutes=minutes)) == expected


@pytest.mark.parametrize(
    ("permission", "allowed"),
    [("admin", True), ("maintain", True), ("write", True), ("triage", False),
     ("read", False), ("none", False)],
)
def test_can_run_commands(forge: GitLabForge, fake: FakeGitLab, repo: FakeProject,
                          permission: Any, allowed: bool) -> None:
    fake.set_permission(repo, "mallory", permission)
    assert forge.can_run_commands(REPO, "mallory") is allowed


def test_membership_is_inherited_from_groups(forge: GitLabForge, fake: FakeGitLab,
                                             repo: FakeProject, pull: FakeMergeRequest) -> None:
    assert forge.can_run_commands(REPO, "alice")  # the author is a Developer
    assert not forge.can_run_commands(REPO, "stranger")  # no such user
    fake.add_group_member("acme", "dave", 30)
    fake.add_group_member("acme/platform", "erin", 20)
    assert forge.can_run_commands(REPO, "dave")
    assert not forge.can_run_commands(REPO, "erin")
    strict = GitLabForge(fake.token, fake.api_url, command_access_level=40)
    assert not strict.can_run_commands(REPO, "dave") and strict.can_run_commands(REPO, "acme")


def test_can_approve_needs_the_approver_access_level(forge: GitLabForge, fake: FakeGitLab,
                                                    repo: FakeProject) -> None:
    fake.set_permission(repo, "dev", "write")
    fake.set_permission(repo, "rep", "read")
    fake.set_permission(repo, "lead", "admin")
    fake.add_group_member("acme", "dave", 30)
    fake.user_id("outsider")
    assert [forge.can_approve(REPO, u) for u in ("dev", "rep", "lead", "dave", "outsider")] == \
        [True, False, True, True, False]
    strict = GitLabForge(fake.token, fake.api_url, approver_access_level=40)
    assert [strict.can_approve(REPO, u) for u in ("dev", "lead")] == [False, True]
    assert strict.can_run_commands(REPO, "dev"), "commands keep their own level"


def test_default_branch(forge: GitLabForge, fake: FakeGitLab, repo: FakeProject) -> None:
    assert forge.default_branch(REPO) == "main"
    repo.default_branch = "trunk"
    assert forge.default_branch(REPO) == "trunk"
    with pytest.raises(ForgeError, match="HTTP 404"):
        forge.default_branch("acme/missing")


@pytest.mark.parametrize(("mr", "expected"), [
    ({"detailed_merge_status": "mergeable", "merge_status": "can_be_merged"},
     Mergeability(True, "mergeable")),
    ({"detailed_merge_status": "ci_still_running"}, Mergeability(True, "ci_still_running")),
    ({"detailed_merge_status": "conflict", "merge_status": "cannot_be_merged"},
     Mergeability(False, "conflict")),
    ({"detailed_merge_status": "discussions_not_resolved"},
     Mergeability(False, "discussions_not_resolved")),
    ({"detailed_merge_status": "checking"}, Mergeability(None, "checking")),
    ({"merge_status": "can_be_merged"}, Mergeability(True, "can_be_merged")),
    ({"merge_status": "cannot_be_merged"}, Mergeability(False, "cannot_be_merged")),
    ({"merge_status": "unchecked"}, Mergeability(None, "unchecked")),
    ({}, Mergeability(None, "")),
])
def test_mergeability_from_the_merge_request(mr: dict[str, Any], expected: Mergeability) -> None:
    assert _mergeability(mr) == expected


def test_mergeable(forge: GitLabForge, fake: FakeGitLab, pull: FakeMergeRequest,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert forge.mergeable(REPO, pull.number) == Mergeability(True, "mergeable")
    fake.set_mergeable(pull, False)
    assert forge.mergeable(REPO, pull.number) == Mergeability(False, "conflict")
    monkeypatch.setattr("atlantis_py.forges.base.MERGEABLE_WAIT", 0)
    fake.set_mergeable(pull, None)
    fake.requests.clear()
    assert forge.mergeable(REPO, pull.number) == Mergeability(None, "checking")
    asked = [r for r in fake.requests if r.path.endswith(f"/merge_requests/{pull.number}")]
    assert len(asked) == 3, "still checking is asked again"


def test_in_team_is_group_membership(forge: GitLabForge, fake: FakeGitLab,
                                     repo: FakeProject) -> None:
    fake.add_group_member("acme", "dave", 10)
    fake.add_group_member("acme/platform", "erin", 30)
    assert forge.in_team("acme", "dave") and forge.in_team("acme/platform", "dave")
    assert forge.in_team("acme/platform", "erin") and not forge.in_team("acme", "erin")
    assert not forge.in_team("acme/platform", "alice")  # project member, not group member
    assert not forge.in_team("other", "dave") and not forge.in_team("", "dave")


def test_create_pull(forge: GitLabForge, fake: FakeGitLab, repo: FakeProject) -> None:
    repo.git.commit("ipr", {"x.tf": "# x\n"}, "x", start="refs/heads/main")
    pr = forge.create_pull(REPO, "ipr", "main", "Apply x", "body", "alice")
    assert (pr.number, pr.head_ref, pr.base_ref, pr.author) == (1, "ipr", "main", "atlantis-bot")
    assert pr.head_sha == repo.git.branch_sha("ipr")
    with pytest.raises(ForgeError, match="HTTP 400"):
        forge.create_pull(REPO, "no-such-branch", "main", "t", "", "alice")


def test_missing_merge_request_is_a_forge_error(forge: GitLabForge, repo: FakeProject) -> None:
    with pytest.raises(ForgeError, match="HTTP 404"):
        forge.pull_request(REPO, 99)


def test_bad_token_is_a_forge_error(fake: FakeGitLab, pull: FakeMergeRequest) -> None:
    with pytest.raises(ForgeError, match="HTTP 401"):
        GitLabForge("wrong", fake.api_url).post_comment(REPO, pull.number, "x")
    assert fake.comments(pull) == []


def test_unknown_route_is_a_forge_error_naming_it(fake: FakeGitLab, repo: FakeProject) -> None:
    forge = GitLabForge(fake.token, fake.api_url + "/nested")
    with pytest.raises(ForgeError, match="HTTP 501.*GET /nested/api/v4/projects/acme%2F"):
        forge.pull_request(REPO, 1)


def test_unreachable_api_is_a_forge_error(tmp_path: Path) -> None:
    forge = GitLabForge("t", "http://127.0.0.1:9", timeout=2)
    forge._client.gl.retry_transient_errors = False
    with pytest.raises(ForgeError, match="GitLab: reading merge request"):
        forge.pull_request(REPO, 1)


def test_empty_token_is_a_config_error_and_repr_hides_the_token() -> None:
    with pytest.raises(ConfigError):
        GitLabForge("")
    assert "sekrit" not in repr(GitLabForge("sekrit"))


def test_git_env_sends_the_token_as_a_header_for_the_instance_only() -> None:
    env = GitLabForge("glpat-1", "https://gitlab.example.com/").clone_env
    basic = base64.b64encode(b"oauth2:glpat-1").decode()
    assert env == {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.https://gitlab.example.com/.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


# --- the fake itself ---------------------------------------------------------------------


def _get(fake: FakeGitLab, path: str, token: str | None = "test-token") -> tuple[int, Any]:
    headers = {"PRIVATE-TOKEN": token} if token else {}
    request = urllib.request.Request(f"{fake.api_url}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_fake_routes_need_encoded_paths_and_a_token(fake: FakeGitLab, repo: FakeProject) -> None:
    assert _get(fake, "/api/v4/projects/acme%2Fplatform%2Finfra")[0] == 200
    assert _get(fake, f"/api/v4/projects/{repo.id}")[1]["path_with_namespace"] == REPO
    assert _get(fake, "/api/v4/projects/acme%2Fplatform%2Finfra", token=None)[0] == 401
    assert _get(fake, "/api/v4/projects/acme%2Fplatform%2Finfra", token="nope")[0] == 401
    status, body = _get(fake, "/api/v4/projects/acme/platform/infra")
    assert status == 501 and "GET /api/v4/projects/acme/platform/infra" in body["message"]
    status, body = _get(fake, "/api/v4/projects/acme%2Fplatform%2Finfra/hooks")
    assert status == 501 and "hooks" in body["message"]


def test_merging_advances_base(fake: FakeGitLab, repo: FakeProject, pull: FakeMergeRequest,
                               forge: GitLabForge) -> None:
    fake.close_pull(pull, merged=True)
    assert repo.git.read("refs/heads/main", "envs/dev/main.tf") == "# new\n"
    assert pull.merge_sha == repo.git.branch_sha("main") and pull.state == "merged"


class _Receiver:
    """A stand-in for the real webhook endpoint: verify, then parse, answer 202."""

    def __init__(self, secret: str) -> None:
        self.hooks = GitLabWebhooks(secret)
        self.events: list[Event | None] = []
        self.headers: list[dict[str, str]] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        self.headers.append(dict(request.headers))
        delivery = self.hooks.verify(dict(request.headers), request.get_data())
        if delivery is None:
            return Response("forged", status=401)(environ, start_response)
        self.events.append(self.hooks.parse(delivery.event_type, request.get_data()))
        return Response("queued", status=202)(environ, start_response)


@pytest.fixture
def receiver(fake: FakeGitLab) -> Iterator[_Receiver]:
    receiver = _Receiver("hook-secret")
    fake.webhook_url, fake.webhook_secret = receiver.url, "hook-secret"
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _deliver(fake: FakeGitLab, receiver: _Receiver, event: str,
             payload: Mapping[str, Any]) -> Event:
    assert fake.deliver(event, payload) == (202, "queued")
    parsed = receiver.events[-1]
    assert parsed is not None
    return parsed


def test_webhooks_from_the_fake_parse_to_its_state(
    fake: FakeGitLab, receiver: _Receiver, repo: FakeProject, pull: FakeMergeRequest
) -> None:
    opened = _deliver(fake, receiver, "pull_request", fake.pull_request_payload(pull, "opened"))
    assert isinstance(opened, PullRequestEvent) and opened.action is PullAction.OPENED
    assert opened.pull.head_sha == pull.head_sha and opened.pull.repo.full_name == REPO
    assert opened.pull.repo.clone_url == repo.clone_url and opened.sender == "alice"
    assert receiver.headers[-1]["X-Gitlab-Event"] == "Merge Request Hook"

    fake.push(pull, {"envs/dev/main.tf": "# v2\n"})
    payload = fake.pull_request_payload(pull, "synchronize")
    assert payload["object_attributes"]["oldrev"] == pull.previous_head_sha
    updated = _deliver(fake, receiver, "pull_request", payload)
    assert isinstance(updated, PullRequestEvent) and updated.action is PullAction.UPDATED
    assert updated.pull.head_sha == pull.head_sha
    edited = fake.pull_request_payload(pull, "edited")
    assert fake.deliver("pull_request", edited)[0] == 202 and receiver.events[-1] is None

    comment = _deliver(fake, receiver, "issue_comment",
                       fake.comment_payload(pull, "bob", "atlantis plan"))
    assert isinstance(comment, CommentEvent)
    assert (comment.pull_number, comment.author, comment.body) == (1, "bob", "atlantis plan")
    assert receiver.headers[-1]["X-Gitlab-Event"] == "Note Hook"
    assert fake.comments(pull) == []  # a user's note, not the bot's

    fake.review(pull, "bob", "APPROVED")
    review = _deliver(fake, receiver, "pull_request_review", fake.review_payload(pull, "bob"))
    assert isinstance(review, ReviewEvent) and review.state == "approved"
    assert review.reviewer == "bob" and review.pull.head_sha == pull.head_sha

    fake.dismiss_review(pull, "bob")
    dismissed = _deliver(fake, receiver, "pull_request_review",
                         fake.review_payload(pull, "bob", "dismissed"))
    assert isinstance(dismissed, ReviewEvent) and dismissed.action is ReviewAction.DISMISSED

    fake.close_pull(pull, merged=True)
    merged = _deliver(fake, receiver, "pull_request", fake.pull_request_payload(pull, "closed"))
    assert isinstance(merged, PullRequestEvent) and merged.action is PullAction.MERGED


def test_closed_without_merge(fake: FakeGitLab, receiver: _Receiver,
                              pull: FakeMergeRequest) -> None:
    fake.close_pull(pull)
    closed = _deliver(fake, receiver, "pull_request", fake.pull_request_payload(pull, "closed"))
    assert isinstance(closed, PullRequestEvent) and closed.action is PullAction.CLOSED


def test_plain_issue_note_is_ignored(fake: FakeGitLab, receiver: _Receiver,
                                     repo: FakeProject) -> None:
    payload = fake.issue_comment_payload(repo, 7, "bob", "atlantis plan")
    assert fake.deliver("issue_comment", payload) == (202, "queued")
    assert receiver.events == [None]


def test_forged_token_is_refused(fake: FakeGitLab, receiver: _Receiver,
                                 pull: FakeMergeRequest) -> None:
    payload = fake.pull_request_payload(pull, "opened")
    assert fake.send_webhook(receiver.url, "pull_request", payload, "wrong")[0] == 401
    status, _ = fake.send_webhook(receiver.url, "pull_request", payload, "hook-secret",
                                  signature="forged")
    assert status == 401 and receiver.events == []
    assert fake.deliver("pull_request", payload, delivery_id="d-7")[0] == 202
    assert receiver.headers[-1]["X-Gitlab-Event-Uuid"] == "d-7"


@pytest.mark.parametrize("name", ["acme/x/../../other/secret", "acme//infra",
                                  "acme/%2e%2e/x", "acme/infra?x=1", "acme"])
def test_a_crafted_name_never_becomes_a_request(forge: GitLabForge, fake: FakeGitLab,
                                                repo: FakeProject, name: str) -> None:
    with pytest.raises(ForgeError, match="repository name"):
        forge.create_pull(name, "feature", "main", "t", "", "alice")
    with pytest.raises(ForgeError, match="repository name"):
        forge.post_comment(name, 1, "x")
    assert fake.requests == []
