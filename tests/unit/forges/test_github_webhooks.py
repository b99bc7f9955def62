"""GitHubWebhooks: signature checks and payload parsing on deliveries shaped like GitHub's
(tests/fixtures/github: our own repositories and users, GitHub's field names and types)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from atlantis_py.core.dispatch import event_pull_number, event_repo
from atlantis_py.domain.events import (
    CommentEvent,
    PullAction,
    PullRequestEvent,
    ReviewAction,
    ReviewEvent,
)
from atlantis_py.errors import ConfigError, MalformedWebhook
from atlantis_py.forges.base import Delivery
from atlantis_py.forges.github import GitHubWebhooks
from atlantis_py.queue.payloads import pull_key
from tests.fakeforge.github_payloads import FIXTURES

VECTOR = json.loads((FIXTURES / "signature-test-vector.json").read_text())


def _read(name: str) -> bytes:
    return (Path(FIXTURES) / name).read_bytes()


def _headers(signature: str | None, event: str = "pull_request") -> dict[str, str]:
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return headers


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_official_vector_verifies() -> None:
    hooks = GitHubWebhooks(VECTOR["secret"])
    delivery = hooks.verify(_headers(VECTOR["X-Hub-Signature-256"]), VECTOR["payload"].encode())
    assert delivery == Delivery(
        forge="github", delivery_id="d-1", event_type="pull_request", handled=True
    )


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=" + "0" * 64,
        VECTOR["signature"],  # without the sha256= prefix
        "sha1=" + VECTOR["signature"],
        "sha256=" + VECTOR["signature"].upper(),
        "sha256=ünïcode",
    ],
)
def test_missing_or_wrong_signature_is_refused(signature: str | None) -> None:
    hooks = GitHubWebhooks(VECTOR["secret"])
    assert hooks.verify(_headers(signature), VECTOR["payload"].encode()) is None


def test_signature_over_another_body_is_refused() -> None:
    hooks = GitHubWebhooks(VECTOR["secret"])
    assert hooks.verify(_headers(VECTOR["X-Hub-Signature-256"]), b"Hello, World?") is None


def test_missing_delivery_id_is_refused() -> None:
    hooks = GitHubWebhooks("s")
    headers = {"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": _sign("s", b"{}")}
    assert hooks.verify(headers, b"{}") is None


def test_headers_are_case_insensitive_in_a_plain_dict() -> None:
    hooks = GitHubWebhooks("s")
    headers = {
        "x-github-event": "issue_comment",
        "x-github-delivery": "abc",
        "x-hub-signature-256": _sign("s", b"{}"),
    }
    assert hooks.recognises(headers)
    delivery = hooks.verify(headers, b"{}")
    assert delivery is not None and delivery.event_type == "issue_comment"


def test_werkzeug_request_headers_as_a_dict_work() -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    environ = EnvironBuilder(
        method="POST", data=body, headers=list(_headers(_sign("s", body), event="ping").items())
    ).get_environ()
    request = Request(environ)
    headers = dict(request.headers)  # werkzeug title-cases: X-Github-Event
    assert "X-GitHub-Event" not in headers
    hooks = GitHubWebhooks("s")
    assert hooks.recognises(headers)
    assert hooks.verify(headers, request.get_data()) == Delivery(
        forge="github", delivery_id="d-1", event_type="ping", handled=False
    )


@pytest.mark.parametrize("event", ["ping", "push", "check_run", "pull_request_review_comment"])
def test_other_events_are_verified_but_not_handled(event: str) -> None:
    delivery = GitHubWebhooks("s").verify(_headers(_sign("s", b"{}"), event), b"{}")
    assert delivery is not None and delivery.handled is False


def test_recognises_only_github() -> None:
    hooks = GitHubWebhooks("s")
    assert hooks.recognises({"X-GitHub-Event": "push"})
    assert not hooks.recognises({"X-Gitlab-Event": "Merge Request Hook"})


def test_empty_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        GitHubWebhooks("")


def test_repr_hides_the_secret() -> None:
    assert "hunter2" not in repr(GitHubWebhooks("hunter2"))


PULL_CASES = [
    ("pull_request.opened.json", PullAction.OPENED),
    ("pull_request.reopened.json", PullAction.OPENED),
    ("pull_request.synchronize.json", PullAction.UPDATED),
    ("pull_request.closed.merged.json", PullAction.MERGED),
    ("pull_request.closed.not_merged.json", PullAction.CLOSED),
]


@pytest.mark.parametrize(("name", "action"), PULL_CASES)
def test_pull_request_events(name: str, action: PullAction) -> None:
    event = GitHubWebhooks("s").parse("pull_request", _read(name))
    raw = json.loads(_read(name))
    assert isinstance(event, PullRequestEvent)
    assert event.action is action
    assert event.sender == raw["sender"]["login"]
    pull = event.pull
    assert pull.number == raw["pull_request"]["number"]
    assert pull.head_sha == raw["pull_request"]["head"]["sha"]
    assert pull.repo.forge == "github"
    assert pull.repo.full_name == raw["repository"]["full_name"]
    assert pull.repo.clone_url == raw["repository"]["clone_url"]


def test_opened_pull_request_fields() -> None:
    event = GitHubWebhooks("s").parse("pull_request", _read("pull_request.opened.json"))
    assert isinstance(event, PullRequestEvent)
    assert event.pull.number == 42
    assert event.pull.author == "alice"
    assert event.pull.head_ref == "alice/vpc-endpoints"
    assert event.pull.base_ref == "main"
    assert event.pull.head_sha == "3f9c2b7e1d4a5c6b8e0f1a2b3c4d5e6f7a8b9c0d"
    assert event.pull.title == "Add VPC endpoints for S3 and DynamoDB"
    assert event.pull.url == "https://github.com/acme/infra/pull/42"
    assert event.pull.repo.clone_url == "https://github.com/acme/infra.git"


def test_synchronize_carries_the_new_head() -> None:
    raw = json.loads(_read("pull_request.synchronize.json"))
    event = GitHubWebhooks("s").parse("pull_request", _read("pull_request.synchronize.json"))
    assert isinstance(event, PullRequestEvent)
    assert event.pull.head_sha == raw["after"] != raw["before"]


@pytest.mark.parametrize(
    ("event_type", "name"),
    [
        ("pull_request", "pull_request.edited.json"),
        ("issue_comment", "issue_comment.created.on_issue.json"),
        ("pull_request_review", "pull_request_review.submitted.commented.json"),
        ("push", "push.json"),
        ("ping", "ping.json"),
    ],
)
def test_payloads_not_acted_on_parse_to_none(event_type: str, name: str) -> None:
    assert GitHubWebhooks("s").parse(event_type, _read(name)) is None


def test_comment_on_pull_request() -> None:
    event = GitHubWebhooks("s").parse("issue_comment", _read("issue_comment.created.json"))
    assert isinstance(event, CommentEvent)
    assert event.repo.full_name == "acme/infra"
    assert event.repo.clone_url == "https://github.com/acme/infra.git"
    assert event.pull_number == 42
    assert event.comment_id == 2931840571
    assert event.author == "bob"
    assert event.body.startswith("atlantis plan -d envs/staging\n")


def test_edited_comment_is_ignored() -> None:
    raw = json.loads(_read("issue_comment.created.json"))
    raw["action"] = "edited"
    assert GitHubWebhooks("s").parse("issue_comment", json.dumps(raw).encode()) is None


@pytest.mark.parametrize(
    ("name", "action", "state", "reviewer", "number"),
    [
        (
            "pull_request_review.submitted.approved.json",
            ReviewAction.SUBMITTED,
            "approved",
            "bob",
            42,
        ),
        (
            "pull_request_review.submitted.changes_requested.json",
            ReviewAction.SUBMITTED,
            "changes_requested",
            "carol",
            51,
        ),
        (
            # dismissed by alice; the reviewer is the review's author
            "pull_request_review.dismissed.json",
            ReviewAction.DISMISSED,
            "dismissed",
            "bob",
            42,
        ),
    ],
)
def test_review_events(
    name: str, action: ReviewAction, state: str, reviewer: str, number: int
) -> None:
    event = GitHubWebhooks("s").parse("pull_request_review", _read(name))
    assert isinstance(event, ReviewEvent)
    assert (event.action, event.state, event.reviewer) == (action, state, reviewer)
    assert event.pull.number == number
    raw = json.loads(_read(name))
    assert event.pull.head_sha == raw["pull_request"]["head"]["sha"]


def test_review_state_from_the_api_in_upper_case_is_accepted() -> None:
    raw = json.loads(_read("pull_request_review.submitted.approved.json"))
    raw["review"]["state"] = "APPROVED"
    event = GitHubWebhooks("s").parse("pull_request_review", json.dumps(raw).encode())
    assert isinstance(event, ReviewEvent) and event.state == "approved"


@pytest.mark.parametrize("payload", [
    b"not json", b"{}", b'{"action": "opened"}', b"[]", b"\xff\xfe", b"[" * 100_000,
    b'{"action": ["opened"]}',
])
def test_malformed_payload_is_a_malformed_webhook(payload: bytes) -> None:
    with pytest.raises(MalformedWebhook, match="GitHub pull_request payload"):
        GitHubWebhooks("s").parse("pull_request", payload)


@pytest.mark.parametrize(("event_type", "name", "path", "value"), [
    ("issue_comment", "issue_comment.created.json", ("issue",), []),
    ("issue_comment", "issue_comment.created.json", ("issue", "number"), "42"),
    ("issue_comment", "issue_comment.created.json", ("comment", "user"), "alice"),
    ("issue_comment", "issue_comment.created.json", ("comment", "body"), 5),
    ("pull_request", "pull_request.opened.json", ("pull_request", "number"), True),
    ("pull_request", "pull_request.opened.json", ("pull_request", "head", "sha"), None),
    ("pull_request", "pull_request.opened.json", ("repository", "full_name"), "x" * 300),
    ("pull_request", "pull_request.closed.merged.json", ("pull_request", "merged"), "yes"),
    ("pull_request_review", "pull_request_review.submitted.approved.json", ("review",), 1),
])
def test_a_field_of_the_wrong_type_is_named(event_type: str, name: str,
                                            path: tuple[str, ...], value: object) -> None:
    raw = json.loads(_read(name))
    holder = raw
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    with pytest.raises(MalformedWebhook, match=".".join(path)):
        GitHubWebhooks("s").parse(event_type, json.dumps(raw).encode())


@pytest.mark.parametrize(
    ("event_type", "name", "key"),
    [
        ("pull_request", "pull_request.opened.json", "github:acme/infra#42"),
        ("issue_comment", "issue_comment.created.json", "github:acme/infra#42"),
        (
            "pull_request_review",
            "pull_request_review.submitted.approved.json",
            "github:acme/infra#42",
        ),
        (
            "pull_request_review",
            "pull_request_review.submitted.changes_requested.json",
            "github:acme/network-modules#51",
        ),
    ],
)
def test_serial_key_orders_one_pull_requests_jobs(event_type: str, name: str, key: str) -> None:
    event = GitHubWebhooks("s").parse(event_type, _read(name))
    assert event is not None
    repo = event_repo(event)
    assert pull_key(repo.forge, repo.full_name, event_pull_number(event)) == key


@pytest.mark.parametrize("name", ["acme/x/../../other/secret/issues#", "acme/infra/extra",
                                  "acme/%2e%2e", "acme/in fra", "acme"])
@pytest.mark.parametrize("fixture", ["pull_request.opened.json", "issue_comment.created.json"])
def test_a_payload_naming_no_owner_and_name_is_refused(fixture: str, name: str) -> None:
    data = json.loads(_read(fixture))
    data["repository"]["full_name"] = name
    body = json.dumps(data).encode()
    event = fixture.split(".")[0]
    with pytest.raises(MalformedWebhook, match="repository name"):
        GitHubWebhooks("s").parse(event, body)
