"""Atmos stacks and deleted projects through the webhook path, with real terraform.

A catalog change plans the stacks it reaches (reasons in the comment) with the
merged vars as a .tfvars.json; removing a stack file plans a destroy from the
base commit, which needs approval and then empties that stack's state. A
deleted plain directory is destroyed the same way."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.conftest import World, tf_project
from tests.fakeforge.neutral import NeutralPull

ATMOS_YAML = """\
components:
  terraform:
    base_path: components/terraform
stacks:
  base_path: stacks
  included_paths: ["deploy/**/*"]
  excluded_paths: ["**/_defaults.yaml"]
  name_pattern: "{stage}"
"""

CATALOG = """\
components:
  terraform:
    app:
      vars:
        x: {x}
"""

DEV = """\
import: [catalog/app]
vars:
  stage: dev
"""

PROD = """\
import: [catalog/app]
vars:
  stage: prod
components:
  terraform:
    app:
      vars:
        x: prod-value
"""


def component(state_dir: Path, note: str = "") -> str:
    """A component whose resource input is var.x; each stack's state lives
    outside the worktree (workspace_dir), so it survives checkouts."""
    return (
        f"# {note}\n"
        "terraform {\n"
        '  backend "local" {\n'
        f'    path          = "{state_dir}/app-default.tfstate"\n'
        f'    workspace_dir = "{state_dir}/app"\n'
        "  }\n"
        "}\n\n"
        'variable "x" {\n  type = string\n}\n\n'
        'variable "stage" {\n  type = string\n}\n\n'
        'resource "terraform_data" "app" {\n  input = "${var.stage}:${var.x}"\n}\n'
    )


def atmos_files(world: World) -> dict[str, str]:
    return {
        "atmos.yaml": ATMOS_YAML,
        "stacks/catalog/app.yaml": CATALOG.format(x="one"),
        "stacks/deploy/dev.yaml": DEV,
        "stacks/deploy/prod.yaml": PROD,
        "components/terraform/app/main.tf": component(world.state_dir),
    }


def stack_state(world: World, stack: str) -> list[object]:
    """The `input` of every terraform_data in a stack's state."""
    path = world.state_dir / "app" / stack / "terraform.tfstate"
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    return [inst["attributes"]["input"]["value"] for r in data.get("resources", [])
            for inst in r.get("instances", [])]


def merge(world: World, pull: NeutralPull) -> None:
    world.fake.close_pull(pull, merged=True)
    world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "closed"))
    world.settle()


def test_atmos_plan_apply_then_destroy_a_removed_stack(world: World) -> None:
    repo = world.repo(atmos_files(world))

    first = world.open_pr(repo, {
        "stacks/catalog/app.yaml": CATALOG.format(x="two"),
        "components/terraform/app/main.tf": component(world.state_dir, "touched"),
    })
    plan = world.bot_comments(first)[0]
    assert "Ran Plan for 2 projects" in plan
    assert "project: `dev-app` dir: `components/terraform/app` workspace: `dev`" in plan
    assert "project: `prod-app` dir: `components/terraform/app` workspace: `prod`" in plan
    assert "**Why planned:** `stack.vars`, `component`" in plan  # dev: catalog value + code
    assert "**Why planned:** `component`" in plan  # prod overrides x: only the code changed
    assert '"dev:two"' in plan and '"prod:prod-value"' in plan  # vars reached terraform
    assert world.statuses(first)["atlantis/plan"] == ("success", "2/2 projects planned")

    world.approve(first, "bob")
    applied = world.comment(first, "alice", "atlantis apply")
    assert "Error" not in applied, applied
    assert stack_state(world, "dev") == ["dev:two"]
    assert stack_state(world, "prod") == ["prod:prod-value"]
    merge(world, first)

    second = world.open_pr(repo, {"stacks/deploy/prod.yaml": None}, branch="drop-prod")
    plan = world.bot_comments(second)[0]
    assert "Ran Plan for 1 project" in plan
    assert "workspace: `prod` **(destroy)**" in plan
    assert ("**This project will be DESTROYED** because `stacks/deploy/prod.yaml` was removed"
            in plan)
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in plan
    record = world.service.services.pulls.get("github", "acme/infra", second.number)
    assert record is not None
    [run] = world.service.services.pulls.runs(record.id, "plan")
    assert run.deleted and run.source_sha and run.source_sha != second.head_sha
    assert run.reasons == ("deleted", "stack file removed: stacks/deploy/prod.yaml")

    refused = world.comment(second, "alice", "atlantis apply")
    assert "1 more approval" in refused
    assert stack_state(world, "prod") == ["prod:prod-value"]

    world.approve(second, "bob")
    applied = world.comment(second, "alice", "atlantis apply")
    assert "Error" not in applied, applied
    assert "(destroy)" in applied
    assert stack_state(world, "prod") == []
    assert stack_state(world, "dev") == ["dev:two"]


def test_plan_by_name_of_an_unaffected_atmos_instance(world: World) -> None:
    repo = world.repo(atmos_files(world))
    pull = world.open_pr(repo, {"README.md": "docs only\n"})
    assert world.bot_comments(pull) == []
    reply = world.comment(pull, "alice", "atlantis plan -p prod-app")
    assert "project: `prod-app`" in reply
    assert '"prod:prod-value"' in reply
    missing = world.comment(pull, "alice", "atlantis plan -p nope-app")
    assert "No Atmos project `nope-app`" in missing


def test_broken_stack_is_reported_and_nothing_planned(world: World) -> None:
    repo = world.repo(atmos_files(world))
    pull = world.open_pr(repo, {"stacks/deploy/dev.yaml": "import: [catalog/missing]\n"})
    [comment] = world.bot_comments(pull)
    assert "Plan not run" in comment and "stacks/deploy/dev.yaml" in comment
    assert world.statuses(pull)["atlantis/plan"][0] == "failure"


def test_deleted_plain_directory_is_destroyed(world: World) -> None:
    files = {"network/main.tf": tf_project(world.state_dir, "network"),
             "old/main.tf": tf_project(world.state_dir, "old")}
    scratch = world.state_dir.parent / "bootstrap-old"
    scratch.mkdir()
    (scratch / "main.tf").write_text(files["old/main.tf"])
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *args], cwd=scratch, check=True, capture_output=True)
    assert world.state_resources("old") == ["old"]

    repo = world.repo(files)
    pull = world.open_pr(repo, {"old/main.tf": None})
    plan = world.bot_comments(pull)[0]
    assert "project: `old` dir: `old` workspace: `default` **(destroy)**" in plan
    assert "will be DESTROYED** because `old` was removed" in plan
    assert "1 to destroy" in plan

    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Error" not in applied, applied
    assert world.state_resources("old") == []


def test_vars_only_atmos_can_resolve_are_named_not_passed(world: World) -> None:
    repo = world.repo(atmos_files(world))
    dev = DEV + ("components:\n  terraform:\n    app:\n      vars:\n"
                 "        peer_arn: !terraform.output network dev arn\n")
    pull = world.open_pr(repo, {"stacks/deploy/dev.yaml": dev})
    [plan] = world.bot_comments(pull)
    assert "project: `dev-app`" in plan and "prod-app" not in plan
    assert "**Not passed to terraform**" in plan and "`peer_arn`" in plan
    assert world.statuses(pull)["atlantis/plan"] == ("success", "1/1 projects planned")


STACK_ENVIRONMENTS = """\
version: 1
environments:
  production:
    required_approvals: 2
    stacks: [prod]
  dev:
    required_approvals: 1
    stacks: ["*"]
"""


def test_stack_globs_on_the_base_branch_pick_each_instance_environment(world: World) -> None:
    repo = world.repo(atmos_files(world) | {"workflows.yaml": STACK_ENVIRONMENTS})
    # the PR also tries to move prod into the laxer environment, with a project entry
    lax = STACK_ENVIRONMENTS + ("projects:\n  - dir: components/terraform/app\n"
                                "    workspace: prod\n    environment: dev\n")
    pull = world.open_pr(repo, {"stacks/catalog/app.yaml": CATALOG.format(x="two"),
                                "components/terraform/app/main.tf":
                                    component(world.state_dir, "touched"),
                                "workflows.yaml": lax})
    assert "Ran Plan for 2 projects" in world.bot_comments(pull)[0]
    record = world.record(pull)
    envs = {r.project: r.environment
            for r in world.service.services.pulls.latest_runs(record.id, "plan").values()}
    assert envs == {"dev-app": "dev", "prod-app": "production"}

    world.approve(pull, "bob")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "Environment `production`" in refused and "1 more approval" in refused
    assert stack_state(world, "prod") == []
    world.approve(pull, "carol")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "Apply refused" not in applied
    assert stack_state(world, "prod") == ["prod:prod-value"]
