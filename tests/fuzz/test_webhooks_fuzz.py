"""Both webhook parsers, and the /events endpoint in front of them, on bodies
nobody meant to send: any body gets an Event, None or MalformedWebhook (on the
wire: 200, 202 or 400), never another exception, and an Event is one the
worker can store, decode and route."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from atlantis_py.app import create_service
from atlantis_py.core.dispatch import Router, event_pull_number, event_repo
from atlantis_py.domain.events import Event
from atlantis_py.errors import MalformedWebhook
from atlantis_py.forges.base import WebhookVerifier
from atlantis_py.forges.github_webhooks import GitHubWebhooks
from atlantis_py.forges.gitlab_webhooks import GitLabWebhooks
from atlantis_py.queue.payloads import EventJob, pull_key
from atlantis_py.settings import Settings
from tests.fakeforge.webhooks import FIXTURES_ROOT
from tests.fuzz.strategies import VALUES, mutated, nested

GITHUB_EVENTS = ["pull_request", "issue_comment", "pull_request_review"]
GITLAB_EVENTS = ["Merge Request Hook", "Note Hook"]
ROUTER = Router({"github": "atlantis-bot", "gitlab": "atlantis-bot"}, lambda name: True)


@cache
def fixtures(forge: str) -> list[tuple[str, dict[str, Any]]]:
    """(event type, payload) of every stored delivery of `forge` that we handle."""
    out = []
    for path in sorted((FIXTURES_ROOT / forge).glob("*.json")):
        kind = path.name.split(".")[0]
        event = {"merge_request": "Merge Request Hook", "note": "Note Hook"}.get(kind, kind)
        if event in GITHUB_EVENTS + GITLAB_EVENTS:
            out.append((event, json.loads(path.read_text())))
    return out


def check(hooks: WebhookVerifier, event_type: str, body: bytes) -> Event | None:
    """The property: an Event, None or MalformedWebhook; an Event survives the queue."""
    try:
        event = hooks.parse(event_type, body)
    except MalformedWebhook as err:
        assert str(err)
        return None
    if event is not None:
        job = EventJob(event)
        assert EventJob.decode(job.encode()) == job
        repo = event_repo(event)
        assert len(pull_key(repo.forge, repo.full_name, event_pull_number(event))) <= 512
        ROUTER(event)
    return event


BODIES = st.one_of(
    st.binary(max_size=200),
    VALUES.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(nested),
    st.integers(1, 3000).map(lambda n: nested(n, '{"a":', "}")[: -n] + b"1" + b"}" * n),
)


@pytest.mark.parametrize(("hooks", "events"), [(GitHubWebhooks("s"), GITHUB_EVENTS),
                                               (GitLabWebhooks("s"), GITLAB_EVENTS)],
                         ids=["github", "gitlab"])
@settings(max_examples=300)
@given(data=st.data(), body=BODIES)
def test_any_body(hooks: WebhookVerifier, events: list[str], data: st.DataObject,
                  body: bytes) -> None:
    check(hooks, data.draw(st.sampled_from(events)), body)


@pytest.mark.parametrize(("hooks", "forge"), [(GitHubWebhooks("s"), "github"),
                                              (GitLabWebhooks("s"), "gitlab")],
                         ids=["github", "gitlab"])
@settings(max_examples=200)
@given(data=st.data())
def test_real_payloads_mutated_by_type(hooks: WebhookVerifier, forge: str,
                                       data: st.DataObject) -> None:
    event_type, payload = data.draw(st.sampled_from(fixtures(forge)))
    check(hooks, event_type, json.dumps(data.draw(mutated(payload))).encode())


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_every_fixture_parses(forge: str) -> None:
    """The unmutated deliveries are the baseline the mutations start from."""
    hooks: WebhookVerifier = GitHubWebhooks("s") if forge == "github" else GitLabWebhooks("s")
    for event_type, payload in fixtures(forge):
        hooks.parse(event_type, json.dumps(payload).encode())


# --- the endpoint ------------------------------------------------------------------------

SECRET = "fuzz-secret"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The real web app on SQLite, workers not started: jobs stay queued."""
    data = tmp_path_factory.mktemp("fuzz-events")
    service = create_service(Settings(
        gh_token="t", gh_webhook_secret=SECRET, gh_api_url="http://127.0.0.1:9",
        gitlab_token="t", gitlab_webhook_secret=SECRET, gitlab_url="http://127.0.0.1:9",
        data_dir=Path(data), gh_user="atlantis-bot", gitlab_user="atlantis-bot"))
    try:
        yield service.web_app.test_client()
    finally:
        service.stop()


def post(client: FlaskClient, forge: str, event_type: str, body: bytes,
         delivery: str) -> int:
    if forge == "github":
        headers = {"X-GitHub-Event": event_type, "X-GitHub-Delivery": delivery,
                   "X-Hub-Signature-256": "sha256=" + hmac.new(
                       SECRET.encode(), body, hashlib.sha256).hexdigest()}
    else:
        headers = {"X-Gitlab-Event": event_type, "X-Gitlab-Event-UUID": delivery,
                   "X-Gitlab-Token": SECRET}
    return client.post("/events", data=body, headers=headers,
                       content_type="application/json").status_code


@settings(max_examples=200)
@given(data=st.data())
def test_events_endpoint_answers_200_202_or_400(client: FlaskClient,
                                                data: st.DataObject) -> None:
    forge = data.draw(st.sampled_from(["github", "gitlab"]))
    event_type, payload = data.draw(st.sampled_from(fixtures(forge)))
    body = data.draw(st.one_of(BODIES, mutated(payload).map(lambda p: json.dumps(p).encode())))
    delivery = data.draw(st.one_of(st.uuids().map(str), st.text(
        st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=200)))
    status = post(client, forge, event_type, body, delivery)
    assert status in (200, 202, 400)
    if status == 202:  # a redelivery is acknowledged, never queued twice
        assert post(client, forge, event_type, body, delivery) == 200


def test_deep_nesting_is_400_not_500(client: FlaskClient) -> None:
    for body in (nested(100_000), b"{\"a\":" * 5_000 + b"1" + b"}" * 5_000):
        assert post(client, "github", "issue_comment", body, str(uuid.uuid4())) == 400
