"""The IPR lifecycle through the REST API and the CLI, against the real server."""

from __future__ import annotations

import json

import pytest

from atlantis_py.cli import main
from tests.e2e.conftest import World
from tests.e2e.test_flow import base_files, tf_extra
from tests.fakeforge.github import FakeGitHub, FakeRepo
from tests.fakeforge.neutral import NeutralPull


def planned_ipr(world: World) -> tuple[int, NeutralPull]:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    record = world.service.services.pulls.get("github", "acme/infra", pull.number)
    assert record is not None
    return record.id, pull


def test_without_token_401_and_viewer_cannot_review(world: World) -> None:
    ipr_id, _ = planned_ipr(world)
    status, body = world.api("GET", "/ipr")
    assert status == 401 and "token" in body["error"]
    status, _ = world.api("GET", "/ipr", token="atl_not-a-real-token")
    assert status == 401
    viewer = world.token("vera", "viewer")
    status, page = world.api("GET", "/ipr", viewer)
    assert status == 200 and page["total"] == 1
    assert {"id", "repo", "pull_number", "state", "title"} <= page["items"][0].keys()
    status, body = world.api("POST", f"/ipr/{ipr_id}/review", viewer,
                             {"decision": "approve"})
    assert status == 403 and "viewer" in body["error"]
    status, body = world.api("GET", "/ipr/999", viewer)
    assert status == 404
    status, body = world.api("GET", "/ipr?state=NOPE", viewer)
    assert status == 422


ON_BOTH_DATABASES = pytest.mark.parametrize("world", ["github", "github-postgres"],
                                            indirect=True)


@ON_BOTH_DATABASES
def test_deploy_of_pending_ipr_is_409_then_approve_and_deploy(world: World) -> None:
    ipr_id, pull = planned_ipr(world)
    bob = world.token("bob", "reviewer")
    status, body = world.api("POST", f"/ipr/{ipr_id}/deploy", bob)
    assert status == 409 and "PENDING" in body["error"]
    assert "1 more approval" in body["error"]

    status, ipr = world.api("POST", f"/ipr/{ipr_id}/review", bob,
                            {"decision": "approve", "comment": "LGTM"})
    assert status == 200 and ipr["state"] == "APPROVED"
    assert [a["user"] for a in ipr["approvals"] if a["counted"]] == ["bob"]
    world.settle()  # the review's notice is a job
    assert any("bob" in c and "LGTM" in c for c in world.bot_comments(pull))

    status, _queued = world.api("POST", f"/ipr/{ipr_id}/deploy", bob)
    assert status == 202
    world.settle()
    assert "x" in world.state_resources("network")
    status, ipr = world.api("GET", f"/ipr/{ipr_id}", bob)
    assert ipr["state"] == "DEPLOYED"
    assert ipr["projects"][0]["applied"] is True


@ON_BOTH_DATABASES
def test_reject_blocks_until_the_rejecter_approves(world: World) -> None:
    ipr_id, _ = planned_ipr(world)
    carol, bob = world.token("carol", "reviewer"), world.token("bob", "reviewer")
    world.api("POST", f"/ipr/{ipr_id}/review", bob, {"decision": "approve"})
    status, ipr = world.api("POST", f"/ipr/{ipr_id}/review", carol,
                            {"decision": "reject", "comment": "Needs more CPU"})
    assert ipr["state"] == "REJECTED"
    assert ipr["blocking"] == [("changes requested by carol: apply is blocked until carol "
                                "approves or the review is dismissed")]
    status, body = world.api("POST", f"/ipr/{ipr_id}/deploy", bob)
    assert status == 409 and "carol" in body["error"]
    status, ipr = world.api("POST", f"/ipr/{ipr_id}/review", carol, {"decision": "approve"})
    assert ipr["state"] == "APPROVED"


def test_author_cannot_approve_own_ipr_and_bad_bodies(world: World) -> None:
    ipr_id, _ = planned_ipr(world)
    alice = world.token("alice", "reviewer")
    status, body = world.api("POST", f"/ipr/{ipr_id}/review", alice, {"decision": "approve"})
    assert status == 403 and "alice" in body["error"]
    status, body = world.api("POST", f"/ipr/{ipr_id}/review", alice, {"decision": "maybe"})
    assert status == 422
    status, body = world.api("POST", f"/ipr/{ipr_id}/review", alice, ["approve"])
    assert status == 400


def test_push_voids_api_approval(world: World) -> None:
    ipr_id, pull = planned_ipr(world)
    bob = world.token("bob", "reviewer")
    world.api("POST", f"/ipr/{ipr_id}/review", bob, {"decision": "approve"})
    world.push(pull, {"network/extra.tf": tf_extra("y")})
    _status, ipr = world.api("GET", f"/ipr/{ipr_id}", bob)
    assert ipr["state"] == "PENDING"
    assert [a["reason"] for a in ipr["approvals"]] == ["approved an older commit"]


@ON_BOTH_DATABASES
def test_cancel_releases_locks_and_events_are_a_trail(world: World) -> None:
    ipr_id, _ = planned_ipr(world)
    admin = world.token("root", "admin")
    assert world.service.services.locks.held_by(ipr_id)
    status, ipr = world.api("POST", f"/ipr/{ipr_id}/cancel", admin, {"reason": "obsolete"})
    assert status == 200 and ipr["state"] == "CANCELLED"
    assert world.service.services.locks.held_by(ipr_id) == []
    status, _body = world.api("POST", f"/ipr/{ipr_id}/cancel", admin)
    assert status == 409
    status, events = world.api("GET", f"/ipr/{ipr_id}/events", admin)
    actions = [e["action"] for e in events["items"]]
    assert actions[0] == "opened" and "plan:success" in actions
    assert actions[-1] == "state:CANCELLED"
    assert all(e["head_sha"] for e in events["items"])
    status, lines = world.api("GET", f"/ipr/{ipr_id}/events?format=jsonl", admin)
    assert [json.loads(line)["action"] for line in str(lines).splitlines()] == actions
    for method in ("PUT", "PATCH", "DELETE"):
        status, _ = world.api(method, f"/ipr/{ipr_id}/events", admin, {})
        assert status == 405


def test_create_ipr_opens_a_pull_request_and_plans_it(world: World) -> None:
    github = world.fake
    assert isinstance(github, FakeGitHub), "push_branch is FakeGitHub's"
    repo = world.repo(base_files(world, "network"))
    assert isinstance(repo, FakeRepo)
    github.push_branch(repo, "feature/api", {"network/extra.tf": tf_extra("api")})
    bob = world.token("bob", "reviewer")
    status, ipr = world.api("POST", "/ipr", bob, {
        "repo": "acme/infra", "head": "feature/api", "base": "main",
        "title": "Add api resource", "description": "made by a tool"})
    assert status == 201, ipr
    world.settle()
    status, ipr = world.api("GET", f"/ipr/{ipr['id']}", bob)
    assert ipr["title"] == "Add api resource" and ipr["description"] == "made by a tool"
    assert ipr["projects"][0]["summary"] == "Plan: 2 to add, 0 to change, 0 to destroy."
    pull = repo.pulls[ipr["pull_number"]]
    # the forge's own "opened" webhook arrives too: still one plan
    world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "opened"))
    world.settle()
    assert len([c for c in world.bot_comments(pull) if "Ran Plan" in c]) == 1
    status, body = world.api("POST", "/ipr", bob, {"repo": "acme/infra", "head": "feature/api"})
    assert status == 422 and "title" in body["error"]


def test_openapi_document(world: World) -> None:
    status, doc = world.api("GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    assert {"/api/v1/ipr", "/api/v1/ipr/{id}/review", "/api/v1/ipr/{id}/deploy",
            "/api/v1/ipr/{id}/events"} <= doc["paths"].keys()


def test_cli_review_deploy_show_list(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    ipr_id, _ = planned_ipr(world)
    viewer, bob = world.token("vera", "viewer"), world.token("bob", "reviewer")
    base = ["ipr", "--server", world.url, "--token"]

    assert main([*base, viewer, "review", str(ipr_id), "--approve"]) == 1
    assert "403" in capsys.readouterr().err
    assert main([*base, bob, "deploy", str(ipr_id)]) == 1
    assert "PENDING" in capsys.readouterr().err
    assert main([*base, bob, "review", str(ipr_id), "--approve", "--comment", "LGTM"]) == 0
    out = capsys.readouterr().out
    assert "state: APPROVED" in out and "bob" in out
    assert main([*base, bob, "list", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert items[0]["id"] == ipr_id and items[0]["state"] == "APPROVED"
    assert main([*base, bob, "deploy", str(ipr_id)]) == 0
    capsys.readouterr()
    world.settle()
    assert main([*base, viewer, "show", str(ipr_id), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "DEPLOYED"
    assert main([*base, viewer, "events", str(ipr_id)]) == 0
    assert "state:DEPLOYED" in capsys.readouterr().out
    assert main(["ipr", "--server", world.url, "--token", "", "list"]) == 2


def test_token_create_command_writes_a_working_token(world: World,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = world.service.settings.data_dir
    assert main(["token", "create", "--user", "dora", "--role", "viewer",
                 "--data-dir", str(data_dir)]) == 0
    token = capsys.readouterr().out.strip()
    status, _ = world.api("GET", "/ipr", token)
    assert status == 200
