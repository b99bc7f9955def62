"""Pushes no hook reported: the branch-head check.

A forge that keeps its repositories on the server's disk (--local-repos) says
"pushed" through a post-receive hook, and a hook can be missing: removed, or
a repository's own hook kept in its place. So the open IPRs of such a forge
are checked cheaply (one `git rev-parse` each) when one is read or acted on,
before any deploy, and by housekeeping: a head that is not the one stored is
handled exactly as the hook's push would have been (an "updated" event: the
IPR back to PENDING, its approvals void, a new plan), and said on the IPR.
The delivery id names the stored and the found head, so however often it is
found, it is queued and said once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from atlantis_py.domain.events import PullAction, PullRequestEvent
from atlantis_py.domain.records import PullRecord
from atlantis_py.errors import Conflict, ForgeError
from atlantis_py.flows.notices import queue_notice
from atlantis_py.flows.services import Services
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import EventJob, pull_key

log = logging.getLogger(__name__)


def moved_on(ipr_id: int, record: PullRecord, head: str, what: str) -> Conflict:
    """The refusal of a review or deploy that found the branch moved."""
    return Conflict(f"IPR {ipr_id} cannot be {what} now: its branch {record.head_ref} moved "
                    f"to {head[:7]} since {record.head_sha[:7]} was planned, and no push hook "
                    "said so; it is being planned again and its approvals no longer count")


class BranchHeads:
    """`forges`: those whose heads are read cheaply (from disk); `open_on(forge)`
    lists their open IPRs for the sweep."""

    def __init__(self, svc: Services, queue: JobQueue, forges: Collection[str] = (),
                 open_on: Callable[[str], list[PullRecord]] | None = None) -> None:
        self.svc = svc
        self.queue = queue
        self.forges = frozenset(forges)
        self.open_on = open_on

    def moved(self, record: PullRecord) -> str | None:
        """The branch's head when it is not the one stored for the open IPR
        (its re-plan queued and said); None when it is, or cannot be told cheaply."""
        if record.forge not in self.forges or not record.open:
            return None
        try:
            pull = self.svc.forges[record.forge].pull_request(record.repo, record.number)
        except ForgeError as err:
            # a deleted branch, say: the IPR's own operations say so where it matters
            log.debug("cannot read the head of %s#%d: %s", record.repo, record.number, err)
            return None
        if pull.head_sha == record.head_sha:
            return None
        event = PullRequestEvent(pull=pull, action=PullAction.UPDATED, sender="atlantis")
        key = pull_key(record.forge, record.repo, record.number)
        # once per stored state of the IPR: a branch moved back and forth is seen again
        seen = f"head:{record.id}:{record.head_sha[:12]}>{pull.head_sha[:12]}:" \
               f"{record.updated_at.isoformat() if record.updated_at else ''}"
        if self.queue.accept_delivery(record.forge, seen, "push", EventJob(event), key):
            log.info("%s#%d: %s moved to %s without a push hook delivery; planning again",
                     record.repo, record.number, pull.head_ref, pull.head_sha[:12])
            queue_notice(self.svc, self.queue, record.forge, record.repo, record.number,
                         self.svc.renderer.head_moved(branch=pull.head_ref,
                                                      old_sha=record.head_sha,
                                                      head_sha=pull.head_sha))
        return pull.head_sha

    def sweep(self) -> list[int]:
        """Housekeeping: the ids of open IPRs whose branch moved unreported."""
        if self.open_on is None:
            return []
        return [record.id for forge in sorted(self.forges) for record in self.open_on(forge)
                if self.moved(record) is not None]
