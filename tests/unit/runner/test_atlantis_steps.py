"""atlantis.yaml's steps beyond init/plan/apply/run/env: show, version, multienv,
env with a command, and a run step's output and shell options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlantis_py.domain.projects import Project, Step, Workflow
from atlantis_py.domain.results import RunStatus
from atlantis_py.runner.multienv import parse_multienv, strip_refreshing
from atlantis_py.runner.steps import SHELL_DISABLED
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.workflow import run_plan
from tests.unit.runner.conftest import BACKEND, TF_DATA, local_backend_workflow

PROJECT = Project(name="infra", dir="infra")


def with_steps(state: Path, *steps: Step) -> Workflow:
    """init, `steps`, then plan (its saved plan is what the workflow must leave)."""
    return local_backend_workflow(state, *steps, Step("plan"))


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "checkout"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(BACKEND + TF_DATA.format(value="a"))
    return root


@pytest.mark.parametrize("text, expected", [
    ("A=1,B=two\n", {"A": "1", "B": "two"}),
    ('A="x,y",B=\'it is\',C=', {"A": "x,y", "B": "it is", "C": ""}),
    ('Q="say \\"hi\\""', {"Q": 'say "hi"'}),
    ("", {}),
])
def test_multienv_lines(text: str, expected: dict[str, str]) -> None:
    assert parse_multienv(text) == expected


@pytest.mark.parametrize("text, message", [
    ("just words", "expected NAME=VALUE"),
    ("BAD NAME=1", "is not a variable name"),
    ('A="open', "no closing"),
    ('A="x"y', "expected ','"),
])
def test_multienv_refuses_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_multienv(text)


def test_strip_refreshing_keeps_what_follows_the_last_refresh() -> None:
    out = "header\na: Refreshing state... [id=1]\nb: Refreshing state... [id=2]\nPlan: 1\n"
    assert strip_refreshing(out) == "Plan: 1\n"
    assert strip_refreshing("Plan: 1\n") == "Plan: 1\n"


def test_multienv_env_command_and_hidden_run(tf: Terraform, tmp_path: Path,
                                             worktree: Path) -> None:
    """multienv's variables and an env command's reach later steps; the comment
    lists multienv's names, not values, and a hidden run step shows nothing."""
    workflow = with_steps(
        tmp_path / "state",
        Step("multienv", run="printf 'COLOUR=blue,SIZE=\"x,l\"'"),
        Step("env", env_name="WHO", run="printf '%s' $COLOUR-$WORKSPACE"),
        Step("run", run="printf 'secret-%s' $SIZE", output="hide"),
        Step("run", run="printf '%s|%s' $WHO $SIZE"),
        Step("multienv", run="printf HIDDEN=1", output="hide"),
    )
    result = run_plan(PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf,
                      allow_custom_steps=True)
    assert result.status is RunStatus.SUCCESS, (result.error, result.output)
    assert result.output.startswith("Dynamic environment variables added:\nCOLOUR\nSIZE\n")
    assert "blue-default|x,l" in result.output
    assert "secret" not in result.output and "HIDDEN" not in result.output
    assert "blue" not in result.output.split("blue-default")[0]


def test_multienv_output_it_cannot_read_fails_the_plan(tf: Terraform, tmp_path: Path,
                                                       worktree: Path) -> None:
    workflow = local_backend_workflow(tmp_path / "state", Step("multienv", run="echo oops"))
    result = run_plan(PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf,
                      allow_custom_steps=True)
    assert result.status is RunStatus.FAILURE
    assert result.error is not None and result.error.startswith("multienv: expected NAME=VALUE")


def test_strip_refreshing_run_output(tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    workflow = with_steps(
        tmp_path / "state",
        Step("run", run="printf 'x: Refreshing state... [id=1]\\nkept\\n'",
             output="strip_refreshing"))
    result = run_plan(PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf,
                      allow_custom_steps=True)
    assert result.status is RunStatus.SUCCESS, result.error
    assert "kept" in result.output and "Refreshing" not in result.output


def test_show_writes_showfile_and_version_shows(tf: Terraform, tmp_path: Path,
                                                worktree: Path) -> None:
    base = local_backend_workflow(tmp_path / "state")
    workflow = Workflow("w", plan=(*base.plan, Step("show"), Step("version"),
                                   Step("run", run="cat $SHOWFILE")), apply=base.apply)
    plan_file = tmp_path / "plans" / "p.tfplan"
    result = run_plan(PROJECT, workflow, worktree, plan_file, tf, allow_custom_steps=True)
    assert result.status is RunStatus.SUCCESS, (result.error, result.output)
    shown = json.loads(plan_file.with_suffix(".show.json").read_text())
    assert [c["type"] for c in shown["resource_changes"]] == ["terraform_data"]
    assert "Terraform v" in result.output
    assert '"resource_changes"' in result.output


def test_show_before_plan_fails(tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    workflow = Workflow("w", plan=(Step("show"),), apply=())
    result = run_plan(PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf)
    assert result.status is RunStatus.FAILURE
    assert result.error is not None and "put `show` after `plan`" in result.error


def test_shell_only_with_allow_custom_steps(tf: Terraform, tmp_path: Path,
                                            worktree: Path) -> None:
    """`shell` runs [shell, *shellArgs, command]; a trusted (server) step with a
    shell is still refused unless the server allows custom steps."""
    trusted = with_steps(tmp_path / "state",
                         Step("run", run="echo x", shell=("sh", "-c"), trusted=True))
    refused = run_plan(PROJECT, trusted, worktree, tmp_path / "q.tfplan", tf)
    assert refused.status is RunStatus.FAILURE and refused.error == SHELL_DISABLED
    assert not (worktree / "infra" / ".terraform").exists(), "nothing runs when refused"
    step = Step("run", run="echo piped | tr a-z A-Z", shell=("sh", "-c"))
    ran = run_plan(PROJECT, with_steps(tmp_path / "state", step), worktree,
                   tmp_path / "p.tfplan", tf, allow_custom_steps=True)
    assert ran.status is RunStatus.SUCCESS, ran.error
    assert "PIPED" in ran.output
    no_shell = with_steps(tmp_path / "state", Step("run", run="echo piped | tr a-z A-Z"))
    plain = run_plan(PROJECT, no_shell, worktree, tmp_path / "r.tfplan", tf,
                     allow_custom_steps=True)
    assert "piped | tr a-z A-Z" in plain.output, "without a shell a pipe is just words"
