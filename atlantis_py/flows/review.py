"""A review on the forge: audit it and recompute the IPR's state. While the IPR
is APPLYING the review is only audited: the apply's outcome decides the state."""

from __future__ import annotations

from atlantis_py.core.dispatch import RecordReview
from atlantis_py.domain.records import IPRState
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.services import Services


def record_review(svc: Services, lifecycle: Lifecycle, action: RecordReview) -> None:
    ev = action.event
    record = svc.pulls.upsert(ev.pull)
    during = "received while APPLYING: the apply's outcome decides the state" \
        if record.state is IPRState.APPLYING else ""
    svc.ipr.note(record, ev.reviewer, f"review:{ev.state}", detail=during)
    lifecycle.refresh(record.id, ev.reviewer, f"review {ev.state} by {ev.reviewer}")
