"""Plan and apply workflows end to end: real git worktree, real terraform."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from atlantis_py.domain.projects import DEFAULT_WORKFLOW, Project, Step, Workflow
from atlantis_py.domain.results import PlanCounts, RunStatus
from atlantis_py.runner.output import streaming_to
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.workflow import (
    CUSTOM_STEPS_DISABLED,
    run_apply,
    run_plan,
    run_state_command,
)
from atlantis_py.runner.workspace import Workspaces
from tests.unit.runner.conftest import BACKEND, TF_DATA, Origin, local_backend_workflow
from tests.unit.runner.test_output import Lines

PROJECT = Project(name="infra", dir="infra")


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """A plain directory standing in for a checkout, with one project."""
    root = tmp_path / "checkout"
    (root / "infra").mkdir(parents=True)
    (root / "infra" / "main.tf").write_text(BACKEND + TF_DATA.format(value="a"))
    return root


@pytest.fixture
def workflow(tmp_path: Path) -> Workflow:
    return local_backend_workflow(tmp_path / "state")


def _state_types(path: Path) -> list[str]:
    return [r["type"] for r in json.loads(path.read_text())["resources"]]


def test_plan_then_apply(tf: Terraform, tmp_path: Path, worktree: Path, workflow: Workflow) -> None:
    plan_file = tmp_path / "plans" / "infra.tfplan"
    result = run_plan(PROJECT, workflow, worktree, plan_file, tf, head_sha="a" * 40)
    assert result.status is RunStatus.SUCCESS, result.error
    assert result.counts == PlanCounts(add=1)
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in result.output
    assert (result.project, result.dir, result.command, result.head_sha) == (
        "infra",
        "infra",
        "plan",
        "a" * 40,
    )
    assert plan_file.is_file()

    applied = run_apply(PROJECT, workflow, worktree, plan_file, tf)
    assert applied.status is RunStatus.SUCCESS, applied.output
    assert "Apply complete! Resources: 1 added" in applied.output
    assert _state_types(tmp_path / "state" / "terraform.tfstate") == ["terraform_data"]
    assert not plan_file.exists()

    again = run_apply(PROJECT, workflow, worktree, plan_file, tf)
    assert again.status is RunStatus.FAILURE and again.error == "no saved plan"


def test_no_changes(tf: Terraform, tmp_path: Path, worktree: Path, workflow: Workflow) -> None:
    (worktree / "infra" / "main.tf").write_text(BACKEND)
    result = run_plan(PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf)
    assert result.status is RunStatus.SUCCESS, result.output
    assert result.counts == PlanCounts() and not result.counts.has_changes


def test_syntax_error_fails_with_terraforms_message(
    tf: Terraform, tmp_path: Path, worktree: Path, workflow: Workflow
) -> None:
    plan_file = tmp_path / "p.tfplan"
    plan_file.write_text("an older plan")
    (worktree / "infra" / "broken.tf").write_text('resource "terraform_data" {\n')
    result = run_plan(PROJECT, workflow, worktree, plan_file, tf)
    assert result.status is RunStatus.FAILURE
    assert result.error == "init failed (exit 1)"
    assert "Error:" in result.output and "broken.tf" in result.output
    assert not plan_file.exists()


def test_plan_error_names_the_plan_step(tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    workflow = local_backend_workflow(tmp_path / "state", Step("plan"))
    (worktree / "infra" / "bad.tf").write_text('output "o" { value = var.missing }\n')
    result = run_plan(PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf)
    assert result.status is RunStatus.FAILURE
    assert result.error == "plan failed (exit 1)"
    assert "Reference to undeclared input variable" in result.output


def test_comment_extra_args_reach_plan(
    tf: Terraform, tmp_path: Path, worktree: Path, workflow: Workflow
) -> None:
    (worktree / "infra" / "two.tf").write_text(TF_DATA.replace('"x"', '"y"').format(value="b"))
    result = run_plan(
        PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf,
        extra_args=["-target=terraform_data.y"],
    )  # fmt: skip
    assert result.status is RunStatus.SUCCESS, result.output
    assert result.counts == PlanCounts(add=1)


def test_run_steps_are_off_by_default(tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    workflow = Workflow("custom", plan=(Step("init"), Step("run", run="touch ran")), apply=())
    result = run_plan(PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf)
    assert result.status is RunStatus.FAILURE
    assert result.error == CUSTOM_STEPS_DISABLED
    assert not (worktree / "infra" / ".terraform").exists(), "nothing runs when refused"
    assert not (worktree / "infra" / "ran").exists()


def test_run_and_env_steps_when_allowed(tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    workflow = local_backend_workflow(
        tmp_path / "state",
        Step("env", env_name="GREETING", env_value="hello world"),
        Step("env", env_name="WHO", run="printf '%s' $WORKSPACE"),
        Step("run", run="printf '%s|%s|%s|' $GREETING ${WHO} 'a | b $(id)'"),
        Step("run", run="terraform plan -input=false -no-color -out $PLANFILE"),
    )
    plan_file = tmp_path / "p.tfplan"
    sink = Lines()
    with streaming_to(sink):
        result = run_plan(PROJECT, workflow, worktree, plan_file, tf, allow_custom_steps=True)
    assert result.status is RunStatus.SUCCESS, (result.error, result.output)
    assert result.output.startswith("hello world|default|a | b $(id)|")
    # the live log has every command but the env step's, whose output is a value
    assert sink.projects == [PROJECT.name]
    assert f"[{PROJECT.name}] (env WHO: its command's output is not logged)" in sink.lines
    assert not any("printf '%s' " in line for line in sink.lines)
    # a run step's command as written: its variables' values are not shown
    assert f"[{PROJECT.name}] $ printf '%s|%s|%s|' $GREETING ${{WHO}} 'a | b $(id)'" \
        in sink.lines
    assert f"[{PROJECT.name}] hello world|default|a | b $(id)|" in sink.lines
    assert "Plan: 1 to add" in result.output
    assert result.counts == PlanCounts(add=1)


def test_every_run_steps_output_beside_plan_and_apply(tf: Terraform, tmp_path: Path,
                                                      worktree: Path) -> None:
    """Atlantis shows each step's output: run steps before and after plan or apply."""
    base = local_backend_workflow(tmp_path / "state")
    workflow = Workflow("custom", plan=(Step("run", run="echo before-plan"), *base.plan,
                                        Step("run", run="echo after-plan")),
                        apply=(Step("run", run="echo before-apply"), *base.apply,
                               Step("run", run="printf after-apply")))
    plan_file = tmp_path / "p.tfplan"
    planned = run_plan(PROJECT, workflow, worktree, plan_file, tf, allow_custom_steps=True)
    assert planned.status is RunStatus.SUCCESS, planned.error
    out = planned.output
    assert out.startswith("before-plan\n\n") and out.endswith("\n\nafter-plan\n")
    assert out.index("before-plan") < out.index("Plan: 1 to add") < out.index("after-plan")
    assert "Initializing" not in out, "init's output shows only when it fails"
    applied = run_apply(PROJECT, workflow, worktree, plan_file, tf, allow_custom_steps=True)
    assert applied.status is RunStatus.SUCCESS, applied.error
    assert applied.output.startswith("before-apply\n")
    assert applied.output.index("Apply complete!") < applied.output.index("after-apply")
    assert applied.output.endswith("after-apply\n")


def test_projects_sharing_a_dir_each_init_their_own_backend(
        tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    """Two projects on one dir with their own -backend-config (Atlantis's tfvars
    layout): the second init replaces the first's backend instead of failing on
    "Backend configuration changed", and each apply lands in its own state."""
    first, second = (local_backend_workflow(tmp_path / name) for name in ("one", "two"))
    for name, workflow in (("one", first), ("two", second), ("one", first)):
        plan_file = tmp_path / f"{name}.tfplan"
        planned = run_plan(Project(name, "infra"), workflow, worktree, plan_file, tf)
        assert planned.status is RunStatus.SUCCESS, planned.output
        applied = run_apply(Project(name, "infra"), workflow, worktree, plan_file, tf)
        assert applied.status is RunStatus.SUCCESS, applied.output
        assert _state_types(tmp_path / name / "terraform.tfstate") == ["terraform_data"]


def test_failing_run_step(tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    workflow = Workflow("custom", plan=(Step("run", run="false"),), apply=())
    result = run_plan(
        PROJECT, workflow, worktree, tmp_path / "p.tfplan", tf, allow_custom_steps=True
    )
    assert result.status is RunStatus.FAILURE
    assert result.error == "run false failed (exit 1)"


def test_workspace_selection(tf: Terraform, tmp_path: Path, worktree: Path) -> None:
    workflow = local_backend_workflow(tmp_path / "state")
    staging = Project(name="infra-staging", dir="infra", workspace="staging")
    plan_file = tmp_path / "staging.tfplan"
    assert run_plan(staging, workflow, worktree, plan_file, tf).counts == PlanCounts(add=1)
    applied = run_apply(staging, workflow, worktree, plan_file, tf)
    assert applied.status is RunStatus.SUCCESS, applied.output
    assert applied.workspace == "staging"
    assert _state_types(tmp_path / "state" / "workspaces" / "staging" / "terraform.tfstate")
    assert not (tmp_path / "state" / "terraform.tfstate").exists()

    # The same directory, default workspace: switched back, its state is empty.
    default = run_plan(PROJECT, workflow, worktree, tmp_path / "default.tfplan", tf)
    assert default.counts == PlanCounts(add=1)
    assert tf.current_workspace(worktree / "infra") == "default"


@pytest.mark.parametrize(
    ("project", "workflow", "error"),
    [
        (Project("p", "../outside"), DEFAULT_WORKFLOW, "outside the repository"),
        (Project("p", "missing"), DEFAULT_WORKFLOW, "does not exist"),
        (PROJECT, Workflow("w", plan=(Step("apply"),), apply=()), "not allowed in a plan"),
        (PROJECT, Workflow("w", plan=(Step("destroy"),), apply=()), "not allowed in a plan"),
    ],
)
def test_refused_before_running(
    tf: Terraform, tmp_path: Path, worktree: Path, project: Project, workflow: Workflow, error: str
) -> None:
    result = run_plan(project, workflow, worktree, tmp_path / "p.tfplan", tf)
    assert result.status is RunStatus.FAILURE
    assert result.error is not None and error in result.error


def test_two_pushes_in_one_worktree(
    tf: Terraform, tmp_path: Path, origin: Origin, workspaces: Workspaces
) -> None:
    """The whole runner path: a push, plan and apply; a second push, re-plan
    in the same worktree with the init cache kept."""
    workflow = local_backend_workflow(tmp_path / "state")
    plan_file = tmp_path / "plans" / "infra.tfplan"
    first = origin.commit({"infra/main.tf": BACKEND + TF_DATA.format(value="a")}, "pr")
    with workspaces.checkout(origin.ref, 1, first, {}) as path:
        assert run_plan(PROJECT, workflow, path, plan_file, tf).counts == PlanCounts(add=1)
        assert run_apply(PROJECT, workflow, path, plan_file, tf).status is RunStatus.SUCCESS

    second = origin.commit({"infra/main.tf": BACKEND + TF_DATA.format(value="b")}, "pr")
    with workspaces.checkout(origin.ref, 1, second, {}) as again:
        assert again == path and (again / "infra" / ".terraform").is_dir()
        result = run_plan(PROJECT, workflow, again, plan_file, tf, head_sha=second)
        assert result.counts == PlanCounts(change=1), result.output
        assert result.head_sha == second


def test_validate_runs_beside_plan_and_its_failure_discards_the_plan(
    tmp_path: Path, worktree: Path, workflow: Workflow
) -> None:
    """terraform here refuses `validate` (after a pause, so plan finishes first);
    the plan that succeeded beside it must not survive to be applied."""
    wrapper = tmp_path / "terraform-strict"
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = validate ]; then sleep 0.5; echo "Error: strict check" >&2; exit 1; fi\n'
        'exec terraform "$@"\n'
    )
    wrapper.chmod(0o755)
    strict = Terraform(str(wrapper), timeout=60)
    plan_file = tmp_path / "plans" / "infra.tfplan"
    result = run_plan(PROJECT, workflow, worktree, plan_file, strict)
    assert result.status is RunStatus.FAILURE
    assert result.error is not None and result.error.startswith("validate failed")
    assert "strict check" in result.output
    assert not plan_file.exists()


def _logging_terraform(tmp_path: Path) -> tuple[Terraform, Path]:
    """Real terraform behind a wrapper that notes each subcommand it is asked for."""
    log = tmp_path / "terraform-calls"
    wrapper = tmp_path / "terraform-logged"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec terraform "$@"\n')
    wrapper.chmod(0o755)
    return Terraform(str(wrapper), timeout=60), log


def test_replan_reuses_the_init_and_reinits_when_terraform_asks(
    tmp_path: Path, worktree: Path
) -> None:
    tf, log = _logging_terraform(tmp_path)
    plan_file = tmp_path / "plans" / "infra.tfplan"
    main_tf = worktree / "infra" / "main.tf"

    assert run_plan(PROJECT, DEFAULT_WORKFLOW, worktree, plan_file, tf).status \
        is RunStatus.SUCCESS
    main_tf.write_text(BACKEND + TF_DATA.format(value="b"))  # the next push
    result = run_plan(PROJECT, DEFAULT_WORKFLOW, worktree, plan_file, tf)
    assert result.status is RunStatus.SUCCESS
    calls = log.read_text().split()
    assert calls.count("init") == 1 and calls.count("plan") == 2

    # a push that adds a module: the reused init can't serve it, terraform says so
    (worktree / "infra" / "mod").mkdir()
    (worktree / "infra" / "mod" / "main.tf").write_text(TF_DATA.format(value="m"))
    main_tf.write_text(BACKEND + TF_DATA.format(value="b") + 'module "m" { source = "./mod" }\n')
    result = run_plan(PROJECT, DEFAULT_WORKFLOW, worktree, plan_file, tf)
    assert result.status is RunStatus.SUCCESS, result.error
    assert result.counts is not None and result.counts.add == 2
    assert log.read_text().split().count("init") == 2


def test_changed_init_arguments_do_not_reuse_the_init(tmp_path: Path, worktree: Path) -> None:
    tf, log = _logging_terraform(tmp_path)
    plan_file = tmp_path / "plans" / "infra.tfplan"
    first = Workflow("a", plan=(Step("init"), Step("plan")), apply=(Step("apply"),))
    second = Workflow("b", plan=(Step("init", ("-upgrade",)), Step("plan")),
                      apply=(Step("apply"),))
    for workflow in (first, first, second):
        assert run_plan(PROJECT, workflow, worktree, plan_file, tf).status is RunStatus.SUCCESS
    assert log.read_text().split().count("init") == 2


def test_import_and_state_rm_stages(tf: Terraform, tmp_path: Path, worktree: Path,
                                    workflow: Workflow) -> None:
    """The import and state_rm stages run their steps in order; the comment's
    words reach terraform after `--`, so an ID starting with `-` stays an ID."""
    init = workflow.plan[0]
    flow = replace(workflow, imports=(init, Step("import")),
                   state_rm=(init, Step("state_rm", extra_args=("-dry-run",))))
    plan_file = tmp_path / "plans" / "infra.tfplan"
    state = tmp_path / "state" / "terraform.tfstate"
    imported = run_state_command("import", PROJECT, flow, worktree, plan_file, tf,
                                 ("terraform_data.x", "-odd-id"))
    assert imported.status is RunStatus.SUCCESS, imported.output
    assert imported.command == "import" and "Import successful!" in imported.output
    assert "Initializing" not in imported.output  # init's output only on failure
    ids = [r["instances"][0]["attributes"]["id"] for r in json.loads(state.read_text())
           ["resources"]]
    assert ids == ["-odd-id"]

    dry = run_state_command("state_rm", PROJECT, flow, worktree, plan_file, tf,
                            ("terraform_data.x",))
    assert dry.status is RunStatus.SUCCESS, dry.output
    assert "Would remove terraform_data.x" in dry.output
    assert _state_types(state) == ["terraform_data"]

    removed = run_state_command("state_rm", PROJECT, replace(flow, state_rm=(init, Step(
        "state_rm"))), worktree, plan_file, tf, ("terraform_data.x",))
    assert removed.status is RunStatus.SUCCESS and "Removed terraform_data.x" in removed.output
    assert _state_types(state) == []

    missing = run_state_command("import", PROJECT, flow, worktree, plan_file, tf,
                                ("terraform_data.nope", "id"))
    assert missing.status is RunStatus.FAILURE and missing.error == "import failed (exit 1)"
    assert "does not exist in the configuration" in missing.output

    planning = run_state_command("import", PROJECT, replace(flow, imports=(Step("plan"),)),
                                 worktree, plan_file, tf, ("terraform_data.x", "id"))
    assert planning.error == "step 'plan' is not allowed in an import workflow"
