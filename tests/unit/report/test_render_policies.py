"""Policy check comments compared with tests/golden/*.md (UPDATE_GOLDEN=1 rewrites)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from atlantis_py.domain.policies import FailingSet, PolicySetResult
from atlantis_py.domain.results import PlanCounts
from atlantis_py.report import Renderer
from tests.unit.report.test_render import PLAN_OUTPUT, assert_golden, result

HEAD = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"
COST = PolicySetResult("cost", False, denies=("terraform_data.db: input `forbidden`",),
                       warnings=("terraform_data.web is big",))
TAGS = PolicySetResult("tags", True, warnings=("no owner tag",))
BROKEN = PolicySetResult("naming", False, error="naming.rego:3:22: this is unclosed")
OWNERS = {"cost": "it may be approved by root, bob or a member of acme/finops",
          "naming": "it may be approved by root"}


@pytest.fixture
def renderer() -> Renderer:
    return Renderer()


def test_plan_shows_each_sets_verdict_denies_and_warnings(renderer: Renderer) -> None:
    plan = replace(result("app", "app", output=PLAN_OUTPUT, counts=PlanCounts(add=1)),
                   policies=(COST, TAGS, BROKEN))
    body = renderer.plan([plan])
    assert "**Policy checks:** :x: 2 of 3 policy sets failed" in body
    assert "  * deny: `` terraform_data.db: input `forbidden` ``" in body
    assert "  * :warning: warn: `no owner tag`" in body
    assert "`naming.rego:3:22: this is unclosed`" in body
    assert "`atlantis approve_policies -p app`" in body
    assert_golden("plan_policies", body)


def test_plan_whose_sets_all_pass_blocks_nothing(renderer: Renderer) -> None:
    plan = replace(result("app", "app", counts=PlanCounts(add=1)), policies=(TAGS,))
    body = renderer.plan([plan])
    assert "**Policy checks:** :white_check_mark: 1 policy set passed" in body
    assert "approve_policies" not in body


def test_plan_without_policies_says_nothing_of_them(renderer: Renderer) -> None:
    assert "Policy" not in renderer.plan([result("app", "app", counts=PlanCounts(add=1))])


def test_policy_refused_names_sets_messages_and_owners(renderer: Renderer) -> None:
    body = renderer.policy_refused(head_sha=HEAD, blocked=[
        FailingSet("app", COST), FailingSet("app", BROKEN)], owners=OWNERS)
    assert "It may be approved by root, bob or a member of acme/finops." in body
    assert_golden("policy_refused", body)


def test_policy_approval_with_approved_refused_and_remaining(renderer: Renderer) -> None:
    body = renderer.policy_approval(
        actor="bob", head_sha=HEAD, configured=True,
        approved=[FailingSet("app", COST)],
        refused=["bob is not an owner of policy set `naming`; it may be approved by root"],
        remaining=[FailingSet("app", BROKEN)], owners=OWNERS)
    assert "* policy set `cost` for project `app`" in body
    assert "* bob is not an owner of policy set `naming`; it may be approved by root." in body
    assert_golden("policy_approval", body)


def test_policy_approval_that_lifts_every_block(renderer: Renderer) -> None:
    body = renderer.policy_approval(actor="bob", head_sha=HEAD, configured=True,
                                    approved=[FailingSet("app", COST)])
    assert "Every failing policy set of this commit is approved" in body


def test_nothing_to_approve(renderer: Renderer) -> None:
    body = renderer.policy_approval(actor="bob", head_sha=HEAD, configured=True,
                                    already=[FailingSet("app", COST, ("root",))])
    assert body == ("**Nothing to approve**: no policy set fails on head commit `9f8e7d6` "
                    "without an owner's approval (`cost` for `app` approved by root).\n")
    body = renderer.policy_approval(actor="bob", head_sha=HEAD, configured=False)
    assert "this server checks no policies" in body
    body = renderer.policy_approval(actor="bob", head_sha=HEAD, configured=False,
                                    skipped=True)
    assert "checks no policies for this repository (`policy_check: false`" in body
