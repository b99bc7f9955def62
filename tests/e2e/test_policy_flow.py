"""Approval policy through the real server: teams, windows, destroys, expiry, notices."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import World, running_world, tf_project
from tests.e2e.test_flow import tf_extra
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.neutral import NeutralRepo
from tests.support.receiver import Receiver


def config(env: str) -> str:
    return ("version: 1\nprojects:\n  - dir: network\n    environment: prod\n"
            "environments:\n  prod:\n" + "".join(f"    {line}\n" for line in env.splitlines()))


def repo_with(world: World, env: str) -> NeutralRepo:
    return world.repo({"network/main.tf": tf_project(world.state_dir, "network"),
                       "workflows.yaml": config(env)})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(params=["sqlite", "postgres"])
def notified_world(request: pytest.FixtureRequest, tmp_path: Path,
                   receiver: Receiver) -> Iterator[World]:
    hooks = tmp_path / "notifications.yaml"
    hooks.write_text(f"environments:\n  prod:\n    - url: {receiver.url}\n      format: json\n")
    url = request.getfixturevalue("make_postgres_db")() if request.param == "postgres" else ""
    with running_world(tmp_path, database_url=url, notifications_file=hooks) as w:
        yield w


def test_team_approver_counts_and_outsider_does_not(world: World) -> None:
    repo = repo_with(world, "required_approvals: 1\napprovers: [alice, acme/platform]")
    github = world.fake
    assert isinstance(github, FakeGitHub)
    github.add_team_member("acme/platform", "dave")
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("t")})
    # the author is not asked to review her own change
    assert "**Review requested** (prod: @acme/platform)" in world.bot_comments(pull)[0]
    world.approve(pull, "carol")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "needs 1 more approval from a member of acme/platform" in refused
    assert "carol approved" in refused and "not an approver for prod" in refused
    world.approve(pull, "dave")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Apply refused" not in applied and "t" in world.state_resources("network")


def test_apply_outside_the_window_is_refused_with_next_opening(world: World) -> None:
    tomorrow = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][
        (datetime.now(UTC).weekday() + 1) % 7]
    repo = repo_with(world, f"apply_window: {{days: [{tomorrow}], hours: \"09:00-10:00\", "
                            "timezone: UTC}")
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("w")})
    world.approve(pull, "bob")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "outside the apply window" in refused and "next opening" in refused
    assert world.state_resources("network") == []


def test_destroy_needs_the_extra_approval(world: World) -> None:
    env = "required_approvals: 1\ndestroy_requires: {required_approvals: 2}"
    repo = repo_with(world, env)
    seed = world.state_dir.parent / "seed"
    seed.mkdir()
    (seed / "main.tf").write_text(tf_project(world.state_dir, "network"))
    for argv in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *argv], cwd=seed, check=True, capture_output=True)
    assert world.state_resources("network") == ["network"]

    keep = f'terraform {{\n  backend "local" {{ path = "{world.state_dir}/network.tfstate" }}\n}}\n'
    pull = world.open_pr(repo, {"network/main.tf": keep})
    assert "0 to add, 0 to change, 1 to destroy" in world.bot_comments(pull)[0]
    world.approve(pull, "bob")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "2 required because the plan destroys or replaces resources" in refused
    world.approve(pull, "carol")
    world.comment(pull, "alice", "atlantis apply")
    assert world.state_resources("network") == []


def test_expiry_with_a_frozen_clock(notified_world: World, receiver: Receiver) -> None:
    world = notified_world
    repo = repo_with(world, "review_deadline: 2h")
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("e")})
    assert receiver.wait_for(1)[0]["event"] == "review_requested"
    now = datetime.now(UTC)
    assert world.service.lifecycle.expire_overdue(now + timedelta(hours=1)) == []
    record = world.record(pull)
    assert world.service.lifecycle.expire_overdue(now + timedelta(hours=3)) == [record.id]
    assert world.record(pull).state.value == "REJECTED"
    world.settle()  # the notice goes out as a queued job
    notice = world.bot_comments(pull)[-1]
    assert "\n@alice No approval arrived within the review deadline of 2h" in notice
    events = [n["event"] for n in receiver.wait_for(2)]
    assert events == ["review_requested", "expired"]
    assert world.service.lifecycle.expire_overdue(now + timedelta(hours=5)) == []


def test_notifications_follow_the_lifecycle(notified_world: World, receiver: Receiver) -> None:
    world = notified_world
    repo = repo_with(world, "required_approvals: 1")
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("n")})
    world.approve(pull, "bob")
    world.comment(pull, "alice", "atlantis apply")
    got = receiver.wait_for(3)
    assert [n["event"] for n in got] == ["review_requested", "approved", "deployed"]
    assert {n["environment"] for n in got} == {"prod"}
    assert got[1]["actor"] == "bob" and got[2]["ipr"]["state"] == "DEPLOYED"
