"""The Forge protocol: all the rest of atlantis-py knows of GitHub or GitLab.

Repos are named by their full name ("owner/name"); no client-library object
crosses this boundary. Every method raises ForgeError on API failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from atlantis_py.domain.events import Event, PullRequest
from atlantis_py.domain.forge import (
    ChangedFile,
    Comment,
    Mergeability,
    Merged,
    Review,
    StatusState,
)
from atlantis_py.errors import ConfigError

# a forge works mergeability out in the background and answers "unknown" until then
MERGEABLE_TRIES = 3
MERGEABLE_WAIT = 1.0  # seconds between tries


def settled(read: Callable[[], Mergeability]) -> Mergeability:
    """`read()` asked again, a few times, while the forge is still working
    mergeability out; the last answer, unknown or not."""
    for attempt in range(MERGEABLE_TRIES):
        found = read()
        if found.mergeable is not None or attempt == MERGEABLE_TRIES - 1:
            break
        time.sleep(MERGEABLE_WAIT)
    return found


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup: werkzeug headers already are, a plain dict is not."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


@dataclass(frozen=True)
class Delivery:
    """A webhook delivery that passed verification."""

    forge: str
    delivery_id: str
    event_type: str
    handled: bool  # False: acknowledged and ignored unread (ping, push, other kinds)


class WebhookVerifier(Protocol):
    """Cheap checks done on the request path, before anything is stored."""

    forge: str

    def recognises(self, headers: Mapping[str, str]) -> bool:
        """True when the headers say the request came from this forge."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        """The delivery when the signature/token is valid, None when forged."""

    def parse(self, event_type: str, payload: bytes) -> Event | None:
        """A neutral Event, or None when the payload is not one we act on
        (a comment on a plain issue, an edited comment or PR, a review that only
        comments, an event kind we do not handle). Runs on the request path, so
        the web process can tell what needs no job. Raises MalformedWebhook
        (and nothing else) when the body is not JSON or a field it needs is
        missing or of the wrong type."""


class SecretWebhooks:
    """What both forges' WebhookVerifiers share: a secret that must not be
    empty and never shows in a repr, the header naming the event, and the
    Delivery a verified request becomes."""

    forge: str
    title: str  # the forge's name in messages
    event_header: str
    handled_events: frozenset[str]

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ConfigError(f"the {self.title} webhook secret is empty; anyone could "
                              "forge deliveries")
        self._secret = secret.encode()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secret=***)"

    def recognises(self, headers: Mapping[str, str]) -> bool:
        return header(headers, self.event_header) is not None

    def delivery(self, delivery_id: str, event_type: str) -> Delivery:
        return Delivery(forge=self.forge, delivery_id=delivery_id, event_type=event_type,
                        handled=event_type in self.handled_events)


class Forge(Protocol):
    name: str
    comment_limit: int  # characters per comment

    def pull_request(self, repo: str, number: int) -> PullRequest: ...

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]: ...

    def post_comment(self, repo: str, number: int, body: str) -> None: ...

    def set_status(
        self, repo: str, sha: str, context: str, state: StatusState, description: str
    ) -> None: ...

    def comments(self, repo: str, number: int) -> list[Comment]:
        """Every comment on the pull request, oldest first (GitLab: not system
        notes): how a write whose answer was lost is found to have landed."""

    def reviews(self, repo: str, number: int) -> list[Review]: ...

    def can_run_commands(self, repo: str, user: str) -> bool:
        """Whether `user` may run atlantis commands (write access or more)."""

    def can_approve(self, repo: str, user: str) -> bool:
        """Whether `user`'s approval may count: write access or more (GitHub write,
        maintain or admin; GitLab the approver access level, Developer by default).
        Anyone can review a public repository; only these reviews gate an apply."""

    def default_branch(self, repo: str) -> str:
        """The repository's default branch, where the rules are read by default."""

    def mergeable(self, repo: str, number: int) -> Mergeability:
        """Whether the forge would merge the pull request as it stands."""

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        """Merge the pull request as of `head_sha` (refused by the forge if its
        head moved since), then, when asked, delete its source branch. Raises
        ForgeError when the forge does not merge it (conflict, not mergeable)."""

    def in_team(self, team: str, user: str) -> bool:
        """Whether `user` belongs to `team` ("org/team" on GitHub, a group path on
        GitLab); approvers may name teams."""

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str,
                    opened_by: str) -> PullRequest:
        """Open a pull request (the API's "create an IPR") for the API user
        `opened_by`. A forge that keeps its own pull requests (local) makes them
        the author, so they cannot approve it; GitHub and GitLab open it as the
        bot's account, which is who they name as its author."""

    @property
    def clone_env(self) -> dict[str, str]:
        """Environment for git so fetches authenticate without the token in argv/URLs."""
