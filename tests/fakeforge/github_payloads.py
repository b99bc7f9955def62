"""Webhook payloads for the fake GitHub, and the headers that sign them like GitHub.

Each payload starts as a fresh copy of a stored delivery (tests/fixtures/github,
written by us in the shape GitHub sends) with the fields atlantis-py reads
overwritten from the fake's state, so the rest of the shape stays GitHub's.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import TYPE_CHECKING, Any

from tests.fakeforge.webhooks import fixture_folder, load_fixture

if TYPE_CHECKING:
    from tests.fakeforge.github import FakeGitHub, FakePull, FakeRepo
    from tests.fakeforge.model import FakeComment

FIXTURES = fixture_folder("github")


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a stored delivery, e.g. fixture("pull_request.opened.json")."""
    return load_fixture(FIXTURES / name)


def _common(fake: FakeGitHub, payload: dict[str, Any], repo: FakeRepo, sender: str) -> None:
    payload["repository"].update(fake.http.repo_json(repo))
    payload["sender"].update(fake.http.user_json(sender))
    payload.pop("organization", None)


def pull_request(
    fake: FakeGitHub, pull: FakePull, action: str, sender: str | None = None
) -> dict[str, Any]:
    payload = fixture("pull_request.opened.json")
    payload["action"] = action
    payload["number"] = pull.number
    payload["pull_request"].update(fake.http.pull_json(pull))
    payload["pull_request"]["labels"] = [
        {"id": 7311208800 + i, "name": name, "color": "5c4ee5", "default": False}
        for i, name in enumerate(pull.labels)]
    if action == "synchronize":
        payload["before"] = pull.previous_head_sha or pull.head_sha
        payload["after"] = pull.head_sha
    _common(fake, payload, pull.repo, sender or pull.author)
    return payload


def _issue(fake: FakeGitHub, pull: FakePull) -> dict[str, Any]:
    data = fake.http.pull_json(pull)
    return {
        "url": data["issue_url"],
        "html_url": data["html_url"],
        "id": pull.id,
        "number": pull.number,
        "title": pull.title,
        "user": data["user"],
        "state": pull.state,
        "body": pull.body,
        "pull_request": {
            "url": data["url"],
            "html_url": data["html_url"],
            "merged_at": data["merged_at"],
        },
    }


def issue_comment(fake: FakeGitHub, pull: FakePull, comment: FakeComment) -> dict[str, Any]:
    payload = fixture("issue_comment.created.json")
    payload["action"] = "created"
    payload["issue"].update(_issue(fake, pull))
    payload["comment"].update(fake.http.comment_json(pull, comment))
    _common(fake, payload, pull.repo, comment.user)
    return payload


def plain_issue_comment(
    fake: FakeGitHub, repo: FakeRepo, number: int, user: str, body: str
) -> dict[str, Any]:
    payload = fixture("issue_comment.created.on_issue.json")
    payload["action"] = "created"
    payload["issue"]["number"] = number
    payload["issue"].pop("pull_request", None)
    payload["comment"].update(
        {"id": fake.next_id(), "body": body, "user": fake.http.user_json(user)}
    )
    _common(fake, payload, repo, user)
    return payload


def review(fake: FakeGitHub, pull: FakePull, user: str, state: str) -> dict[str, Any]:
    state = state.lower()
    dismissed = state == "dismissed"
    payload = fixture(
        "pull_request_review.dismissed.json"
        if dismissed
        else "pull_request_review.submitted.approved.json"
    )
    payload["action"] = "dismissed" if dismissed else "submitted"
    recorded = fake.latest_review(pull, user)
    if recorded is not None:
        body = fake.http.review_json(pull, recorded)
    else:
        body = {"id": fake.next_id(), "user": fake.http.user_json(user), "commit_id": pull.head_sha}
    body["state"] = state
    payload["review"].update(body)
    payload["pull_request"].update(fake.http.pull_json(pull))
    _common(fake, payload, pull.repo, user)
    return payload


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(
    event: str, body: bytes, secret: str, delivery_id: str | None, signature_override: str | None
) -> dict[str, str]:
    """The headers GitHub sends with a delivery, signed with `secret`."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/fake",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": signature_override or signature(secret, body),
    }
