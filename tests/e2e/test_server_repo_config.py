"""Atlantis's "server-side repos.yaml with allowed_overrides and hooks" scenario,
ported (our code, their facts): the real server started with --repo-config
against the fake forges, real git and real terraform.

The server's default workflow runs for every repository (its `run` step runs
although the server does not allow repositories' custom steps: the
administrator wrote it), a repository may pick another server workflow
(allowed_overrides: [workflow]) but not set what it is not allowed to, a
pre workflow hook writes a tfvars file the plan then reads, a post hook
records every command, a failing pre hook stops the plan with its output,
and pull requests into other base branches are told they are not planned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.core.config.server import parse_server_config
from tests.e2e.conftest import World, running_world
from tests.e2e.test_atlantis_compat import projects_listed, simple_tf

REPOS_YAML = """\
repos:
- id: /.*/
  branch: /^main$/
  workflow: server
  allowed_overrides: [workflow]
  allowed_workflows: [server, other]
  pre_workflow_hooks:
  - run: [sh, -c, 'echo "var = \\"from-pre-hook-$PULL_NUM\\"" > "$DIR/generated.auto.tfvars"']
    description: generate tfvars
  - run: echo pre-hook for $HEAD_REPO_OWNER/$HEAD_REPO_NAME
  post_workflow_hooks:
  - run: [sh, -c, 'echo "$COMMAND_NAME $COMMAND_HAS_ERRORS $PULL_AUTHOR $BASE_BRANCH_NAME" >> {log}']
    description: record
- id: /acme.guarded$/
  plan_requirements: [approved]
  repo_locks: {mode: disabled}
- id: 127.0.0.1/acme/broken
  pre_workflow_hooks:
  - run: [sh, -c, 'echo "cannot reach the inventory"; exit 3']
    description: inventory check
    commands: plan
workflows:
  server:
    plan:
      steps: [init, {run: echo server-workflow-ran}, plan]
  other:
    plan:
      steps: [init, {run: echo other-workflow-ran}, plan]
"""


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    forge = getattr(request, "param", "github")
    text = REPOS_YAML.replace("{log}", str(tmp_path / "post-hooks.log"))
    config = parse_server_config(text, str(tmp_path / "repos.yaml"))
    with running_world(tmp_path, forge, repo_config=config) as w:  # no --allow-custom-steps
        yield w


def post_log(world: World) -> list[str]:
    path = world.state_dir.parent / "post-hooks.log"
    return path.read_text().splitlines() if path.exists() else []


FORGES = pytest.mark.parametrize("served", ["github", "gitlab"], indirect=True)


@FORGES
def test_server_workflow_and_hooks_around_plan_and_apply(served: World) -> None:
    world = served
    repo = world.repo({"main.tf": simple_tf(world.state_dir)})
    pull = world.open_pr(repo, {"main.tf": simple_tf(world.state_dir, "changed")})
    [plan] = world.bot_comments(pull)
    assert projects_listed(plan) == [("root", ".", "default")]
    assert "server-workflow-ran" in plan                      # the server's default workflow
    assert f'"from-pre-hook-{pull.number}"' in plan           # the pre hook wrote its tfvars
    assert "Plan: 2 to add" in plan
    assert "pre-hook for" not in plan                          # hooks' output: the log only
    assert post_log(world) == ["plan false alice main"]

    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Apply complete! Resources: 2 added" in applied
    assert post_log(world)[-1] == "apply false alice main"


@FORGES
def test_allowed_and_disallowed_overrides(served: World) -> None:
    world = served
    chooses = "version: 3\nprojects:\n- dir: .\n  workflow: other\n"
    repo = world.repo({"main.tf": simple_tf(world.state_dir), "atlantis.yaml": chooses},
                      name="acme/chooses")
    pull = world.open_pr(repo, {"main.tf": simple_tf(world.state_dir, "x")})
    [plan] = world.bot_comments(pull)
    assert "other-workflow-ran" in plan and "server-workflow-ran" not in plan

    lowers = "version: 3\nprojects:\n- dir: .\n  apply_requirements: []\n"
    repo2 = world.repo({"main.tf": simple_tf(world.state_dir), "atlantis.yaml": lowers},
                       name="acme/lowers")
    pull2 = world.open_pr(repo2, {"main.tf": simple_tf(world.state_dir, "x")})
    [error] = world.bot_comments(pull2)
    assert error.startswith("**Invalid repository configuration**")
    assert "`atlantis.yaml`" in error and "line: 4" in error
    assert "`projects[0].apply_requirements`" in error
    assert "the server does not allow this repository to set `apply_requirements`" in error
    assert world.statuses(pull2)["atlantis/plan"][0] == "failure"

    own = ("version: 3\nprojects:\n- dir: .\n  workflow: mine\n"
           "workflows:\n  mine:\n    plan:\n      steps: [init, plan]\n")
    repo3 = world.repo({"main.tf": simple_tf(world.state_dir), "atlantis.yaml": own},
                       name="acme/own")
    pull3 = world.open_pr(repo3, {"main.tf": simple_tf(world.state_dir, "x")})
    [error3] = world.bot_comments(pull3)
    assert "`workflows`" in error3 and "line: 5" in error3
    assert "allow_custom_workflows: true" in error3


@FORGES
def test_branch_regex_refuses_other_bases_once_and_failing_pre_hook(served: World) -> None:
    world = served
    repo = world.repo({"main.tf": simple_tf(world.state_dir)})
    repo.git.commit("develop", {"README.md": "dev\n"}, "Start develop",
                    start="refs/heads/main")
    pull = world.fake.open_pull(repo, branch="feature", base="develop",
                                changes={"main.tf": simple_tf(world.state_dir, "x")})
    assert world.fake.deliver("pull_request",
                              world.fake.pull_request_payload(pull, "opened"))[0] == 202
    world.settle()
    [refused] = world.bot_comments(pull)
    assert "Not planned" in refused and "`/^main$/`" in refused and "`develop`" in refused
    world.push(pull, {"main.tf": simple_tf(world.state_dir, "y")})
    assert len(world.bot_comments(pull)) == 1                 # said once, not at every push
    answer = world.comment(pull, "alice", "atlantis plan")   # a command is always answered
    assert "Not planned" in answer
    assert post_log(world) == []                              # nothing ran, no hook either

    broken = world.repo({"main.tf": simple_tf(world.state_dir)}, name="acme/broken")
    pull2 = world.open_pr(broken, {"main.tf": simple_tf(world.state_dir, "x")})
    [failed] = world.bot_comments(pull2)
    assert failed.startswith("**Pre workflow hook failed: inventory check**")
    assert "exited with code 3, so nothing was planned" in failed
    assert "cannot reach the inventory" in failed
    assert world.statuses(pull2)["atlantis/plan"] == ("failure", "a pre workflow hook failed")
    assert world.service.services.pulls.latest_runs(world.record(pull2).id, "plan") == {}


def test_the_server_does_not_start_with_an_invalid_repos_yaml(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from atlantis_py.cli import main

    bad = tmp_path / "repos.yaml"
    bad.write_text("repos:\n- id: /.*/\n  pre_workflow_hooks:\n  - run: ./x.sh\n"
                   "    shell: bash\n")
    code = main(["server", "--repo-config", str(bad), "--data-dir", str(tmp_path / "d"),
                 "--port", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--repo-config: {bad}:5: repos[0].pre_workflow_hooks[0].shell:" in err
    assert "without a shell" in err
    assert not (tmp_path / "d").exists()  # stopped before it made anything


@FORGES
def test_server_plan_requirements_and_repo_locks(served: World) -> None:
    """repos.yaml's `plan_requirements: [approved]` and `repo_locks: {mode:
    disabled}` for a repository without a file: its autoplan is refused naming
    the requirement, and once approved two pull requests plan the same dir
    (no lock), as Atlantis does."""
    world = served
    repo = world.repo({"main.tf": simple_tf(world.state_dir)}, name="acme/guarded")
    first = world.open_pr(repo, {"main.tf": simple_tf(world.state_dir, "one")})
    [refused] = world.bot_comments(first)
    assert "plan_requirements: approved: this commit needs 1 more approval" in refused
    assert world.statuses(first)["atlantis/plan"][0] == "failure"
    world.approve(first, "bob")
    assert "Plan: 2 to add" in world.comment(first, "alice", "atlantis plan")
    locks = world.service.services.locks
    assert locks.held_by(world.record(first).id) == []
    second = world.open_pr(repo, {"main.tf": simple_tf(world.state_dir, "two")},
                           author="dave", branch="other")
    world.approve(second, "bob")
    assert "Plan: 2 to add" in world.comment(second, "dave", "atlantis plan")
