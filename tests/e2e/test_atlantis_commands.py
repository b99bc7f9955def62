"""Atlantis's import and state-rm scenarios, ported (our code, their facts), and
the server flags that decide which commands run and when plans happen:
--allow-commands, --disable-autoplan, --autoplan-file-list. Real server, fake
forge, real terraform: `terraform_data` imports any ID offline, so the whole
import path runs without a provider download."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py import __version__
from tests.e2e.conftest import World, running_world, tf_project

STATE_COMMANDS = "version,plan,apply,unlock,import,state"


@pytest.fixture
def gated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A server that allows import and state (Atlantis's opt-in commands)."""
    forge = getattr(request, "param", "github")
    with running_world(tmp_path, forge, allow_commands=frozenset(STATE_COMMANDS.split(","))
                       ) as w:
        yield w


def audit(world: World, record_id: int) -> list[tuple[str, str, str]]:
    return [(e.action, e.project, e.detail)
            for e in world.service.services.audit.events(record_id)]


def state_ids(world: World, name: str) -> dict[str, str]:
    """resource name -> its id in the local state file."""
    path = world.state_dir / f"{name}.tfstate"
    data = json.loads(path.read_text())
    return {r["name"]: r["instances"][0]["attributes"]["id"] for r in data["resources"]}


@pytest.mark.parametrize("gated", ["github", "gitlab"], indirect=True)
def test_state_rm_then_import_under_the_apply_gate(gated: World) -> None:
    """Atlantis's state-rm-single-project and import-single-project: each is
    refused until the change is approved, runs in the project's worktree, is
    audited, and the project is planned again in a comment of its own."""
    world = gated
    repo = world.repo({"main.tf": tf_project(world.state_dir, "x", "v1")})
    pull = world.open_pr(repo, {"main.tf": tf_project(world.state_dir, "x", "v2")})
    assert "Plan: 1 to add" in world.bot_comments(pull)[0]

    refused = world.comment(pull, "alice", "atlantis state rm terraform_data.x")
    assert refused.startswith("**State rm refused**")
    assert "1 more approval" in refused and "nothing was removed" in refused
    assert "comment `atlantis state rm terraform_data.x` again" in refused

    world.approve(pull, "bob")
    assert "Apply complete! Resources: 1 added" in world.comment(pull, "alice",
                                                                 "atlantis apply")
    assert world.state_resources("x") == ["x"]

    removed = world.comment(pull, "alice", "atlantis state rm terraform_data.x")
    answer, replan = removed.split("\nRan Plan for", 1)
    assert answer.startswith("Ran State rm for project: `root` dir: `.` workspace: `default`")
    assert "Removed terraform_data.x" in answer and "new plan follows" in answer
    assert world.state_resources("x") == []
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in replan

    imported = world.comment(pull, "alice", "atlantis import terraform_data.x some-id")
    answer, replan = imported.split("\nRan Plan for", 1)
    assert answer.startswith("Ran Import for project: `root` dir: `.` workspace: `default`")
    assert 'Importing from ID "some-id"' in answer and "Import successful!" in answer
    assert state_ids(world, "x") == {"x": "some-id"}
    # imported with no input: the new plan sets it in place
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in replan

    actions = audit(world, world.record(pull).id)
    assert any(a == "state_rm:refused" and "1 more approval" in d for a, _, d in actions)
    assert ("state_rm:success", "root", "terraform_data.x") in actions
    assert ("import:success", "root", "terraform_data.x some-id") in actions
    assert world.statuses(pull)["atlantis/plan"][0] == "success"


@pytest.mark.parametrize("gated", ["github"], indirect=True)
def test_import_that_terraform_refuses_is_answered_and_audited(gated: World) -> None:
    """An address the configuration lacks: terraform's error in the comment, the
    state untouched, nothing planned again, the failure audited; an address
    that is not one never reaches terraform."""
    world = gated
    repo = world.repo({"main.tf": tf_project(world.state_dir, "x")})
    pull = world.open_pr(repo, {"main.tf": tf_project(world.state_dir, "x", "v2")})
    world.approve(pull, "bob")
    before = len(world.bot_comments(pull))

    failed = world.comment(pull, "alice", "atlantis import -d . terraform_data.nope id-1")
    assert failed.startswith("Ran Import for project: `root` dir: `.` workspace: `default`")
    assert "**Import Error**" in failed
    assert 'resource address "terraform_data.nope" does not exist in the configuration' \
        in failed
    assert "The state was left as it was" in failed
    assert "comment `atlantis import -d . terraform_data.nope id-1` again" in failed
    assert "Ran Plan" not in failed
    assert len(world.bot_comments(pull)) == before + 1
    assert not (world.state_dir / "x.tfstate").exists()
    assert ("import:failure", "root", "terraform_data.nope id-1: import failed (exit 1)") \
        in audit(world, world.record(pull).id)

    bad = world.comment(pull, "alice", "atlantis import 'terraform_data.x;id' y")
    assert "is not a Terraform resource address" in bad and "Nothing ran." in bad


@pytest.mark.parametrize("gated", ["github"], indirect=True)
def test_import_and_state_rm_respect_the_lock_and_name_one_project(gated: World) -> None:
    """A dir another pull request holds is not touched; with two projects
    planned, the command must name one."""
    world = gated
    state = world.state_dir
    repo = world.repo({"a/main.tf": tf_project(state, "a"), "b/main.tf": tf_project(state, "b")})
    first = world.open_pr(repo, {"a/main.tf": tf_project(state, "a", "v2"),
                                 "b/main.tf": tf_project(state, "b", "v2")}, branch="first")
    world.approve(first, "bob")
    several = world.comment(first, "alice", "atlantis state rm terraform_data.a")
    assert several.startswith("**State rm not run**")
    assert "2 planned projects" in several and "`-p NAME`" in several

    second = world.open_pr(repo, {"a/main.tf": tf_project(state, "a", "v3")}, branch="second")
    world.approve(second, "carol")
    locked = world.comment(second, "alice", "atlantis import -d a terraform_data.a id-2")
    assert "**Import Error**" in locked
    assert f"is locked by pull request #{first.number}" in locked
    assert not (state / "a.tfstate").exists()


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_allow_commands(forge: str, tmp_path: Path) -> None:
    """Atlantis's default leaves import and state off; a server allowing only
    plan answers every other command that it is disabled, and still answers help."""
    with running_world(tmp_path / "default", forge) as world:
        repo = world.repo({"main.tf": tf_project(world.state_dir, "x")})
        pull = world.open_pr(repo, {"main.tf": tf_project(world.state_dir, "x", "v2")})
        off = world.comment(pull, "alice", "atlantis import terraform_data.x id")
        assert off.startswith("**Command disabled**")
        assert "`atlantis import` is disabled on this server" in off
        assert "`atlantis apply`" in off and "`atlantis state`" not in off
        assert "command:disabled" in [a for a, _, _ in audit(world, world.record(pull).id)]
        version = world.comment(pull, "alice", "atlantis version")
        assert version.startswith(f"atlantis-py {__version__}\n\nRan Version for project: "
                                  "`root` dir: `.`")
        assert "Terraform v" in version

    with running_world(tmp_path / "plan-only", forge,
                       allow_commands=frozenset({"plan"})) as world:
        repo = world.repo({"main.tf": tf_project(world.state_dir, "x")})
        pull = world.open_pr(repo, {"main.tf": tf_project(world.state_dir, "x", "v2")})
        world.approve(pull, "bob")
        for command in ("apply", "unlock", "version", "state rm terraform_data.x"):
            answer = world.comment(pull, "alice", f"atlantis {command}")
            assert f"`atlantis {command.split()[0]}` is disabled" in answer, command
        assert world.state_resources("x") == []
        assert "Ran Plan for 1 project" in world.comment(pull, "alice", "atlantis plan")
        assert "atlantis import" in world.comment(pull, "alice", "atlantis help")


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_disable_autoplan(forge: str, tmp_path: Path) -> None:
    """No plan on open or push; `atlantis plan` plans, and a push still voids
    the approvals it had."""
    with running_world(tmp_path, forge, disable_autoplan=True) as world:
        repo = world.repo({"main.tf": tf_project(world.state_dir, "x")})
        pull = world.open_pr(repo, {"main.tf": tf_project(world.state_dir, "x", "v2")})
        assert world.bot_comments(pull) == []
        assert "atlantis/plan" not in world.statuses(pull)
        plan = world.comment(pull, "alice", "atlantis plan")
        assert "Plan: 1 to add" in plan
        world.approve(pull, "bob")
        world.push(pull, {"main.tf": tf_project(world.state_dir, "x", "v3")})
        assert len(world.bot_comments(pull)) == 1
        assert world.record(pull).state.value == "PENDING"
        outdated = world.comment(pull, "alice", "atlantis apply")
        assert "Apply complete" not in outdated
        assert world.state_resources("x") == []


@pytest.mark.parametrize("forge", ["github"])
def test_autoplan_file_list(forge: str, tmp_path: Path) -> None:
    """Without a config file, only changes the list names make a project
    (dockerignore-style, `!` excludes); a listed project's when_modified wins."""
    with running_world(tmp_path, forge,
                       autoplan_file_list=("**/*.tf", "**/*.yml", "!legacy")) as world:
        state = world.state_dir
        repo = world.repo({"app/main.tf": tf_project(state, "app"),
                           "legacy/main.tf": tf_project(state, "legacy")})
        pull = world.open_pr(repo, {"app/settings.yml": "a: 1\n",
                                    "legacy/main.tf": tf_project(state, "legacy", "v2")})
        [plan] = world.bot_comments(pull)
        assert "dir: `app`" in plan and "legacy" not in plan

        yaml = "version: 3\nprojects:\n- dir: legacy\n"
        listed = world.repo({"legacy/main.tf": tf_project(state, "legacy"),
                             "atlantis.yaml": yaml}, name="acme/listed")
        pull2 = world.open_pr(listed, {"legacy/main.tf": tf_project(state, "legacy", "v2")})
        [plan2] = world.bot_comments(pull2)
        assert "dir: `legacy`" in plan2


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_disable_autoplan_label(forge: str, tmp_path: Path) -> None:
    """A pull request with the label is not planned on open; others are."""
    with running_world(tmp_path, forge, disable_autoplan_label="no-autoplan") as world:
        repo = world.repo({"main.tf": tf_project(world.state_dir, "x")})
        fake = world.fake
        quiet = fake.open_pull(repo, branch="quiet",
                               changes={"main.tf": tf_project(world.state_dir, "x", "v2")})
        quiet.labels = ["infra", "no-autoplan"]
        status, _ = fake.deliver("pull_request", fake.pull_request_payload(quiet, "opened"))
        assert status == 202
        world.settle()
        assert world.bot_comments(quiet) == []
        assert "Plan: 1 to add" in world.comment(quiet, "alice", "atlantis plan")

        second = world.repo({"main.tf": tf_project(world.state_dir, "y")}, name="acme/other")
        other = world.open_pr(second, {"main.tf": tf_project(world.state_dir, "y", "v3")})
        assert "Plan: 1 to add" in world.bot_comments(other)[0]


CUSTOM_STAGES = """\
version: 3
projects:
- name: app
  dir: app
  workflow: custom
workflows:
  custom:
    state_rm:
      steps:
      - env: {name: WHO, value: ops}
      - run: echo before-rm by $WHO in $PROJECT_NAME of $COMMENT_ARGS
      - init
      - state_rm
      - run: echo after-rm
"""


@pytest.mark.parametrize("forge", ["github"])
def test_custom_state_rm_stage_from_atlantis_yaml(forge: str, tmp_path: Path) -> None:
    """atlantis.yaml's state_rm stage runs its env, run and state_rm steps in
    order; every step's output is in the comment, as for plan and apply."""
    with running_world(tmp_path, forge, allow_custom_steps=True,
                       allow_commands=frozenset({"plan", "apply", "state"})) as world:
        state = world.state_dir
        repo = world.repo({"atlantis.yaml": CUSTOM_STAGES, "app/main.tf": tf_project(state, "app")})
        pull = world.open_pr(repo, {"app/main.tf": tf_project(state, "app", "v2")})
        world.approve(pull, "bob")
        assert "Apply complete!" in world.comment(pull, "alice", "atlantis apply -p app")
        removed = world.comment(pull, "alice", "atlantis state rm -p app terraform_data.app")
        assert removed.startswith("Ran State rm for project: `app` dir: `app`")
        assert removed.index("before-rm by ops in app of terraform_data.app") < removed.index(
            "Removed terraform_data.app") < removed.index("after-rm")
        assert world.state_resources("app") == []
        assert "Plan: 1 to add" in removed.split("Ran Plan for", 1)[1]
