"""What FakeGitHub and FakeGitLab share: the loopback server, ids, the lock, the
record of requests, and the test-facing methods that mean the same on both.

Each forge subclasses FakeForge and adds only what its forge does differently
(repository records, permissions, reviews, payload shapes, webhook headers).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from tests.fakeforge.faults import Fault, Faults
from tests.fakeforge.model import (
    FakeComment,
    FakeReview,
    FakeStatus,
    ForgeRepo,
    PullRequest,
    RecordedRequest,
)
from tests.fakeforge.server import LoopbackServer
from tests.fakeforge.webhooks import post_delivery

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

RepoT = TypeVar("RepoT", bound=ForgeRepo)
PullT = TypeVar("PullT", bound=PullRequest[Any])


class FakeForge(Generic[RepoT, PullT]):
    """Thread-safe: the HTTP server calls in from several threads."""

    # the forge's status states → the neutral (GitHub) names statuses() reports
    NEUTRAL_STATES: ClassVar[Mapping[str, str]] = {}
    # request fields naming a status, first present wins
    STATUS_NAME_FIELDS: ClassVar[tuple[str, ...]] = ("context",)
    # forge-neutral route names (for faults) → this forge's endpoints
    FAULT_ROUTES: ClassVar[Mapping[str, frozenset[str]]] = {}
    # how this forge answers a write over its secondary rate limit: status, message
    SECONDARY_LIMIT: ClassVar[tuple[int, str]] = (429, "Too Many Requests")

    def __init__(self, root: Path, token: str, bot_login: str, first_id: int) -> None:
        self.token = token
        self.bot_login = bot_login
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.repos: dict[str, RepoT] = {}
        self.requests: list[RecordedRequest] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.lock = threading.RLock()
        self._ids = itertools.count(first_id)
        self.faults = Faults(self.FAULT_ROUTES)

    def serve(self, app: WSGIApplication, name: str) -> str:
        """Starts answering on loopback; returns the server's base URL."""
        self._server = LoopbackServer(app, name)
        return self._server.url

    def close(self) -> None:
        self._server.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    # --- pull requests --------------------------------------------------------------------

    def open_pull(
        self,
        repo: RepoT,
        branch: str = "feature",
        changes: Mapping[str, str | None] | None = None,
        author: str = "alice",
        title: str = "Change infrastructure",
        base: str | None = None,
        body: str = "",
    ) -> PullT:
        """A new branch from `base` with one commit, and a pull request for it."""
        base = base or repo.default_branch
        with self.lock:
            repo.git.commit(branch, changes or {}, title, start=f"refs/heads/{base}")
            return self.open_on_branch(repo, branch, base, author, title, body)

    def open_on_branch(self, repo: RepoT, branch: str, base: str, author: str, title: str,
                       body: str) -> PullT:
        """The pull request open_pull makes once the branch exists."""
        raise NotImplementedError

    def push(self, pull: PullT, changes: Mapping[str, str | None], message: str = "") -> str:
        """A new commit on the pull request's head branch; returns its sha."""
        with self.lock:
            sha: str = pull.repo.git.commit(pull.branch, changes, message or "Update")
            pull.previous_head_sha, pull.head_sha = pull.head_sha, sha
            self.pushed(pull)
            return sha

    def pushed(self, pull: PullT) -> None:
        """What the forge does when a pull request's head moves."""

    def update_from_base(self, pull: PullT) -> str:
        """Merges the base branch into the pull request's branch and pushes, as
        `git merge main && git push` does; returns the new head."""
        with self.lock:
            sha: str = pull.repo.git.merge(pull.branch, f"refs/heads/{pull.base}",
                                           f"Merge branch '{pull.base}' into {pull.branch}")
            pull.previous_head_sha, pull.head_sha = pull.head_sha, sha
            self.pushed(pull)
            return sha

    def set_mergeable(self, pull: PullT, mergeable: bool | None) -> None:
        """What the forge reports: False as for conflicts, None while still checking."""
        with self.lock:
            pull.mergeable = mergeable

    def commit_to_base(
        self, repo: RepoT, changes: Mapping[str, str | None], branch: str | None = None
    ) -> str:
        with self.lock:
            return repo.git.commit(branch or repo.default_branch, changes, "Commit to base")

    def latest_review(self, pull: PullT, user: str) -> FakeReview | None:
        with self.lock:
            mine = [r for r in pull.reviews if r.user == user]
            return mine[-1] if mine else None

    def add_comment(self, pull: PullT, user: str, body: str, via_api: bool,
                    system: bool = False, at: datetime | None = None) -> FakeComment:
        with self.lock:
            comment = FakeComment(self.next_id(), user, body, at or self.now(), via_api, system)
            pull.comments.append(comment)
            return comment

    def add_status(self, repo: RepoT, sha: str, values: Mapping[str, Any]) -> FakeStatus:
        with self.lock:
            names = (values.get(key) for key in self.STATUS_NAME_FIELDS)
            status = FakeStatus(
                id=self.next_id(),
                sha=sha,
                context=str(next((n for n in names if n), "default")),
                state=str(values["state"]),
                description=str(values.get("description") or ""),
                target_url=values.get("target_url"),
                created_at=self.now(),
                creator=self.bot_login,
            )
            repo.statuses.append(status)
            return status

    # --- what the bot did -----------------------------------------------------------------

    def comments(self, pull: PullT) -> list[str]:
        """Bodies of the comments posted through the API, oldest first."""
        with self.lock:
            return [c.body for c in pull.comments if c.via_api and not c.system]

    def statuses(self, repo: RepoT, sha: str) -> list[dict[str, str]]:
        """Statuses posted on `sha`, in the order posted, states in neutral names."""
        with self.lock:
            return [
                {"context": s.context, "state": self.NEUTRAL_STATES.get(s.state, s.state),
                 "description": s.description}
                for s in repo.statuses
                if s.sha == sha
            ]

    def latest_statuses(self, repo: RepoT, sha: str) -> dict[str, str]:
        """context → latest state, as GitHub's checks box shows it."""
        return {s["context"]: s["state"] for s in self.statuses(repo, sha)}

    def record(self, method: str, path: str) -> None:
        with self.lock:
            self.requests.append(RecordedRequest(method, path))

    # --- failures on demand ---------------------------------------------------------------

    def outage(self, *, seconds: float | None = None, requests: int | None = None,
               only: Collection[str] = (), status: int = 502, lands: bool = False) -> Fault:
        """Answer `status` (502 Bad Gateway) to the routes named in `only` (all when
        empty) for `seconds` or `requests`; with neither, until heal(). `lands`: the
        request still takes effect (a comment is created) and only its answer is
        lost, as when a gateway times out after the forge did the work."""
        with self.lock:
            return self.faults.add(status, "Server Error", only=only, seconds=seconds,
                                   requests=requests, lands=lands)

    def rate_limit(self, *, requests: int | None = 1, retry_after: int = 1,
                   only: Collection[str] = ("comment",), seconds: float | None = None) -> Fault:
        """Refuse the next `requests` calls to `only` (or every call for `seconds`)
        as over the secondary rate limit, with `Retry-After: retry_after`, as this
        forge does."""
        status, message = self.SECONDARY_LIMIT
        with self.lock:
            return self.faults.add(status, message, only=only,
                                   requests=None if seconds is not None else requests,
                                   seconds=seconds, headers={"Retry-After": str(retry_after)})

    def refuse(self, *, only: Collection[str], status: int = 403,
               message: str = "Resource not accessible by integration") -> Fault:
        """Answer `status` to `only` for good: a permanent error."""
        with self.lock:
            return self.faults.add(status, message, only=only)

    def heal(self) -> None:
        with self.lock:
            self.faults.clear()

    # --- webhooks -------------------------------------------------------------------------

    def send_webhook(
        self,
        url: str,
        event: str,
        payload: Mapping[str, Any],
        secret: str,
        delivery_id: str | None = None,
        signature: str | None = None,
    ) -> tuple[int, str]:
        """POST `payload` as the forge does; returns (status, response body), never
        raises for an HTTP error status. `signature` replaces the credential sent,
        to forge a delivery."""
        return self.send_body(url, event, json.dumps(payload).encode(), secret, delivery_id,
                              signature)

    def send_body(self, url: str, event: str, body: bytes, secret: str,
                  delivery_id: str | None = None, signature: str | None = None
                  ) -> tuple[int, str]:
        """send_webhook for a body that need not be JSON (or any payload at all)."""
        headers = self.webhook_headers(url, event, body, secret, delivery_id, signature)
        return post_delivery(url, body, headers)

    def webhook_headers(self, url: str, event: str, body: bytes, secret: str,
                        delivery_id: str | None, signature: str | None) -> dict[str, str]:
        raise NotImplementedError

    def deliver(
        self, event: str, payload: Mapping[str, Any], delivery_id: str | None = None
    ) -> tuple[int, str]:
        """send_webhook to `webhook_url` with `webhook_secret`, both set by the test."""
        if self.webhook_url is None or self.webhook_secret is None:
            raise RuntimeError("set fake.webhook_url and fake.webhook_secret before deliver()")
        return self.send_webhook(self.webhook_url, event, payload, self.webhook_secret, delivery_id)

    def deliver_body(self, event: str, body: bytes,
                     delivery_id: str | None = None) -> tuple[int, str]:
        """deliver() of raw bytes, signed as the forge signs them."""
        if self.webhook_url is None or self.webhook_secret is None:
            raise RuntimeError("set fake.webhook_url and fake.webhook_secret before deliver()")
        return self.send_body(self.webhook_url, event, body, self.webhook_secret, delivery_id)
