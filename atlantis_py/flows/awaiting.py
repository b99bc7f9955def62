"""The console's "awaiting my review" tab, decided from the reviews the gate
counts (flows/gate.py's all_reviews: the forge's own reviews, approvals and
approve comments, and those given through the API or console), so a reviewer
who approved or requested changes on the forge no longer sees the IPR as
waiting for them.

The database narrows the list first (open, PENDING, not the viewer's own, not
reviewed by them through the API at its head); the forge is then asked for
the rest, at most CANDIDATES of them, each answer remembered while the IPR is
unchanged (a review webhook changes it) and for at most `ttl` seconds. One
page view asks the forge at most LOOKUPS times and for at most BUDGET seconds,
newest first, so a page never waits on hundreds of forge calls: an IPR not
asked about yet is listed, as the database says, until a later view asks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from atlantis_py.core.approvals import latest_reviews
from atlantis_py.domain.console import IPRPage, IPRQuery, Tab
from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.errors import ForgeError
from atlantis_py.flows.gate import all_reviews
from atlantis_py.flows.services import Services

log = logging.getLogger(__name__)

CANDIDATES = 500  # newest first; older ones wait until these are reviewed
REMEMBERED = 2048
LOOKUPS = 10  # forge reads one page view may make
BUDGET = 0.5  # seconds of forge reads one page view may spend


class _Allowance:
    """How many forge reads, and how much time for them, one page view has left."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.left = LOOKUPS
        self.until = clock() + BUDGET

    def take(self) -> bool:
        if self.left <= 0 or self.clock() >= self.until:
            return False
        self.left -= 1
        return True


class IPRLister(Protocol):
    def iprs(self, query: IPRQuery) -> IPRPage: ...


def reviewed_at_head(record: PullRecord, reviews: list[Review], user: str) -> bool:
    """Whether `user`'s newest verdict is on the IPR's head commit. GitLab's
    "requested changes" name no commit: they stand until withdrawn, whatever
    the head, so they count as reviewed too."""
    latest = latest_reviews(reviews).get(user.lower())
    if latest is None or latest.state not in (ReviewState.APPROVED,
                                              ReviewState.CHANGES_REQUESTED):
        return False
    return latest.commit_sha == record.head_sha or (
        latest.state is ReviewState.CHANGES_REQUESTED and not latest.commit_sha)


class AwaitingReview:
    """An IPRLister: the other tabs as the database answers them."""

    def __init__(self, svc: Services, lister: IPRLister, *, ttl: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.svc = svc
        self.lister = lister
        self.ttl = ttl
        self.clock = clock
        self._known: dict[tuple[int, str, str], tuple[float, list[Review]]] = {}
        self._lock = threading.Lock()

    def iprs(self, query: IPRQuery) -> IPRPage:
        if query.tab is not Tab.AWAITING:
            return self.lister.iprs(query)
        found = self.lister.iprs(replace(query, offset=0, limit=CANDIDATES))
        allowance = _Allowance(self.clock)
        left = [r for r in found.records if not self._reviewed(r, query.user, allowance)]
        total = len(left) if query.state in (None, IPRState.PENDING) else 0
        return IPRPage(records=tuple(left[query.offset:query.offset + query.limit])
                       if total else (),
                       total=total, counts={IPRState.PENDING.value: len(left)} if left else {},
                       environments=found.environments)

    def _reviewed(self, record: PullRecord, user: str, allowance: _Allowance) -> bool:
        reviews = self._reviews(record, allowance)
        return reviews is not None and reviewed_at_head(record, reviews, user)

    def _reviews(self, record: PullRecord, allowance: _Allowance) -> list[Review] | None:
        """None: not known, and this view may not ask the forge any more."""
        key = (record.id, record.head_sha,
               record.updated_at.isoformat() if record.updated_at else "")
        now = self.clock()
        with self._lock:
            known = self._known.get(key)
        if known is not None and now - known[0] < self.ttl:
            return known[1]
        if not allowance.take():
            return None
        try:
            reviews = all_reviews(self.svc, record)
        except ForgeError as err:  # listed, and not asked again until the ttl passes
            log.warning("cannot read the reviews of %s#%d: %s", record.repo, record.number, err)
            reviews = []
        with self._lock:
            if len(self._known) >= REMEMBERED:
                self._known.clear()
            self._known[key] = (now, reviews)
        return reviews
