"""What a queued job carries: one frozen dataclass per job kind, each with its
own encode/decode, so a worker never reads an untyped dict."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import ClassVar, Self

from atlantis_py.domain.records import Job


class PayloadError(ValueError):
    """A stored payload that is not what its kind says (a bug or a foreign row)."""


@dataclass(frozen=True)
class WebhookJob:
    """A verified forge delivery, kept as the raw body: framed as
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


Payload = WebhookJob | PlanJob | ApplyJob

_LEGACY_API = "api"  # before typed payloads: {"op": "autoplan" | "apply", ...}


def decode(job: Job) -> Payload:
    if job.kind == WebhookJob.KIND:
        return WebhookJob.decode(job.payload)
    if job.kind == PlanJob.KIND:
        return PlanJob.decode(job.payload)
    if job.kind == ApplyJob.KIND:
        return ApplyJob.decode(job.payload)
    if job.kind == _LEGACY_API:
        try:
            op = json.loads(job.payload).get("op")
        except (ValueError, AttributeError) as err:
            raise PayloadError(f"job {job.id}: unreadable API payload") from err
        return PlanJob.decode(job.payload) if op == "autoplan" else ApplyJob.decode(job.payload)
    raise PayloadError(f"job {job.id}: unknown kind {job.kind!r}")


def pull_key(forge: str, repo: str, number: int) -> str:
    """The serial key: jobs of one pull request run one at a time, in order."""
    return f"{forge}:{repo}#{number}"
