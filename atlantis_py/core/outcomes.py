"""What a set of results or verdicts adds up to: a commit status, an IPR state.
Pure; table-tested in tests/unit/core/test_outcomes.py."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from atlantis_py.core.approvals import ApprovalDecision
from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.records import IPRState
from atlantis_py.domain.results import ProjectResult, RunStatus


def _tally(results: Sequence[ProjectResult]) -> tuple[int, int]:
    return sum(1 for r in results if r.status is RunStatus.SUCCESS), len(results)


def plan_status(results: Sequence[ProjectResult]) -> tuple[StatusState, str]:
    ok, total = _tally(results)
    if ok == total:
        return StatusState.SUCCESS, f"{ok}/{total} projects planned"
    return StatusState.FAILURE, f"{ok}/{total} projects planned, {total - ok} failed"


def apply_status(results: Sequence[ProjectResult]) -> tuple[StatusState, str]:
    ok, total = _tally(results)
    state = StatusState.SUCCESS if ok == total else StatusState.FAILURE
    return state, f"{ok}/{total} projects applied"


def after_apply(results: Sequence[ProjectResult]) -> IPRState:
    """What APPLYING ends in: DEPLOYED only when every project applied; any
    failure makes it FAILED."""
    ok, total = _tally(results)
    return IPRState.DEPLOYED if ok == total else IPRState.FAILED


def review_state(decisions: Sequence[ApprovalDecision]) -> IPRState | None:
    """The state the reviews put an open IPR in, one decision per environment it
    touches: any rejection rejects, all satisfied approves, else pending. None
    when nothing is planned yet (no environment to judge)."""
    if not decisions:
        return None
    if any(d.rejected_by for d in decisions):
        return IPRState.REJECTED
    if all(d.ok for d in decisions):
        return IPRState.APPROVED
    return IPRState.PENDING


def unsilenced(results: Sequence[ProjectResult], silenced: Collection[str]
               ) -> list[ProjectResult]:
    """The results a comment shows when atlantis.yaml's `silence_pr_comments`
    silences the projects named in `silenced`: theirs go only when they
    succeeded, since a failure still needs an answer on the pull request."""
    return [r for r in results
            if r.project not in silenced or r.status is not RunStatus.SUCCESS]
