"""`git push` to a local repository re-plans its open pull requests.

The post-receive hook (local_hooks.py) posts each updated branch to the
server's own /events on loopback with this start's secret. Here the delivery
is checked and turned into an "updated" pull request event, as a GitHub
synchronize webhook would be.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Mapping

from atlantis_py.domain.events import Event, PullAction, PullRequestEvent
from atlantis_py.errors import ForgeError, MalformedWebhook
from atlantis_py.forges.base import Delivery, header
from atlantis_py.forges.local import NAME, LocalForge
from atlantis_py.forges.local_hooks import DELIVERY_HEADER, SECRET_HEADER

log = logging.getLogger(__name__)

__all__ = ["DELIVERY_HEADER", "SECRET_HEADER", "LocalPushes", "new_secret"]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class LocalPushes:
    """The WebhookVerifier of the local forge's push hook."""

    forge = NAME

    def __init__(self, forge: LocalForge, secret: str) -> None:
        self._forge = forge
        self.secret = secret

    def recognises(self, headers: Mapping[str, str]) -> bool:
        return header(headers, SECRET_HEADER) is not None

    def verify(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        given = header(headers, SECRET_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return None
        delivery = header(headers, DELIVERY_HEADER) or ""
        if not delivery:
            return None
        return Delivery(forge=NAME, delivery_id=delivery, event_type="push", handled=True)

    def parse(self, event_type: str, payload: bytes) -> Event | None:
        try:
            data = json.loads(payload)
        except ValueError:
            raise MalformedWebhook("the push is not JSON") from None
        if isinstance(data, dict) and isinstance(data.get("merged"), int) and \
                isinstance(data.get("repo"), str):
            return self._merged(data["repo"], data["merged"])
        if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("repo", "ref", "after")):
            raise MalformedWebhook("the push needs repo, ref and after as strings")
        ref: str = data["ref"]
        if not ref.startswith("refs/heads/"):
            return None
        try:
            pulls = self._forge.open_pulls(data["repo"], ref.removeprefix("refs/heads/"))
        except ForgeError as err:
            raise MalformedWebhook(str(err)) from None
        if not pulls:
            return None
        pull = pulls[0]
        return PullRequestEvent(pull=pull, action=PullAction.UPDATED, sender=pull.author)

    def _merged(self, repo: str, number: int) -> Event:
        """We merged it (local_merge.py): the pull request is closed, as merged."""
        try:
            pull = self._forge.pull_request(repo, number)
        except ForgeError as err:
            raise MalformedWebhook(str(err)) from None
        return PullRequestEvent(pull=pull, action=PullAction.MERGED, sender="atlantis")
