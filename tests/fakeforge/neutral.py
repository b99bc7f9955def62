"""The forge-neutral surface end-to-end tests drive, whichever fake they run against.

FakeGitHub and FakeGitLab both satisfy `NeutralForge` structurally. What the
methods return is typed by what the two fakes share: `NeutralRepo` for
FakeRepo/FakeProject and `NeutralPull` (model.PullRequest) for
FakePull/FakeMergeRequest.

Arguments are where the fakes cannot agree: each accepts only its own records
(FakeGitHub.push takes a FakePull, FakeGitLab.push a FakeMergeRequest), and no
type but `Any` is a parameter type both signatures accept. `OwnRepo` and
`OwnPull` name that contract: pass back a record the same fake returned. A test
that needs a method only one forge has (FakeGitHub.push_branch, …) narrows
`world.fake` with `isinstance` first.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol, TypeAlias

from tests.fakeforge.faults import Fault
from tests.fakeforge.model import (
    FakeReview,
    ForgeRepo,
    Permission,
    PullRequest,
    RecordedRequest,
    ReviewStateName,
)

NeutralPull: TypeAlias = PullRequest[Any]
"""A GitHub pull request or a GitLab merge request."""

OwnRepo: TypeAlias = Any
"""A repository record made by the same fake (FakeRepo or FakeProject)."""

OwnPull: TypeAlias = Any
"""A pull request record made by the same fake (FakePull or FakeMergeRequest)."""


class NeutralRepo(ForgeRepo, Protocol):
    """What FakeRepo and FakeProject share."""

    @property
    def full_name(self) -> str: ...

    @property
    def pulls(self) -> Mapping[int, NeutralPull]: ...


class NeutralForge(Protocol):
    """The methods and attributes end-to-end tests use on `World.fake`."""

    # where deliver() posts, and the secret it signs with; set by the test
    webhook_url: str | None
    webhook_secret: str | None
    bot_login: str  # the bot's own user name

    # --- repositories and pull requests ---------------------------------------------------

    def create_repo(
        self, full_name: str, files: Mapping[str, str], default_branch: str = ...
    ) -> NeutralRepo: ...

    def open_pull(
        self,
        repo: OwnRepo,
        branch: str = ...,
        changes: Mapping[str, str | None] | None = ...,
        author: str = ...,
        title: str = ...,
        base: str | None = ...,
        body: str = ...,
    ) -> NeutralPull: ...

    def push(self, pull: OwnPull, changes: Mapping[str, str | None],
             message: str = ...) -> str: ...

    def close_pull(self, pull: OwnPull, merged: bool = ...) -> None: ...

    def review(
        self,
        pull: OwnPull,
        user: str,
        state: ReviewStateName = ...,
        commit_sha: str | None = ...,
        body: str = ...,
    ) -> FakeReview: ...

    def set_permission(self, repo: OwnRepo, user: str, permission: Permission) -> None: ...

    def set_mergeable(self, pull: OwnPull, mergeable: bool | None) -> None: ...

    def update_from_base(self, pull: OwnPull) -> str: ...

    def commit_to_base(self, repo: OwnRepo, changes: Mapping[str, str | None],
                       branch: str | None = ...) -> str: ...
    # --- failures on demand (tests/fakeforge/faults.py) ------------------------------------

    def outage(self, *, seconds: float | None = ..., requests: int | None = ...,
               only: Collection[str] = ..., status: int = ..., lands: bool = ...) -> Fault: ...

    def rate_limit(self, *, requests: int | None = ..., retry_after: int = ...,
                   only: Collection[str] = ..., seconds: float | None = ...) -> Fault: ...

    def refuse(self, *, only: Collection[str], status: int = ..., message: str = ...) -> Fault: ...

    def heal(self) -> None: ...

    # --- what the bot did -----------------------------------------------------------------

    # every API request the fake answered, in order (method, path as the forge routes it)
    requests: list[RecordedRequest]

    def comments(self, pull: OwnPull) -> list[str]: ...

    def statuses(self, repo: OwnRepo, sha: str) -> list[dict[str, str]]: ...

    # --- webhooks -------------------------------------------------------------------------

    def pull_request_payload(
        self, pull: OwnPull, action: str, sender: str | None = ...
    ) -> dict[str, Any]: ...

    def comment_payload(self, pull: OwnPull, user: str, body: str) -> dict[str, Any]: ...

    def review_payload(self, pull: OwnPull, user: str, state: str = ...) -> dict[str, Any]: ...

    def send_webhook(
        self,
        url: str,
        event: str,
        payload: Mapping[str, Any],
        secret: str,
        delivery_id: str | None = ...,
        signature: str | None = ...,
    ) -> tuple[int, str]: ...

    def deliver(
        self, event: str, payload: Mapping[str, Any], delivery_id: str | None = ...
    ) -> tuple[int, str]: ...

    def deliver_body(
        self, event: str, body: bytes, delivery_id: str | None = ...
    ) -> tuple[int, str]: ...
