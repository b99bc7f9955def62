"""Project selection from a detection result: pure, table-driven."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from atlantis_py.core.detect.atmos import AffectedProject
from atlantis_py.core.selection import (
    Detection,
    environment_of,
    project_for,
    select_detected,
    select_projects,
    to_project,
    wanted,
)
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import RunRecord
from atlantis_py.domain.results import RunStatus
from atlantis_py.runner.workflow import plan_arguments

DEV = Project("dev-app", "components/terraform/app", "dev", reasons=("stack.vars",))
GONE = Project("prod-app", "components/terraform/app", "prod", deleted=True,
               reasons=("deleted", "stack file removed: stacks/prod.yaml"), source_ref="b" * 40)
STAGING = Project("staging-app", "components/terraform/app", "staging")
ATMOS = Detection(True, "b" * 40, (DEV, GONE), (DEV, STAGING))


def cmd(project: str | None = None, dir: str | None = None, workspace: str | None = None
        ) -> Command:
    return Command(name=CommandName.PLAN, project=project, dir=dir, workspace=workspace)


@pytest.mark.parametrize(("command", "names", "problem"), [
    (None, ["dev-app", "prod-app"], None),
    (cmd(), ["dev-app", "prod-app"], None),
    (cmd("prod-app"), ["prod-app"], None),
    (cmd("staging-app"), ["staging-app"], None),
    (cmd(dir="components/terraform/app", workspace="staging"), ["staging-app"], None),
    (cmd("nope"), [], "no Atmos project `nope`"),
])
def test_atmos_selection(command: Command | None, names: list[str],
                         problem: str | None, tmp_path: Path) -> None:
    selection = select_detected(ATMOS, RepoConfig(), tmp_path, [], command)
    assert [p.name for p in selection.projects] == names
    if problem is None:
        assert selection.problem is None
    else:
        assert selection.problem is not None and problem in selection.problem


def test_plain_selection_adds_deleted_dirs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.tf").write_text("")
    old = Project("old", "old", deleted=True, reasons=("deleted", "no *.tf left in old"),
                  source_ref="c" * 40)
    found = Detection(False, "c" * 40, (old,))
    selection = select_detected(found, RepoConfig(), tmp_path, ["a/main.tf", "old/main.tf"], None)
    assert [(p.name, p.deleted) for p in selection.projects] == [("a", False), ("old", True)]
    picked = select_detected(found, RepoConfig(), tmp_path, [], cmd("old"))
    assert picked.projects == [old]


def test_to_project_writes_vars_and_keeps_config() -> None:
    found = AffectedProject("dev-app", "app", "dev", "components/terraform/app", "dev",
                            ("stack.vars",), vars=MappingProxyType({"x": 1, "stage": "dev"}))
    config = RepoConfig(projects=(Project("custom", "components/terraform/app", "dev",
                                          environment="prod"),), explicit=True)
    project = to_project(found, config, "d" * 40)
    assert (project.name, project.environment, project.source_ref) == ("dev-app", "prod", None)
    assert project.vars_json == '{\n  "stage": "dev",\n  "x": 1\n}\n'
    gone = to_project(AffectedProject("old", None, None, "old", "default",
                                      ("deleted",), deleted=True), RepoConfig(), "d" * 40)
    assert (gone.name, gone.vars_json, gone.source_ref) == ("old", None, "d" * 40)


def test_plan_arguments(tmp_path: Path) -> None:
    plan = tmp_path / "p.tfplan"
    assert plan_arguments(Project("a", "a"), plan) == ()
    args = plan_arguments(Project("a", "a", deleted=True, vars_json="{}\n"), plan)
    assert args == ("-destroy", f"-var-file={tmp_path / 'p.tfvars.json'}", "-compact-warnings")
    assert (tmp_path / "p.tfvars.json").read_text() == "{}\n"


def _run(project: str, dir: str, workspace: str = "default") -> RunRecord:
    return RunRecord(id=1, pull_id=1, project=project, dir=dir, workspace=workspace,
                     command="plan", head_sha="a" * 40, status=RunStatus.SUCCESS, output="",
                     error=None, counts=None, plan_path="", actor="alice", finished_at=None)


@pytest.mark.parametrize(("command", "picked"), [
    (Command(CommandName.APPLY), {"net", "net-staging", "dns"}),
    (Command(CommandName.APPLY, project="dns"), {"dns"}),
    (Command(CommandName.APPLY, dir="net"), {"net"}),
    (Command(CommandName.APPLY, dir="net", workspace="staging"), {"net-staging"}),
    (Command(CommandName.APPLY, project="nope"), set()),
])
def test_apply_takes_the_named_plans(command: Command, picked: set[str]) -> None:
    runs = [_run("net", "net"), _run("net-staging", "net", "staging"), _run("dns", "dns")]
    assert {r.project for r in runs if wanted(r, command)} == picked


@pytest.mark.parametrize(("command", "names", "problem"), [
    (None, ["b"], None),
    (cmd(project="a"), ["a"], None),
    (cmd(project="missing"), [], "no project named `missing` in this repository"),
    (cmd(dir="a"), ["a"], None),
    (cmd(dir="a", workspace="staging"), ["a-staging"], None),
    (cmd(dir="empty"), [], "`empty` holds no Terraform (*.tf) files"),
])
def test_plain_selection_by_flag(tmp_path: Path, command: Command | None, names: list[str],
                                 problem: str | None) -> None:
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "main.tf").write_text("# x\n")
    (tmp_path / "empty").mkdir()
    found = select_projects(RepoConfig(explicit=False), tmp_path, ["b/main.tf"], command)
    assert [p.name for p in found.projects] == names
    assert found.problem == problem


SHARED = RepoConfig(projects=(Project("default", ".", workflow="default", environment="dev"),
                              Project("staging", ".", workflow="staging", environment="prod"),
                              Project("other", "other")), explicit=True)


@pytest.mark.parametrize(("command", "names"), [
    (cmd(dir="."), ["default", "staging"]),
    (cmd(workspace="default", dir="."), ["default", "staging"]),
    (cmd(project="staging"), ["staging"]),
])
def test_projects_sharing_a_dir_and_workspace_are_all_picked(
        tmp_path: Path, command: Command, names: list[str]) -> None:
    (tmp_path / "main.tf").write_text("# x\n")
    found = select_projects(SHARED, tmp_path, [], command)
    assert [p.name for p in found.projects] == names


def test_shared_dir_projects_keep_their_own_workflow_and_environment() -> None:
    staging = _run("staging", ".")
    assert project_for(staging, SHARED).workflow == "staging"
    assert project_for(_run("default", "."), SHARED).workflow == "default"
    assert environment_of(SHARED.projects[1], SHARED, SHARED) == "prod"
    assert environment_of(SHARED.projects[0], SHARED, SHARED) == "dev"
    # a project the rules don't name on that dir takes the dir's first entry
    assert environment_of(Project("new", "."), RepoConfig(), SHARED) == "dev"
