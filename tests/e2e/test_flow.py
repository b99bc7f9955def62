"""End to end: webhook → plan comment → approval → apply, with real git and terraform."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import World, tf_project
from tests.fakeforge.github_payloads import signature
from tests.support.tables import all_jobs, count_deliveries


def base_files(world: World, *names: str) -> dict[str, str]:
    return {f"{n}/main.tf": tf_project(world.state_dir, n) for n in names}


# Every scenario runs against both fakes; a few also on PostgreSQL.
FORGES = pytest.mark.parametrize("world", ["github", "gitlab"], indirect=True)
FORGES_AND_POSTGRES = pytest.mark.parametrize(
    "world", ["github", "gitlab", "github-postgres", "gitlab-postgres"], indirect=True)


@FORGES_AND_POSTGRES
def test_plan_approve_apply(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("network_extra")})
    comments = world.bot_comments(pull)
    assert len(comments) == 1
    plan = comments[0]
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan
    assert "atlantis apply -p network" in plan
    assert world.statuses(pull)["atlantis/plan"] == ("success", "1/1 projects planned")

    refused = world.comment(pull, "alice", "atlantis apply")
    assert "1 more approval" in refused
    assert world.state_resources("network") == []

    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Apply" in applied and "Error" not in applied
    assert "network_extra" in world.state_resources("network")
    assert world.statuses(pull)["atlantis/apply"] == ("success", "1/1 projects applied")
    assert world.record(pull).state.value == "DEPLOYED"


def tf_extra(name: str) -> str:
    return f'\nresource "terraform_data" "{name}" {{\n  input = "x"\n}}\n'


@FORGES
def test_self_approval_and_push_void_approval(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("one")})
    world.approve(pull, "alice")  # the author
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "1 more approval" in refused
    assert "alice" in refused

    world.approve(pull, "bob")
    world.push(pull, {"network/extra.tf": tf_extra("two")})
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "1 more approval" in refused  # bob approved the older commit
    assert world.state_resources("network") == []


@FORGES
def test_push_after_plan_old_plan_not_applied(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("first")})
    old_sha = pull.head_sha
    world.fake.push(pull, {"network/extra.tf": tf_extra("second")})  # no webhook yet
    world.fake.review(pull, "bob", "APPROVED")
    reply = world.comment(pull, "alice", "atlantis apply")
    assert old_sha[:7] in reply and pull.head_sha[:7] in reply
    assert world.state_resources("network") == []


@FORGES_AND_POSTGRES
def test_second_pull_request_sees_lock(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    first = world.open_pr(repo, {"network/extra.tf": tf_extra("a")}, branch="first")
    second = world.open_pr(repo, {"network/extra.tf": tf_extra("b")}, branch="second",
                           author="carol")
    assert "Plan: 2 to add" in world.bot_comments(first)[0]
    locked = world.bot_comments(second)[0]
    assert f"#{first.number}" in locked
    assert world.statuses(second)["atlantis/plan"][0] == "failure"

    world.fake.close_pull(first, merged=False)
    world.fake.deliver("pull_request", world.fake.pull_request_payload(first, "closed"))
    world.settle()
    assert world.service.services.locks.held_by(1) == []
    reply = world.comment(second, "carol", "atlantis plan")
    assert "Plan: 2 to add" in reply


@FORGES
def test_forged_signature_is_refused_and_nothing_stored(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.fake.open_pull(repo, changes={"network/extra.tf": tf_extra("x")})
    payload = world.fake.pull_request_payload(pull, "opened")
    body = json.dumps(payload).encode()
    assert world.fake.webhook_url
    status, _ = world.fake.send_webhook(world.fake.webhook_url, "pull_request", payload,
                                        "wrong-secret")
    assert status == 401
    status, _ = world.fake.send_webhook(world.fake.webhook_url, "pull_request", payload,
                                        "e2e-webhook-secret",
                                        signature=signature("nope", body))
    assert status == 401
    world.settle()
    assert count_deliveries(world.service.db) == 0
    assert all_jobs(world.service.db) == []
    assert world.bot_comments(pull) == []


@FORGES_AND_POSTGRES
def test_redelivery_plans_once(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.fake.open_pull(repo, changes={"network/extra.tf": tf_extra("x")})
    payload = world.fake.pull_request_payload(pull, "opened")
    first = world.fake.deliver("pull_request", payload, delivery_id="delivery-1")
    again = world.fake.deliver("pull_request", payload, delivery_id="delivery-1")
    assert first[0] == 202 and again[0] == 200
    world.settle()
    assert len(world.bot_comments(pull)) == 1
    assert len(all_jobs(world.service.db)) == 1


@FORGES
def test_invalid_workflows_yaml_gets_error_comment(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    bad = "version: 1\nprojects:\n  - dir: network\n    autoplan: {enabled: maybe}\n"
    pull = world.open_pr(repo, {"workflows.yaml": bad, "network/extra.tf": tf_extra("x")})
    comments = world.bot_comments(pull)
    assert len(comments) == 1
    assert "workflows.yaml" in comments[0]
    assert "line: 4" in comments[0]
    assert "projects[0].autoplan.enabled" in comments[0]
    assert world.statuses(pull)["atlantis/plan"][0] == "failure"
    assert world.service.services.locks.held_by(1) == []


@FORGES
def test_comment_without_write_permission_is_refused(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    world.fake.set_permission(repo, "mallory", "read")
    world.fake.review(pull, "bob", "APPROVED")
    reply = world.comment(pull, "mallory", "atlantis apply")
    assert "mallory" in reply and "permission" in reply
    assert world.state_resources("network") == []


@FORGES
def test_unknown_command_gets_help(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    reply = world.comment(pull, "alice", "atlantis destroy-everything")
    assert "atlantis plan" in reply and "atlantis apply" in reply
    reply = world.comment(pull, "alice", "atlantis plan -- -auto-approve")
    assert "-auto-approve" in reply and "atlantis unlock" in reply


@FORGES
def test_pr_cannot_lower_its_own_required_approvals(world: World) -> None:
    strict = ("version: 1\nprojects:\n  - dir: network\n    environment: prod\n"
              "environments:\n  prod:\n    required_approvals: 2\n")
    lax = strict.replace("required_approvals: 2", "required_approvals: 0")
    files = base_files(world, "network") | {"workflows.yaml": strict}
    repo = world.repo(files)
    pull = world.open_pr(repo, {"workflows.yaml": lax, "network/extra.tf": tf_extra("x")})
    assert "Plan: 2 to add" in world.bot_comments(pull)[0]
    world.approve(pull, "bob")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "1 more approval" in refused
    assert world.state_resources("network") == []
    world.approve(pull, "carol")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Apply Error" not in applied
    assert "x" in world.state_resources("network")


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
def test_gitlab_subgroup_project(world: World) -> None:
    repo = world.repo(base_files(world, "network"), name="acme/platform/infra")
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("sub")})
    assert "Plan: 2 to add" in world.bot_comments(pull)[0]
    assert world.record(pull).repo == "acme/platform/infra"
    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Apply Error" not in applied
    assert "sub" in world.state_resources("network")


@pytest.mark.parametrize("world", ["gitlab"], indirect=True)
def test_gitlab_title_edit_does_not_replan(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    payload = world.fake.pull_request_payload(pull, "synchronize")
    payload["object_attributes"].pop("oldrev", None)
    payload["object_attributes"]["action"] = "update"
    payload["changes"] = {"title": {"previous": "old", "current": "new"}}
    jobs = len(all_jobs(world.service.db))
    assert world.fake.deliver("pull_request", payload)[0] == 200  # ignored at the edge
    world.settle()
    assert len(world.bot_comments(pull)) == 1
    assert len(all_jobs(world.service.db)) == jobs


def test_gitlab_command_access_level_is_configurable(tmp_path: Path) -> None:
    from tests.e2e.conftest import running_world

    with running_world(tmp_path, "gitlab", gitlab_command_access_level=40) as world:
        repo = world.repo(base_files(world, "network"))
        pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
        world.fake.set_permission(repo, "dev", "write")  # Developer (30)
        reply = world.comment(pull, "dev", "atlantis plan")
        assert "dev" in reply and "permission" in reply
        world.fake.set_permission(repo, "lead", "admin")  # Maintainer (40)
        assert "Ran Plan" in world.comment(pull, "lead", "atlantis plan")


def test_pull_request_from_a_fork_is_planned_from_its_head_commit(world: World) -> None:
    """A fork's branch is not in the base repository; its head commit is reachable
    only through the pull request's ref, and is fetched by its sha."""
    repo = world.repo(base_files(world, "network"))
    pull = world.fake.open_pull(repo, branch="fork-feature",
                                changes={"network/extra.tf": tf_extra("fork")})
    repo.git.git("update-ref", f"refs/pull/{pull.number}/head", pull.head_sha)
    repo.git.git("update-ref", "-d", "refs/heads/fork-feature")
    assert world.fake.deliver("pull_request",
                              world.fake.pull_request_payload(pull, "opened"))[0] == 202
    world.settle()
    assert "Plan: 2 to add" in world.bot_comments(pull)[0]


@FORGES
def test_merged_and_closed_pull_requests_leave_no_plans_or_worktrees(world: World) -> None:
    repo = world.repo(base_files(world, "network", "dns"))
    merged = world.open_pr(repo, {"network/extra.tf": tf_extra("m")}, branch="merged")
    closed = world.open_pr(repo, {"dns/extra.tf": tf_extra("c")}, branch="closed")
    data = world.service.settings.data_dir

    def plan_dirs() -> set[str]:
        return {p.parent.name for p in data.rglob("*.tfplan")}

    first_sha = merged.head_sha
    assert plan_dirs() == {first_sha, closed.head_sha}
    world.push(merged, {"network/extra.tf": tf_extra("m2")})
    assert plan_dirs() == {merged.head_sha, closed.head_sha}, "a newer plan replaces older ones"
    worktrees = data / "repos" / "worktrees"
    assert len([p for p in worktrees.rglob("*") if p.is_dir() and p.name.isdigit()]) == 2

    world.approve(merged, "bob")
    assert "Error" not in world.comment(merged, "alice", "atlantis apply")
    for pull, was_merged in ((merged, True), (closed, False)):
        world.fake.close_pull(pull, merged=was_merged)
        world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "closed"))
    world.settle()

    assert list(data.rglob("*.tfplan")) == []
    assert list(data.rglob("*.tfvars.json")) == []
    assert [p for p in worktrees.rglob("*") if p.is_dir() and p.name[:1].isdigit()] == []
    assert world.record(merged).state.value == "DEPLOYED" and not world.record(merged).open
    assert world.record(closed).state.value == "CANCELLED"
