"""The IPR state machine: the only place a pull request's state changes.

Every transition is checked against the table below and written to the audit
log with actor, head SHA and reason, so the trail answers who did what, when.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from atlantis_py.core.ports import Audit, Pulls
from atlantis_py.domain.records import IPRState, PullRecord

log = logging.getLogger(__name__)

S = IPRState
ALLOWED: dict[IPRState, frozenset[IPRState]] = {
    S.PENDING: frozenset({S.PENDING, S.APPROVED, S.REJECTED, S.CANCELLED, S.FAILED, S.DEPLOYED}),
    S.APPROVED: frozenset({S.PENDING, S.APPROVED, S.REJECTED, S.DEPLOYED, S.FAILED,
                           S.CANCELLED}),
    S.REJECTED: frozenset({S.PENDING, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.FAILED: frozenset({S.PENDING, S.FAILED, S.CANCELLED, S.DEPLOYED}),
    S.DEPLOYED: frozenset({S.PENDING, S.DEPLOYED, S.CANCELLED}),
    S.CANCELLED: frozenset({S.PENDING, S.CANCELLED}),
}


class IllegalTransition(Exception):
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
    def __init__(self, pulls: Pulls, audit: Audit) -> None:
        self.pulls = pulls
        self.audit = audit

    def move(self, t: Transition, *, open: bool | None = None) -> None:
        current = t.pull.state
        if t.target not in ALLOWED[current]:
            raise IllegalTransition(current, t.target, t.reason)
        self.pulls.set_state(t.pull.id, t.target, open=open)
        self.audit.record(pull_id=t.pull.id, forge=t.pull.forge, repo=t.pull.repo,
                          pull_number=t.pull.number, actor=t.actor,
                          action=f"state:{t.target.value}", head_sha=t.pull.head_sha,
                          project=t.project,
                          detail=f"{current.value} -> {t.target.value}: {t.reason}")
        log.info("%s#%d %s -> %s (%s)", t.pull.repo, t.pull.number, current.value,
                 t.target.value, t.reason)

    def note(self, pull: PullRecord, actor: str, action: str, *, project: str = "",
             detail: str = "") -> None:
        """An audit event that does not change the state (plan ran, review seen)."""
        self.audit.record(pull_id=pull.id, forge=pull.forge, repo=pull.repo,
                          pull_number=pull.number, actor=actor, action=action,
                          head_sha=pull.head_sha, project=project, detail=detail)
