"""Which failing policy sets block an apply, and who may approve them."""

from __future__ import annotations

from atlantis_py.core.policy_gate import (
    approval_refusal,
    blocking,
    failing_sets,
    owner_teams,
    who_may,
)
from atlantis_py.domain.policies import (
    PolicyApproval,
    PolicyOwners,
    PolicySet,
    PolicySetResult,
    PolicySets,
)

SETS = PolicySets(
    file="policies.yaml",
    owners=PolicyOwners(users=("root",)),
    sets=(
        PolicySet("cost", "/p/cost", PolicyOwners(users=("bob",), teams=("acme/finops",))),
        PolicySet("tags", "/p/tags", PolicyOwners(users=("alice",)), prevent_self_approve=True),
    ),
)
DENY = PolicySetResult("cost", False, denies=("too big",))
PASS = PolicySetResult("tags", True, warnings=("hmm",))
BROKEN = PolicySetResult("tags", False, error="tags.rego:3:1: unclosed")


def test_failing_sets_and_the_approvals_that_lift_them() -> None:
    results = {"net": (DENY, PASS), "app": (DENY, BROKEN)}
    approvals = [PolicyApproval("net", "cost", "bob", "sha1", 1),
                 PolicyApproval("app", "tags", "root", "sha1", 2)]
    found = failing_sets(results, approvals)
    assert [(f.project, f.result.name, f.approved_by) for f in found] == [
        ("app", "cost", ()), ("app", "tags", ("root",)), ("net", "cost", ("bob",))]
    assert [(f.project, f.result.name) for f in blocking(found)] == [("app", "cost")]


def test_owners_top_level_users_and_teams_may_approve() -> None:
    members = {"acme/finops": frozenset({"Carol"})}
    assert approval_refusal(SETS, "cost", "bob", "alice", members) is None
    assert approval_refusal(SETS, "cost", "ROOT", "alice", members) is None
    assert approval_refusal(SETS, "cost", "carol", "alice", members) is None
    refused = approval_refusal(SETS, "cost", "mallory", "alice", members)
    assert refused == ("mallory is not an owner of policy set `cost`; it may be approved by "
                       "root, bob or a member of acme/finops")


def test_prevent_self_approve_refuses_the_author_even_as_owner() -> None:
    refused = approval_refusal(SETS, "tags", "alice", "alice", {})
    assert refused is not None and "prevent_self_approve" in refused
    assert "(not the pull request's author)" in refused
    assert approval_refusal(SETS, "tags", "alice", "erin", {}) is None


def test_a_set_without_owners_says_nobody_may() -> None:
    bare = PolicySets(file="f", sets=(PolicySet("x", "/x"),))
    assert "nobody may approve it" in who_may(bare, "x")
    assert approval_refusal(bare, "x", "bob", "alice", {}) is not None


def test_owner_teams_are_those_of_the_named_sets_and_the_top_level() -> None:
    sets = PolicySets(file="f", owners=PolicyOwners(teams=("acme/sec",)), sets=SETS.sets)
    assert owner_teams(sets, ["cost"]) == ("acme/sec", "acme/finops")
    assert owner_teams(sets, ["tags"]) == ("acme/sec",)


def test_an_owner_named_twice_is_listed_once() -> None:
    sets = PolicySets(file="f", owners=PolicyOwners(users=("bob",)), sets=SETS.sets)
    assert who_may(sets, "cost") == "it may be approved by bob or a member of acme/finops"
