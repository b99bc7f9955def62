"""Comments on pull requests whose forge the server keeps itself (--local-repos):
read by the API, the CLI and the console, and written by API users.

A comment written here takes the path a forge's comment webhook takes: the
same Router decides whether it asks for work (`atlantis plan -p dev`, an
unknown `atlantis …` that gets the help text), and the same event job runs it,
so permissions, refusals and the approval gate answer exactly as on GitHub.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from atlantis_py.core.dispatch import Action, Ignore
from atlantis_py.domain.events import CommentEvent, Event, PullRequest
from atlantis_py.domain.local import LocalComment
from atlantis_py.errors import Invalid
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import EventJob, pull_key

log = logging.getLogger(__name__)

MAX_COMMENT = 65536


class CommentKeeper(Protocol):
    """A forge that keeps its pull requests' comments with the server."""

    name: str

    def pull_request(self, repo: str, number: int) -> PullRequest: ...

    def comment_log(self, repo: str, number: int) -> list[LocalComment]: ...

    def add_user_comment(self, repo: str, number: int, author: str, body: str) -> int: ...


class KeptComments:
    def __init__(self, lifecycle: Lifecycle, forge: CommentKeeper, queue: JobQueue,
                 router: Callable[[Event], Action]) -> None:
        self.lifecycle = lifecycle
        self.forge = forge
        self.queue = queue
        self.router = router

    def read(self, ipr_id: int) -> list[LocalComment]:
        forge, repo, number = self._where(ipr_id)
        return forge.comment_log(repo, number)

    def post(self, ipr_id: int, actor: str, body: str) -> bool:
        """Add `actor`'s comment; True when it asks the server for work (queued
        behind the pull request's other jobs, answered on the IPR)."""
        if not body.strip():
            raise Invalid("body is required")
        if len(body) > MAX_COMMENT:
            raise Invalid(f"body is longer than {MAX_COMMENT} characters")
        forge, repo, number = self._where(ipr_id)
        pull = forge.pull_request(repo, number)
        comment_id = forge.add_user_comment(repo, number, actor, body)
        event = CommentEvent(repo=pull.repo, pull_number=number, comment_id=comment_id,
                             body=body, author=actor)
        if isinstance(self.router(event), Ignore):
            return False
        job_id = self.queue.enqueue(EventJob(event), pull_key(forge.name, repo, number))
        log.info("job %d queued: %s's comment %d on %s#%d", job_id, actor, comment_id, repo,
                 number)
        return True

    def _where(self, ipr_id: int) -> tuple[CommentKeeper, str, int]:
        record = self.lifecycle.record(ipr_id)
        if record.forge != self.forge.name:
            raise Invalid(f"the comments of IPR {ipr_id} are on {record.forge}, "
                          "not kept by this server")
        return self.forge, record.repo, record.number
