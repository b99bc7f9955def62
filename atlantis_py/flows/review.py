"""A review on the forge: audit it and recompute the IPR's state."""

from __future__ import annotations

from atlantis_py.core.dispatch import RecordReview
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.services import Services


def record_review(svc: Services, lifecycle: Lifecycle, action: RecordReview) -> None:
    ev = action.event
    record = svc.pulls.upsert(ev.pull)
    svc.ipr.note(record, ev.reviewer, f"review:{ev.state}")
    lifecycle.refresh(record.id, ev.reviewer, f"review {ev.state} by {ev.reviewer}")
