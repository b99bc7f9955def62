"""Forge writes made while a job runs go through its journal, so a retried job
neither loses nor repeats them.

Inside `Outbox.attempt(job)`, every comment and status a flow sends is checked
against what the job already sent (skipped if it arrived before) and recorded.
When one fails for now (the forge is down or rate limiting), it and every later
write of the attempt are kept, in order, instead of raised: the flow's work
(a plan, an apply) goes on and is done once; the attempt then ends in a
TransientError and the retry sends what was kept before anything else.

Every comment ends in a marker naming the job and the comment (an HTML
comment, invisible on the forge). A send that failed in a way that may have
landed it anyway (a 5xx, a timeout) is marked uncertain; before sending it
again the retry lists the pull request's comments and skips it when the bot's
comment with that marker is there. Outside a job writes go straight to the
forge (work outside jobs queues a "notify" job instead, flows/notices.py).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from atlantis_py.core.ports import Journal
from atlantis_py.domain.forge import (
    StatusState,
)
from atlantis_py.domain.records import Job
from atlantis_py.domain.writes import MARKER_ROOM, ForgeWrite, WriteKind, marker
from atlantis_py.errors import TransientError, TransientForgeError
from atlantis_py.forges.base import Forge
from atlantis_py.forges.wrapper import ForgeWrapper

log = logging.getLogger(__name__)


@dataclass
class Attempt:
    """One run of one job; shared by the threads the flow fans out to."""

    job: Job
    journal: Journal
    forges: Mapping[str, Forge]
    posted: set[str]
    bot_users: Mapping[str, str] = field(default_factory=dict)
    final: bool = False  # no retry follows (the failure report): raise, keep nothing
    held: TransientError | None = None  # why writes are being kept back
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def work_done(self) -> bool:
        """Whether an earlier attempt finished the job's work (only writes were left)."""
        return self.journal.work_done(self.job.id)

    def flush(self) -> None:
        """Send what earlier attempts kept back, oldest first; a write that fails
        for now raises, and the job retries later from there."""
        for entry_id, write in self.journal.pending(self.job.id):
            if write.digest in self.posted:
                pass
            elif write.uncertain and self._landed(write):
                log.info("job %d: the %s kept back earlier had landed; not sent again",
                         self.job.id, write)
            else:
                self._deliver(write)
                log.info("job %d: sent the %s kept back earlier", self.job.id, write)
            self.journal.mark_posted(entry_id)
            self.posted.add(write.digest)

    def _landed(self, write: ForgeWrite) -> bool:
        """Whether the bot's comment carrying this write's marker is on the pull
        request (a status is set again: the newest one counts, as the same one)."""
        if write.kind is not WriteKind.COMMENT:
            return False
        found = marker(self.job.id, write)
        bot = self.bot_users.get(write.forge, "").lower()
        return any(found in c.body and (not bot or c.author.lower() == bot)
                   for c in self.forges[write.forge].comments(write.repo, write.number))

    def _deliver(self, write: ForgeWrite) -> None:
        if write.kind is WriteKind.COMMENT:
            write = replace(write, body=f"{write.body.rstrip()}\n\n{marker(self.job.id, write)}\n")
        _send(self.forges[write.forge], write)

    def finish(self) -> None:
        """The flow ran to its end: if writes were kept back, remember the work is
        done (a retry only sends them) and end the attempt in the forge's error."""
        if self.held is None:
            return
        self.journal.set_work_done(self.job.id)
        raise TransientError(f"the work is done but the forge took no report yet: {self.held}",
                             retry_after=self.held.retry_after) from self.held

    def send(self, write: ForgeWrite) -> None:
        digest = write.digest
        with self.lock:
            if digest in self.posted:
                log.info("job %d: skipping the %s, sent before", self.job.id, write)
                return
            if self.held is not None:
                self.journal.record(self.job.id, write, posted=False)
                return
            try:
                self._deliver(write)
            except TransientError as err:
                if self.final:
                    raise
                log.warning("job %d: keeping the %s for a retry: %s", self.job.id, write, err)
                self.held = err
                uncertain = isinstance(err, TransientForgeError) and err.uncertain
                self.journal.record(self.job.id, replace(write, uncertain=uncertain),
                                    posted=False)
                return
            self.journal.record(self.job.id, write, posted=True)
            self.posted.add(digest)


_attempt: contextvars.ContextVar[Attempt | None] = contextvars.ContextVar(
    "atlantis_job_attempt", default=None)


def _send(forge: Forge, write: ForgeWrite) -> None:
    if write.kind is WriteKind.COMMENT:
        forge.post_comment(write.repo, write.number, write.body)
    else:
        assert write.state is not None
        forge.set_status(write.repo, write.sha, write.context, write.state, write.body)


class Outbox:
    """Wraps the forges so their writes go through the running job's journal."""

    def __init__(self, journal: Journal, forges: Mapping[str, Forge],
                 bot_users: Mapping[str, str] | None = None) -> None:
        """`bot_users`: forge → the bot's user name; only its comments count as
        ours when a marker is looked for."""
        self.journal = journal
        self.direct = dict(forges)
        self.bot_users = dict(bot_users or {})
        self.forges: dict[str, Forge] = {name: JournaledForge(forge)
                                         for name, forge in forges.items()}

    @contextmanager
    def attempt(self, job: Job, *, final: bool = False) -> Iterator[Attempt]:
        """`final`: the job's last word (its failure report): a write the forge
        refuses for now raises instead of waiting for a retry that never comes."""
        current = Attempt(job, self.journal, self.direct, self.journal.posted(job.id),
                          self.bot_users, final)
        token = _attempt.set(current)
        try:
            yield current
        finally:
            _attempt.reset(token)


class JournaledForge(ForgeWrapper):
    """A Forge whose writes, inside a job, go through its Attempt."""

    def __init__(self, inner: Forge) -> None:
        self._inner = inner
        self.name = inner.name
        self.comment_limit = inner.comment_limit - MARKER_ROOM

    @property
    def inner(self) -> Forge:
        return self._inner

    def post_comment(self, repo: str, number: int, body: str) -> None:
        self._write(ForgeWrite(WriteKind.COMMENT, self.name, repo, number=number, body=body))

    def set_status(self, repo: str, sha: str, context: str, state: StatusState,
                   description: str) -> None:
        self._write(ForgeWrite(WriteKind.STATUS, self.name, repo, sha=sha, context=context,
                               state=state, body=description))

    def _write(self, write: ForgeWrite) -> None:
        current = _attempt.get()
        if current is None:
            _send(self.inner, write)
        else:
            current.send(write)
