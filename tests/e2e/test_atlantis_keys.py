"""atlantis.yaml's branch, repo_locks, silence_pr_comments and the multienv /
env command / hidden run steps, end to end: real server, fake forge, real
terraform. One file plans different projects for pull requests into
different branches, locks only on apply, keeps silenced projects out of the
comments (never out of the statuses), and shows what its steps set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import World, running_world
from tests.e2e.test_atlantis_compat import projects_listed

ATLANTIS_YAML = """\
version: 3
repo_locks:
  mode: on_apply
projects:
- name: app
  dir: app
  branch: /^main$/
  workflow: dynamic
- name: app-dev
  dir: app
  branch: /^dev$/
  silence_pr_comments: [plan]
- name: quiet
  dir: quiet
  silence_pr_comments: [plan, apply]
workflows:
  dynamic:
    plan:
      steps:
      - multienv: printf TF_VAR_colour=blue,SIZE=large
      - env:
          name: TF_VAR_owner
          command: printf team-$SIZE
      - run:
          command: echo hidden-secret-$SIZE
          output: hide
      - run: echo shown-$TF_VAR_owner
      - init
      - plan
"""


def main_tf(state: Path, name: str, value: str) -> str:
    return (f'terraform {{\n  backend "local" {{ path = "{state}/{name}.tfstate" }}\n}}\n'
            'variable "colour" {\n  default = "none"\n}\n'
            'variable "owner" {\n  default = "none"\n}\n'
            'resource "terraform_data" "x" {\n'
            f'  input = "${{var.colour}}-${{var.owner}}-{value}"\n}}\n')


@pytest.fixture
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with running_world(tmp_path, request.param, allow_custom_steps=True) as w:
        yield w


@pytest.mark.parametrize("keys", ["github", "gitlab"], indirect=True)
def test_branch_locks_on_apply_silence_and_dynamic_env(keys: World) -> None:
    world = keys
    state = world.state_dir
    repo = world.repo({"atlantis.yaml": ATLANTIS_YAML,
                       "app/main.tf": main_tf(state, "app", "v1"),
                       "quiet/main.tf": main_tf(state, "quiet", "v1")})
    repo.git.commit("dev", {}, "dev branch", start=f"refs/heads/{repo.default_branch}")
    locks = world.service.services.locks

    first = world.open_pr(repo, {"app/main.tf": main_tf(state, "app", "v2"),
                                 "quiet/main.tf": main_tf(state, "quiet", "v2")})
    [plan] = world.bot_comments(first)
    # `quiet` is silenced for plan: only `app` (the main branch's entry) is shown ...
    assert projects_listed(plan) == [("app", "app", "default")], plan
    assert "quiet" not in plan
    # ... but the status counts both
    assert world.statuses(first)["atlantis/plan"] == ("success", "2/2 projects planned")
    # multienv's names (not values), the env command's value, the hidden run step
    assert "Dynamic environment variables added:\nTF_VAR_colour\nSIZE\n" in plan
    assert "shown-team-large" in plan and "hidden-secret" not in plan
    assert "blue-team-large-v2" in plan
    # on_apply: planning takes no lock
    assert locks.held_by(world.record(first).id) == []

    # so a second pull request plans the same project while the first has only planned
    second = world.open_pr(repo, {"app/main.tf": main_tf(state, "app", "v3")},
                           branch="second", author="carol")
    [plan2] = world.bot_comments(second)
    assert projects_listed(plan2) == [("app", "app", "default")]
    assert "blue-team-large-v3" in plan2 and "locked" not in plan2

    # a pull request into dev plans dev's entry of the same dir, which is silenced
    # for plan: no comment, the status still says it planned
    pull_dev = world.fake.open_pull(repo, branch="into-dev", base="dev", author="dave",
                                    changes={"app/main.tf": main_tf(state, "app", "dev")})
    status, _ = world.fake.deliver("pull_request",
                                   world.fake.pull_request_payload(pull_dev, "opened"))
    assert status == 202
    world.settle()
    assert world.bot_comments(pull_dev) == []
    assert world.statuses(pull_dev)["atlantis/plan"] == ("success", "1/1 projects planned")
    runs = world.service.services.pulls.latest_runs(world.record(pull_dev).id, "plan")
    assert [run.project for run in runs.values()] == ["app-dev"]

    # the first applies: now it holds the locks, and keeps them until it merges
    world.approve(first, "bob")
    applied = world.comment(first, "alice", "atlantis apply")
    assert "Apply complete! Resources: 1 added" in applied, applied
    assert "quiet" not in applied, "quiet is silenced for apply"
    assert world.statuses(first)["atlantis/apply"] == ("success", "2/2 projects applied")
    assert sorted((lock.dir, lock.project) for lock in locks.held_by(
        world.record(first).id)) == [("app", "app"), ("quiet", "quiet")]
    assert world.state_resources("quiet") == ["x"]

    # the second, approved, is refused its apply while the first holds the lock
    world.approve(second, "bob")
    refused = world.comment(second, "carol", "atlantis apply")
    assert f"#{first.number}" in refused, refused
    assert world.statuses(second)["atlantis/apply"][0] == "failure"


@pytest.mark.parametrize("keys", ["github"], indirect=True)
def test_plan_requirements_refuse_until_approved(keys: World) -> None:
    """`plan_requirements: [approved]`: the autoplan is refused naming what is
    missing, the other project plans; once approved, `atlantis plan` plans it."""
    world = keys
    state = world.state_dir
    yaml = ("version: 3\nprojects:\n- dir: guarded\n  plan_requirements: [approved]\n"
            "- dir: open\n")
    repo = world.repo({"atlantis.yaml": yaml, "guarded/main.tf": main_tf(state, "g", "v1"),
                       "open/main.tf": main_tf(state, "o", "v1")})
    pull = world.open_pr(repo, {"guarded/main.tf": main_tf(state, "g", "v2"),
                                "open/main.tf": main_tf(state, "o", "v2")})
    [plan] = world.bot_comments(pull)
    guarded, opened = plan.split("### 2. project:")
    assert "plan_requirements: approved: this commit needs 1 more approval" in guarded
    assert "Plan: 1 to add" in opened
    assert world.statuses(pull)["atlantis/plan"][0] == "failure"
    world.approve(pull, "bob")
    again = world.comment(pull, "alice", "atlantis plan -p guarded")
    assert "Plan: 1 to add" in again and "plan_requirements" not in again
