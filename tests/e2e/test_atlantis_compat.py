"""Atlantis's own end-to-end scenarios, ported (our code, their facts): a
repository moving over from Atlantis with its atlantis.yaml as it is, or with no
config at all, and Atlantis's comment grammar. Real server, fake forge, real
terraform (terraform_data instead of null_resource: no provider to download)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py import __version__
from tests.e2e.conftest import World, running_world


@pytest.fixture
def compat(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    forge = getattr(request, "param", "github")
    with running_world(tmp_path, forge, allow_custom_steps=True) as w:
        yield w


def simple_tf(state: Path, value: str = "default") -> str:
    """Atlantis's `simple` repo: a variable, resources using it, an output."""
    return (
        'terraform {\n'
        f'  backend "local" {{\n    path = "{state}/simple.tfstate"\n'
        f'    workspace_dir = "{state}/workspaces"\n  }}\n'
        '}\n\n'
        f'variable "var" {{\n  default = "{value}"\n}}\n\n'
        'resource "terraform_data" "simple" {\n  input = var.var\n}\n\n'
        'resource "terraform_data" "workspace" {\n  input = terraform.workspace\n}\n\n'
        'output "var" {\n  value = var.var\n}\n')


def projects_listed(comment: str) -> list[tuple[str, str, str]]:
    """(project, dir, workspace) of the list at the top of a "Ran Plan" comment."""
    return re.findall(r"^1\. project: `([^`]+)` dir: `([^`]+)` workspace: `([^`]+)`",
                      comment, re.MULTILINE)


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_simple_without_config(compat: World) -> None:
    """No config file: the changed root dir is the project; `-- -var NAME=VALUE`
    passes through as two words; `-w` alone plans that workspace of the root."""
    world = compat
    repo = world.repo({"main.tf": simple_tf(world.state_dir)})
    pull = world.open_pr(repo, {"main.tf": simple_tf(world.state_dir, "changed")})
    [plan] = world.bot_comments(pull)
    assert plan.startswith("Ran Plan for 1 project:")
    assert projects_listed(plan) == [("root", ".", "default")]
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan

    overridden = world.comment(pull, "alice", "atlantis plan -- -var var=overridden")
    assert '"overridden"' in overridden and "Plan: 2 to add" in overridden

    staging = world.comment(pull, "alice", "atlantis plan -w new_workspace")
    assert "workspace: `new_workspace`" in staging
    assert '"new_workspace"' in staging  # terraform.workspace as the plan shows it

    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply -p root")
    assert "Apply complete! Resources: 2 added" in applied
    assert sorted(world.state_resources("simple")) == ["simple", "workspace"]
    version = world.comment(pull, "alice", "atlantis version")
    assert version.startswith(f"atlantis-py {__version__}\n\nRan Version for project: `root`")
    assert "Terraform v" in version


SIMPLE_YAML = """\
version: 3
projects:
- dir: .
  name: default
  workflow: default
- dir: .
  name: staging
  workspace: staging
  workflow: staging
workflows:
  default:
    plan:
      steps:
      - init
      - plan:
          extra_args: [-var-file=default.tfvars]
      - run: echo postplan ws=$WORKSPACE
    apply:
      steps:
      - run: echo preapply
      - apply
      - run: echo postapply
  staging:
    plan:
      steps:
      - run: echo staging-preinit
      - init
      - plan:
          extra_args: [-var-file, staging.tfvars]
"""


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_simple_yaml_shows_every_steps_output(compat: World) -> None:
    """Atlantis's simple-yaml and tfvars-yaml repos: atlantis.yaml as it is, two
    projects on one dir with their own workflows and -var-file, and every run
    step's output in the comment beside terraform's."""
    world = compat
    state = world.state_dir
    repo = world.repo({"atlantis.yaml": SIMPLE_YAML, "main.tf": simple_tf(state),
                       "default.tfvars": 'var = "from-default-tfvars"\n',
                       "staging.tfvars": 'var = "from-staging-tfvars"\n'})
    pull = world.open_pr(repo, {"main.tf": simple_tf(state, "changed")})
    [plan] = world.bot_comments(pull)
    assert projects_listed(plan) == [("default", ".", "default"), ("staging", ".", "staging")]
    assert plan.startswith("Ran Plan for 2 projects:")
    default, staging = plan.split("### 2. project:")
    assert "postplan ws=default" in default and '"from-default-tfvars"' in default
    assert default.index("Plan: 2 to add") < default.rindex("postplan ws=default")
    assert "staging-preinit" in staging and '"from-staging-tfvars"' in staging
    assert "postplan" not in staging
    assert world.statuses(pull)["atlantis/plan"] == ("success", "2/2 projects planned")

    # atlantis.yaml names no apply_requirements: the server's --min-approvals (1) still asks one
    refused = world.comment(pull, "alice", "atlantis apply -p default")
    assert "1 more approval" in refused
    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply -p default")
    assert applied.index("preapply") < applied.index("Apply complete!") \
        < applied.index("postapply")
    assert sorted(world.state_resources("simple")) == ["simple", "workspace"]


@pytest.mark.parametrize("compat", ["github"], indirect=True)
def test_modules_without_and_with_config(compat: World) -> None:
    """Atlantis's modules and modules-yaml repos: a change to a shared module plans
    every root sourcing it; with atlantis.yaml, the project whose when_modified
    reaches the module."""
    world = compat
    state = world.state_dir

    def root(name: str) -> str:
        return (f'terraform {{\n  backend "local" {{ path = "{state}/{name}.tfstate" }}\n}}\n'
                'module "null" {\n  source = "../modules/null"\n'
                f'  var = "{name}"\n}}\n')

    module = ('variable "var" {}\nresource "terraform_data" "this" {\n  input = var.var\n}\n')
    files = {"staging/main.tf": root("staging"), "production/main.tf": root("production"),
             "modules/null/main.tf": module}
    repo = world.repo(files)
    pull = world.open_pr(repo, {"modules/null/main.tf": module + "# changed\n"})
    [plan] = world.bot_comments(pull)
    assert projects_listed(plan) == [("production", "production", "default"),
                                     ("staging", "staging", "default")]
    assert plan.count("Plan: 1 to add, 0 to change, 0 to destroy.") >= 2

    yaml = ("version: 3\nprojects:\n- dir: staging\n  autoplan:\n"
            "    when_modified: ['**/*.tf*', '../modules/null/*.tf']\n- dir: production\n"
            "  autoplan:\n    when_modified: ['**/*.tf*']\n")
    repo2 = world.repo({**files, "atlantis.yaml": yaml}, name="acme/modules-yaml")
    pull2 = world.open_pr(repo2, {"modules/null/main.tf": module + "# changed\n"})
    [plan2] = world.bot_comments(pull2)
    # production is planned too: it sources the module, which atlantis-py follows
    listed = projects_listed(plan2)
    assert ("staging", "staging", "default") in listed


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_lock_file_alone_autoplans(compat: World) -> None:
    """A provider lock file upgrade alone plans (Atlantis's default when_modified),
    with and without atlantis.yaml; a change outside every project answers
    `atlantis plan` with a plan's words, not an apply's."""
    world = compat
    lock = "# This file is maintained automatically by \"terraform init\".\n"
    repo = world.repo({"main.tf": simple_tf(world.state_dir), ".terraform.lock.hcl": lock,
                       "atlantis.yaml": "version: 3\nprojects:\n- dir: .\n"})
    pull = world.open_pr(repo, {".terraform.lock.hcl": lock + "# upgraded\n"})
    [plan] = world.bot_comments(pull)
    assert "Plan: 2 to add" in plan
    assert world.statuses(pull)["atlantis/plan"][0] == "success"

    bare = world.repo({"main.tf": simple_tf(world.state_dir), ".terraform.lock.hcl": lock},
                      name="acme/bare")
    pull2 = world.open_pr(bare, {".terraform.lock.hcl": lock + "# upgraded\n"})
    assert "Plan: 2 to add" in world.bot_comments(pull2)[0]

    docs = world.open_pr(bare, {"README.md": "docs\n"}, branch="docs")
    assert world.bot_comments(docs) == []
    answer = world.comment(docs, "alice", "atlantis plan")
    assert answer.startswith("Ran Plan for 0 projects")
    assert "No plans to apply" not in answer


@pytest.mark.parametrize("compat", ["github"], indirect=True)
def test_unsupported_atlantis_key_is_a_config_error(compat: World) -> None:
    world = compat
    repo = world.repo({"main.tf": simple_tf(world.state_dir),
                       "atlantis.yaml": ("version: 3\nprojects:\n- dir: .\n"
                                         "  policy_check: false\n")})
    pull = world.open_pr(repo, {"main.tf": simple_tf(world.state_dir, "x")})
    [error] = world.bot_comments(pull)
    assert "atlantis.yaml" in error and "line: 4" in error
    assert "projects[0].policy_check" in error
    assert "not supported" in error
    both = world.repo({"main.tf": simple_tf(world.state_dir), "atlantis.yaml": "version: 3\n",
                       "workflows.yaml": "version: 1\n"}, name="acme/both")
    pull2 = world.open_pr(both, {"main.tf": simple_tf(world.state_dir, "x")})
    [error2] = world.bot_comments(pull2)
    assert "workflows.yaml would win" in error2


TFVARS_YAML = """\
version: 3
projects:
- dir: .
  name: default
  workflow: default
- dir: .
  name: staging
  workflow: staging
workflows:
  default:
    plan:
      steps:
      - init:
          extra_args: [-backend-config=default.backend.tfvars]
      - plan:
          extra_args: [-var-file=default.tfvars]
  staging:
    plan:
      steps:
      - init:
          extra_args: [-backend-config, staging.backend.tfvars]
      - plan:
          extra_args: [-var-file, staging.tfvars]
"""


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_tfvars_yaml_two_projects_share_a_dir_and_workspace(compat: World) -> None:
    """Atlantis's tfvars-yaml repo: `default` and `staging` both on `.`/`default`,
    each with its own -backend-config and -var-file: one plan file, result line and
    state each; one pull request holds the dir's lock for both, another waits."""
    world = compat
    state = world.state_dir
    main = ('terraform {\n  backend "local" {}\n}\n\nvariable "var" {}\n\n'
            'resource "terraform_data" "simple" {\n  input = var.var\n}\n\n'
            'output "var" {\n  value = var.var\n}\n')
    repo = world.repo({
        "atlantis.yaml": TFVARS_YAML, "main.tf": main,
        "default.backend.tfvars": f'path = "{state}/default.tfstate"\n',
        "staging.backend.tfvars": f'path = "{state}/staging.tfstate"\n',
        "default.tfvars": 'var = "default"\n', "staging.tfvars": 'var = "staging"\n'})
    pull = world.open_pr(repo, {"main.tf": main + "# changed\n"})
    [plan] = world.bot_comments(pull)
    assert plan.startswith("Ran Plan for 2 projects:")
    assert projects_listed(plan) == [("default", ".", "default"), ("staging", ".", "default")]
    default, staging = plan.split("### 2. project:")
    assert '"default"' in default and '"staging"' not in default
    assert '"staging"' in staging and '"default"' not in staging
    assert "atlantis apply -p default" in default and "atlantis apply -p staging" in staging
    assert world.statuses(pull)["atlantis/plan"] == ("success", "2/2 projects planned")
    held = world.service.services.locks.held_by(world.record(pull).id)
    assert [(lock.dir, lock.workspace) for lock in held] == [(".", "default")]

    other = world.open_pr(repo, {"main.tf": main + "# other\n"}, branch="other",
                          author="carol")
    [locked] = world.bot_comments(other)
    assert locked.count(f"#{pull.number}") >= 2

    # -d . plans both again, as Atlantis does for every project on the dir
    again = world.comment(pull, "alice", "atlantis plan -d .")
    assert projects_listed(again) == [("default", ".", "default"), ("staging", ".", "default")]

    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert applied.count("Apply complete! Resources: 1 added") == 2, applied
    assert world.state_resources("default") == ["simple"]
    assert world.state_resources("staging") == ["simple"]
    assert world.statuses(pull)["atlantis/apply"] == ("success", "2/2 projects applied")
