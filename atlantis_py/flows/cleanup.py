"""A pull request merged or closed: its locks, worktrees and saved plans go,
and its IPR is closed (CANCELLED when closed unmerged, unless it was applied).

One pull request's jobs run one at a time, so a close that arrives while its
apply runs is handled here only after the apply's outcome is recorded."""

from __future__ import annotations

from atlantis_py.core.ipr import Transition
from atlantis_py.domain.events import PullAction, PullRequestEvent
from atlantis_py.domain.records import IPRState
from atlantis_py.flows.services import Services

# Closing does not undo an apply: these states stay as the record of what it did.
APPLIED = frozenset({IPRState.APPLYING, IPRState.DEPLOYED, IPRState.FAILED})


def clean_up(svc: Services, event: PullRequestEvent) -> None:
    pull = event.pull
    record = svc.pulls.upsert(pull)
    locks = svc.locks.held_by(record.id)
    svc.locks.release_all(record.id)
    svc.workspaces.remove(pull.repo, pull.number)
    svc.plans.discard_pull(pull.repo, pull.number)
    closed = event.action is PullAction.CLOSED
    if closed and record.state not in APPLIED | {IPRState.CANCELLED}:
        svc.ipr.move(Transition(record, IPRState.CANCELLED, event.sender,
                                "closed without merging"), open=False)
    else:
        svc.pulls.set_state(record.id, record.state, open=False)
        kept = f"; it stays {record.state.value}, as its apply is not undone" \
            if closed and record.state in APPLIED else ""
        svc.ipr.note(record, event.sender, "closed" if closed else "merged",
                     detail=f"closed without merging{kept}" if closed else "")
    if locks:
        svc.say(pull.repo.forge, pull.repo.full_name, pull.number,
                svc.renderer.unlocked(len(locks)))


def forget_closed_plans(svc: Services) -> int:
    """Housekeeping: plans of pull requests closed while no worker listened,
    or no longer known, go too."""
    def is_open(forge: str, repo: str, number: int) -> bool:
        record = svc.pulls.get(forge, repo, number)
        return record is not None and record.open

    return svc.plans.prune(is_open)
