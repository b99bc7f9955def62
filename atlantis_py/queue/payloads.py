"""What a queued job carries: one frozen dataclass per job kind, each with its
own encode/decode, so a worker never reads an untyped dict."""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass
from typing import ClassVar, Self

from atlantis_py.domain.events import (
    CommentEvent,
    Event,
    PullAction,
    PullRequest,
    PullRequestEvent,
    Repo,
    ReviewAction,
    ReviewEvent,
)
from atlantis_py.domain.records import Job


class PayloadError(ValueError):
    """A stored payload that is not what its kind says (a bug or a foreign row)."""


@dataclass(frozen=True)
class EventJob:
    """A verified delivery that asks for work, as the neutral event the web
    process parsed and routed: a few hundred bytes instead of the forge's whole
    body, and nothing left for the worker to parse or distrust."""

    KIND: ClassVar[str] = "event"
    event: Event

    def encode(self) -> str:
        """Written field by field: dataclasses.asdict deep-copies, and this runs
        once per queued webhook on the request path."""
        event = self.event
        if isinstance(event, CommentEvent):
            data: dict[str, object] = {
                "type": "comment", "repo": _repo_fields(event.repo),
                "pull_number": event.pull_number, "comment_id": event.comment_id,
                "body": event.body, "author": event.author}
        elif isinstance(event, PullRequestEvent):
            data = {"type": "pull_request", "pull": _pull_fields(event.pull),
                    "action": event.action.value, "sender": event.sender}
        else:
            data = {"type": "review", "pull": _pull_fields(event.pull),
                    "action": event.action.value, "reviewer": event.reviewer,
                    "state": event.state}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> EventJob:
        try:
            data = _Fields(json.loads(text))
            kind = data.text("type")
            if kind == "comment":
                return cls(CommentEvent(_repo(data.obj("repo")), data.int("pull_number"),
                                        data.int("comment_id"), data.text("body"),
                                        data.text("author")))
            if kind == "pull_request":
                return cls(PullRequestEvent(_pull(data.obj("pull")),
                                            PullAction(data.text("action")),
                                            data.text("sender")))
            if kind == "review":
                return cls(ReviewEvent(_pull(data.obj("pull")),
                                       ReviewAction(data.text("action")),
                                       data.text("reviewer"), data.text("state")))
        except ValueError as err:
            raise PayloadError(f"not an event job: {err}") from err
        raise PayloadError(f"not an event job: unknown type {kind!r}")


class _Fields:
    """Reads of a row this package wrote; a mismatch is a PayloadError."""

    def __init__(self, data: object) -> None:
        if not isinstance(data, dict):
            raise PayloadError(f"expected an object, got {type(data).__name__}")
        self.data = data

    def obj(self, key: str) -> _Fields:
        return _Fields(self.data.get(key))

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise PayloadError(f"{key} is not a string")
        return value

    def int(self, key: str) -> int:
        value = self.data.get(key)
        if type(value) is not int:
            raise PayloadError(f"{key} is not a whole number")
        return value


def _repo_fields(repo: Repo) -> dict[str, object]:
    return {"forge": repo.forge, "full_name": repo.full_name, "clone_url": repo.clone_url}


def _pull_fields(pull: PullRequest) -> dict[str, object]:
    return {"repo": _repo_fields(pull.repo), "number": pull.number, "author": pull.author,
            "head_sha": pull.head_sha, "head_ref": pull.head_ref, "base_ref": pull.base_ref,
            "title": pull.title, "url": pull.url, "labels": list(pull.labels)}


def _repo(data: _Fields) -> Repo:
    return Repo(data.text("forge"), data.text("full_name"), data.text("clone_url"))


def _pull(data: _Fields) -> PullRequest:
    labels = data.data.get("labels") or []  # absent in jobs queued by older versions
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise PayloadError("labels is not a list of strings")
    return PullRequest(_repo(data.obj("repo")), data.int("number"), data.text("author"),
                       data.text("head_sha"), data.text("head_ref"), data.text("base_ref"),
                       data.text("title"), data.text("url"), tuple(labels))


@dataclass(frozen=True)
class WebhookJob:
    """A verified forge delivery queued before deliveries were parsed on the
    request path (kind "webhook"): still decoded so such rows run after an
    upgrade, no longer written. Kept as the raw body: framed as
    "forge\\nevent type\\nbody" rather than re-encoded, so neither the request
    path nor the worker pays for a JSON round trip of a large payload."""

    KIND: ClassVar[str] = "webhook"
    forge: str
    event_type: str
    body: bytes

    def encode(self) -> str:
        return f"{self.forge}\n{self.event_type}\n{self.body.decode('utf-8', errors='replace')}"

    @classmethod
    def decode(cls, text: str) -> WebhookJob:
        parts = text.split("\n", 2)
        if len(parts) != 3:
            raise PayloadError("a webhook job holds forge, event type and body")
        return cls(parts[0], parts[1], parts[2].encode("utf-8"))


@dataclass(frozen=True)
class _PullJob:
    """Work the REST API or CLI asked for on one pull request."""

    forge: str
    repo: str
    number: int
    actor: str

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> Self:
        try:
            data = json.loads(text)
            return cls(str(data["forge"]), str(data["repo"]), int(data["number"]),
                       str(data["actor"]))
        except (ValueError, KeyError, TypeError) as err:
            raise PayloadError(f"not a pull request job: {err}") from err


@dataclass(frozen=True)
class PlanJob(_PullJob):
    """Plan a pull request opened through the API (unless its head is planned)."""

    KIND: ClassVar[str] = "plan"


@dataclass(frozen=True)
class ApplyJob(_PullJob):
    """Deploy an approved IPR (API or CLI `ipr deploy`)."""

    KIND: ClassVar[str] = "apply"


@dataclass(frozen=True)
class NotifyJob:
    """A comment (and optionally a commit status) the server has to post on a
    pull request outside any other job (an API review or cancel, an expiry, an
    interrupted apply): queued so it goes through the outbox like every job's
    writes, and a forge outage delays it instead of losing it."""

    KIND: ClassVar[str] = "notify"
    forge: str
    repo: str
    number: int
    body: str
    sha: str = ""  # with `context`: the status to set, `state` and `description`
    context: str = ""
    state: str = ""
    description: str = ""

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> NotifyJob:
        try:
            data = _Fields(json.loads(text))
            return cls(data.text("forge"), data.text("repo"), data.int("number"),
                       data.text("body"), data.text("sha"), data.text("context"),
                       data.text("state"), data.text("description"))
        except ValueError as err:
            raise PayloadError(f"not a notify job: {err}") from err


@dataclass(frozen=True)
class DriftJob:
    """Plan the default branch head of one repository for drift: the projects of
    `environment` (a scheduled slot, `slot` its wall-clock time) or, from the
    API or CLI, every project or the one named `project`. No requester: the same
    request from two people is one check."""

    KIND: ClassVar[str] = "drift"
    forge: str
    repo: str
    clone_url: str
    environment: str = ""
    project: str = ""
    slot: str = ""
    trigger: str = "manual"

    def encode(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def decode(cls, text: str) -> DriftJob:
        try:
            data = _Fields(json.loads(text))
            return cls(data.text("forge"), data.text("repo"), data.text("clone_url"),
                       data.text("environment"), data.text("project"), data.text("slot"),
                       data.text("trigger"))
        except ValueError as err:
            raise PayloadError(f"not a drift job: {err}") from err


Payload = EventJob | WebhookJob | PlanJob | ApplyJob | NotifyJob | DriftJob

_LEGACY_API = "api"  # before typed payloads: {"op": "autoplan" | "apply", ...}


def decode(job: Job) -> Payload:
    if job.kind == EventJob.KIND:
        return EventJob.decode(job.payload)
    if job.kind == WebhookJob.KIND:
        return WebhookJob.decode(job.payload)
    if job.kind == PlanJob.KIND:
        return PlanJob.decode(job.payload)
    if job.kind == ApplyJob.KIND:
        return ApplyJob.decode(job.payload)
    if job.kind == NotifyJob.KIND:
        return NotifyJob.decode(job.payload)
    if job.kind == DriftJob.KIND:
        return DriftJob.decode(job.payload)
    if job.kind == _LEGACY_API:
        try:
            op = json.loads(job.payload).get("op")
        except (ValueError, AttributeError) as err:
            raise PayloadError(f"job {job.id}: unreadable API payload") from err
        return PlanJob.decode(job.payload) if op == "autoplan" else ApplyJob.decode(job.payload)
    raise PayloadError(f"job {job.id}: unknown kind {job.kind!r}")


def drift_key(forge: str, repo: str, max_parallel: int) -> str:
    """Drift jobs share `max_parallel` serial keys: the queue runs one job per key
    at a time, on every replica together, so no more checks than that run at once."""
    return f"drift#{zlib.crc32(f'{forge}:{repo}'.encode()) % max(1, max_parallel)}"


def pull_key(forge: str, repo: str, number: int) -> str:
    """The serial key: jobs of one pull request run one at a time, in order."""
    return f"{forge}:{repo}#{number}"
