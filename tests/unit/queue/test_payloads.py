"""Job payloads: each kind round-trips, and a bad row fails loudly."""

from __future__ import annotations

import json

import pytest

from atlantis_py.domain.events import (
    CommentEvent,
    PullAction,
    PullRequest,
    PullRequestEvent,
    Repo,
    ReviewAction,
    ReviewEvent,
)
from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.queue.payloads import (
    ApplyJob,
    EventJob,
    PayloadError,
    PlanJob,
    WebhookJob,
    decode,
    pull_key,
)

REPO = Repo("gitlab", "acme/platform/infra", "https://gitlab.example/acme/platform/infra.git")
PULL = PullRequest(REPO, 12, "alice", "a" * 40, "feature", "main", "Tit\u00eble \"q\"", "")


def job(kind: str, payload: str) -> Job:
    return Job(id=7, kind=kind, serial_key="k", payload=payload, attempts=0,
               status=JobStatus.QUEUED)


@pytest.mark.parametrize("payload", [
    WebhookJob("github", "issue_comment", b'{"action": "created", "body": "a\\nb"}'),
    WebhookJob("gitlab", "Note Hook", "{\"note\": \"caf\u00e9 \u2713\"}".encode()),
    PlanJob("github", "acme/infra", 4, "alice"),
    ApplyJob("gitlab", "acme/platform/infra", 12, "bob"),
    EventJob(CommentEvent(REPO, 12, 2**40, "atlantis plan\n\u0000 \u2713", "bob")),
    EventJob(PullRequestEvent(PULL, PullAction.MERGED, "carol")),
    EventJob(ReviewEvent(PULL, ReviewAction.DISMISSED, "dave", "dismissed")),
    EventJob(PullRequestEvent(PullRequest(REPO, 3, "a", "b" * 40, "f", "main",
                                          labels=("no-autoplan", "db")),
                              PullAction.OPENED, "a")),
])
def test_every_kind_round_trips(payload: EventJob | WebhookJob | PlanJob | ApplyJob) -> None:
    assert decode(job(payload.KIND, payload.encode())) == payload


def test_kinds_are_distinct() -> None:
    assert len({EventJob.KIND, WebhookJob.KIND, PlanJob.KIND, ApplyJob.KIND}) == 4


@pytest.mark.parametrize(("op", "expected"), [
    ("autoplan", PlanJob("github", "acme/infra", 3, "alice")),
    ("apply", ApplyJob("github", "acme/infra", 3, "alice")),
])
def test_rows_queued_before_typed_payloads_still_decode(
        op: str, expected: PlanJob | ApplyJob) -> None:
    legacy = json.dumps({"op": op, "forge": "github", "repo": "acme/infra", "number": 3,
                         "actor": "alice"})
    assert decode(job("api", legacy)) == expected


@pytest.mark.parametrize(("kind", "payload"), [
    ("webhook", "github only"),
    ("event", "[]"),
    ("event", '{"type": "comment"}'),
    ("event", '{"type": "push"}'),
    ("event", '{"type": "pull_request", "pull": {}, "action": "opened", "sender": "a"}'),
    ("plan", "{}"),
    ("plan", '{"forge": "github", "repo": "a/b", "number": "x", "actor": "a"}'),
    ("apply", "not json"),
    ("api", "[1, 2]"),
    ("drift", "{}"),
])
def test_bad_rows_raise(kind: str, payload: str) -> None:
    with pytest.raises(PayloadError):
        decode(job(kind, payload))


def test_pull_key_matches_the_webhooks_serial_key() -> None:
    assert pull_key("github", "acme/infra", 4) == "github:acme/infra#4"


def test_an_event_queued_before_labels_decodes_without_them() -> None:
    row = json.loads(EventJob(PullRequestEvent(PULL, PullAction.OPENED, "a")).encode())
    del row["pull"]["labels"]
    decoded = decode(job(EventJob.KIND, json.dumps(row)))
    assert isinstance(decoded, EventJob) and isinstance(decoded.event, PullRequestEvent)
    assert decoded.event.pull == PULL
