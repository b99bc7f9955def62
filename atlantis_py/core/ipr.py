"""The IPR state machine: the only place a pull request's state changes.

Every transition is checked against the table below and written to the audit
log with actor, head SHA and reason, so the trail answers who did what, when.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from atlantis_py.core.ports import Audit, Pulls
from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.errors import Conflict

log = logging.getLogger(__name__)

S = IPRState
# An apply starts from PENDING (approvals satisfied when it is asked for), APPROVED,
# FAILED (plans made again after a failed apply) or DEPLOYED (projects a partial
# apply left); only APPLYING ends in DEPLOYED or FAILED, and nothing but the
# apply's outcome (or recovery of an interrupted one) moves it.
ALLOWED: dict[IPRState, frozenset[IPRState]] = {
    S.PENDING: frozenset({S.PENDING, S.APPROVED, S.REJECTED, S.APPLYING, S.CANCELLED}),
    S.APPROVED: frozenset({S.PENDING, S.APPROVED, S.REJECTED, S.APPLYING, S.CANCELLED}),
    S.REJECTED: frozenset({S.PENDING, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPLYING: frozenset({S.DEPLOYED, S.FAILED}),
    S.FAILED: frozenset({S.PENDING, S.APPLYING, S.CANCELLED}),
    S.DEPLOYED: frozenset({S.PENDING, S.APPLYING, S.CANCELLED}),
    S.CANCELLED: frozenset({S.PENDING, S.CANCELLED}),
}


class IllegalTransition(Conflict):
    """Refused with a reason; the API answers it with 409."""

    def __init__(self, current: IPRState, target: IPRState, reason: str) -> None:
        super().__init__(f"cannot move from {current.value} to {target.value}: {reason}")


@dataclass(frozen=True)
class Transition:
    pull: PullRecord
    target: IPRState
    actor: str
    reason: str
    project: str = ""


class IPRMachine:
    def __init__(self, pulls: Pulls, audit: Audit,
                 listeners: Sequence[Callable[[Transition, IPRState], None]] = ()) -> None:
        """`listeners` hear of each transition made (with the state before), e.g.
        to send notifications; their failures are logged, never raised."""
        self.pulls = pulls
        self.audit = audit
        self.listeners = list(listeners)

    def move(self, t: Transition, *, open: bool | None = None) -> None:
        """Change the state, judged against the stored state (not the caller's copy),
        with its audit event in the same transaction."""
        allowed_from = frozenset(s for s, targets in ALLOWED.items() if t.target in targets)
        before, done = self.pulls.transition(t.pull.id, t.target, allowed_from, actor=t.actor,
                                             reason=t.reason, project=t.project, open=open)
        if not done:
            raise IllegalTransition(before, t.target, t.reason)
        log.info("%s#%d %s -> %s (%s)", t.pull.repo, t.pull.number, before.value,
                 t.target.value, t.reason)
        for listener in self.listeners:
            try:
                listener(t, before)
            except Exception:
                log.exception("a transition listener failed")

    def try_move(self, t: Transition, *, open: bool | None = None) -> bool:
        """move(), but a refused transition is logged instead of raised: for
        reactions to forge events, where the IPR may already have moved on."""
        try:
            self.move(t, open=open)
        except IllegalTransition as err:
            log.info("%s#%d: %s", t.pull.repo, t.pull.number, err)
            return False
        return True

    def note(self, pull: PullRecord, actor: str, action: str, *, project: str = "",
             detail: str = "") -> None:
        """An audit event that does not change the state (plan ran, review seen)."""
        self.audit.record(pull_id=pull.id, forge=pull.forge, repo=pull.repo,
                          pull_number=pull.number, actor=actor, action=action,
                          head_sha=pull.head_sha, project=project, detail=detail)
