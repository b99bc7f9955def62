"""What results and verdicts add up to: commit statuses and IPR states."""

from __future__ import annotations

import pytest

from atlantis_py.core.approvals import ApprovalDecision
from atlantis_py.core.outcomes import after_apply, apply_status, plan_status, review_state
from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.records import IPRState
from atlantis_py.domain.results import ProjectResult, RunStatus


def result(status: RunStatus) -> ProjectResult:
    return ProjectResult(project="p", dir=".", workspace="default", command="plan",
                         status=status)


OK, BAD, ERR = result(RunStatus.SUCCESS), result(RunStatus.FAILURE), result(RunStatus.ERROR)


@pytest.mark.parametrize(("results", "plan", "apply", "ipr"), [
    ([OK], (StatusState.SUCCESS, "1/1 projects planned"),
     (StatusState.SUCCESS, "1/1 projects applied"), IPRState.DEPLOYED),
    ([OK, BAD], (StatusState.FAILURE, "1/2 projects planned, 1 failed"),
     (StatusState.FAILURE, "1/2 projects applied"), IPRState.FAILED),
    ([ERR, BAD], (StatusState.FAILURE, "0/2 projects planned, 2 failed"),
     (StatusState.FAILURE, "0/2 projects applied"), IPRState.FAILED),
])
def test_statuses(results: list[ProjectResult], plan: tuple[StatusState, str],
                  apply: tuple[StatusState, str], ipr: IPRState) -> None:
    assert plan_status(results) == plan
    assert apply_status(results) == apply
    assert after_apply(results) is ipr


def decision(counted: int = 0, required: int = 1, rejected: tuple[str, ...] = ()
             ) -> ApprovalDecision:
    return ApprovalDecision(environment="prod", required=required,
                            counted=tuple((f"u{i}", "a" * 40) for i in range(counted)),
                            not_counted=(), rejected_by=rejected)


@pytest.mark.parametrize(("decisions", "state"), [
    ([], None),
    ([decision(counted=1)], IPRState.APPROVED),
    ([decision(counted=0)], IPRState.PENDING),
    ([decision(counted=1), decision(counted=0)], IPRState.PENDING),
    ([decision(counted=2), decision(counted=1, rejected=("carol",))], IPRState.REJECTED),
    ([decision(counted=0, required=0)], IPRState.APPROVED),
])
def test_review_state(decisions: list[ApprovalDecision], state: IPRState | None) -> None:
    assert review_state(decisions) is state
