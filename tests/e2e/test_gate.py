"""The gate holds: only those who may approve count, the rules come from a branch the
pull request cannot make, and apply_requirements (mergeable, undiverged) are enforced."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import World, running_world
from tests.e2e.test_flow import FORGES, base_files, tf_extra
from tests.fakeforge.neutral import NeutralPull, NeutralRepo

STRICT = ("version: 1\nprojects:\n  - dir: network\n    environment: production\n"
          "  - dir: dns\n    environment: production\n"
          "environments:\n  production:\n    required_approvals: 2\n")
LAX = STRICT.replace("required_approvals: 2", "required_approvals: 0")


def requiring(*requirements: str) -> str:
    return ("version: 1\nprojects:\n  - dir: network\n    environment: production\n"
            "environments:\n  production:\n    required_approvals: 1\n"
            f"    apply_requirements: [{', '.join(requirements)}]\n")


def open_into(world: World, repo: NeutralRepo, base: str, branch: str,
              changes: dict[str, str | None]) -> NeutralPull:
    pull = world.fake.open_pull(repo, branch=branch, changes=changes, base=base)
    assert world.fake.deliver("pull_request",
                              world.fake.pull_request_payload(pull, "opened"))[0] == 202
    world.settle()
    return pull


@FORGES
def test_approvals_without_write_access_do_not_count(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    world.fake.set_permission(repo, "mallory", "read")  # read-only
    world.fake.set_permission(repo, "trent", "none")  # no access: anyone may review in public
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("gate")})
    world.approve(pull, "mallory")
    world.approve(pull, "trent")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "needs 1 more approval from anyone but the author" in refused
    assert "mallory approved" in refused and "trent approved" in refused
    assert refused.count("has no write access to acme/infra") == 2
    assert world.state_resources("network") == []
    assert world.record(pull).state.value == "PENDING"

    # an approval through the API counts only with write access on the forge too
    ipr = world.record(pull).id
    status, view = world.api("POST", f"/ipr/{ipr}/review", world.token("mallory", "reviewer"),
                             {"decision": "approve", "comment": "lgtm"})
    assert status == 200, view
    mine = next(a for a in view["approvals"] if a["user"] == "mallory")
    assert (mine["counted"], mine["reason"]) == (False, "has no write access to acme/infra")
    assert view["state"] == "PENDING"

    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Apply refused" not in applied
    assert "gate" in world.state_resources("network")


@FORGES
def test_a_base_branch_the_pull_request_made_does_not_choose_its_rules(world: World) -> None:
    repo = world.repo(base_files(world, "network") | {"workflows.yaml": STRICT})
    # alice pushes a base branch of her own that lowers production to no approvals
    repo.git.commit("lax-base", {"workflows.yaml": LAX}, "Relax", start="refs/heads/main")
    pull = open_into(world, repo, "lax-base", "feature", {"network/extra.tf": tf_extra("lax")})
    assert "Plan: 2 to add" in world.bot_comments(pull)[0]
    world.approve(pull, "bob")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "Environment `production`" in refused
    assert "needs 1 more approval from anyone but the author" in refused
    assert world.state_resources("network") == []

    world.approve(pull, "carol")
    assert "Apply refused" not in world.comment(pull, "alice", "atlantis apply")
    assert "lax" in world.state_resources("network")


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_rules_branch_and_apply_base_branches(tmp_path: Path, forge: str) -> None:
    with running_world(tmp_path, forge, rules_branch="rules",
                       apply_base_branches=("main", "release/*")) as world:
        repo = world.repo(base_files(world, "network", "dns") | {"workflows.yaml": LAX})
        repo.git.commit("rules", {"workflows.yaml": STRICT}, "Rules", start="refs/heads/main")
        pull = world.open_pr(repo, {"network/extra.tf": tf_extra("main")})
        world.approve(pull, "bob")
        refused = world.comment(pull, "alice", "atlantis apply")
        assert "needs 1 more approval" in refused, "--rules-branch, not main, says 2"

        repo.git.commit("lax-base", {}, "Empty", start="refs/heads/main")
        elsewhere = open_into(world, repo, "lax-base", "into-lax", {"dns/extra.tf": tf_extra("x")})
        world.approve(elsewhere, "bob")
        world.approve(elsewhere, "carol")
        refused = world.comment(elsewhere, "alice", "atlantis apply")
        assert ("this pull request targets `lax-base`, and this server applies only pull "
                "requests into `main`, `release/*` (--apply-base-branches): retarget it at one "
                "of those branches") in refused
        assert world.state_resources("dns") == []
        record = world.record(elsewhere)
        assert record.state.value == "APPROVED"
        status, body = world.api("POST", f"/ipr/{record.id}/deploy",
                                 world.token("bob", "reviewer"))
        assert status == 409 and "(--apply-base-branches)" in body["error"]
        status, view = world.api("GET", f"/ipr/{record.id}", world.token("bob", "reviewer"))
        assert "targets `lax-base`" in view["blocking"][0]


@FORGES
def test_undiverged_refuses_a_branch_behind_its_base(world: World) -> None:
    repo = world.repo(base_files(world, "network", "dns")
                      | {"workflows.yaml": requiring("approved", "undiverged")})
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("behind")})
    world.approve(pull, "bob")
    # another pull request is merged meanwhile
    world.fake.commit_to_base(repo, {"dns/extra.tf": tf_extra("merged")})
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "this branch is 1 commit behind `main`" in refused
    assert "merge or rebase `main` into this branch" in refused
    assert world.state_resources("network") == []

    world.fake.update_from_base(pull)
    assert world.fake.deliver("pull_request",
                              world.fake.pull_request_payload(pull, "synchronize"))[0] == 202
    world.settle()
    world.approve(pull, "bob")
    assert "Apply refused" not in world.comment(pull, "alice", "atlantis apply")
    assert "behind" in world.state_resources("network")


@FORGES
def test_mergeable_refuses_what_the_forge_would_not_merge(world: World) -> None:
    repo = world.repo(base_files(world, "network")
                      | {"workflows.yaml": requiring("approved", "mergeable")})
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("merge")})
    world.approve(pull, "bob")
    world.fake.set_mergeable(pull, False)
    refused = world.comment(pull, "alice", "atlantis apply")
    word = "dirty" if world.forge == "github" else "conflict"
    assert f"this pull request cannot be merged as it stands (`{word}`)" in refused
    assert world.state_resources("network") == []

    world.fake.set_mergeable(pull, True)
    assert "Apply refused" not in world.comment(pull, "alice", "atlantis apply")
    assert "merge" in world.state_resources("network")
