"""Who opened an IPR through the API counts as its author on GitHub and GitLab,
which name the bot's account as the pull request's author: the person who
asked for it cannot approve it, through the API or on the forge."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World
from tests.e2e.test_flow import FORGES, base_files, tf_extra
from tests.fakeforge.github import FakeRepo
from tests.fakeforge.gitlab import FakeProject
from tests.fakeforge.neutral import NeutralPull

SELF = "the author cannot approve their own pull request"


def api_ipr(world: World, user: str, rules: str = "") -> tuple[str, dict[str, Any], NeutralPull]:
    """`user` opens an IPR through the API for a branch pushed beforehand; it is planned."""
    repo = world.repo(base_files(world, "network") | ({"workflows.yaml": rules} if rules else {}))
    world.fake.set_permission(repo, user, "write")
    assert isinstance(repo, FakeRepo | FakeProject)
    repo.git.commit("feature/api", {"network/extra.tf": tf_extra("api")}, "Work on feature/api",
               start=f"refs/heads/{repo.default_branch}")
    token = world.token(user, "reviewer")
    status, ipr = world.api("POST", "/ipr", token, {
        "forge": world.forge, "repo": repo.full_name, "head": "feature/api",
        "base": repo.default_branch, "title": "Add api resource"})
    assert status == 201, ipr
    world.settle()
    return token, ipr, repo.pulls[ipr["pull_number"]]


@FORGES
def test_who_opened_it_through_the_api_cannot_approve_it(world: World) -> None:
    alice, ipr, pull = api_ipr(world, "alice")
    ipr_id = ipr["id"]
    record = world.service.services.pulls.by_id(ipr_id)
    assert record is not None
    assert record.author == world.fake.bot_login and record.opened_by == "alice"

    status, body = world.api("POST", f"/ipr/{ipr_id}/review", alice, {"decision": "approve"})
    assert status == 403, body
    assert "alice opened this IPR" in body["error"] and "self-approval" in body["error"]

    world.approve(pull, "alice")  # her review on the forge
    status, ipr = world.api("GET", f"/ipr/{ipr_id}", alice)
    assert ipr["state"] == "PENDING"
    assert [(a["user"], a["counted"], a["reason"]) for a in ipr["approvals"]] == [
        ("alice", False, SELF)]
    status, body = world.api("POST", f"/ipr/{ipr_id}/deploy", alice)
    assert status == 409 and "1 more approval" in body["error"]

    bob = world.token("bob", "reviewer")
    status, ipr = world.api("POST", f"/ipr/{ipr_id}/review", bob, {"decision": "approve"})
    assert status == 200 and ipr["state"] == "APPROVED"
    assert {a["user"]: a["counted"] for a in ipr["approvals"]} == {"alice": False, "bob": True}



@FORGES
def test_who_opened_it_is_not_asked_to_review_it(world: World) -> None:
    rules = ("version: 1\nprojects:\n  - dir: network\n    environment: prod\n"
             "environments:\n  prod:\n    approvers: [alice, bob]\n")
    _alice, _ipr, pull = api_ipr(world, "alice", rules)
    plan = next(c for c in world.bot_comments(pull) if "Ran Plan" in c)
    assert "**Review requested** (prod: @bob)" in plan
