"""Plan and apply as a workflow: its steps run in order (runner/steps.py), the
saved plan is summarised, and the result is one ProjectResult per project.
Its output is, as in Atlantis, what terraform's plan or apply printed and what
every `run` step printed, in step order (init's and validate's only on failure)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from atlantis_py.domain.policies import PolicySetResult
from atlantis_py.domain.projects import Project, Step, Workflow
from atlantis_py.domain.results import PlanCounts, ProjectResult, RunStatus
from atlantis_py.runner.changes import resource_changes
from atlantis_py.runner.output import for_project
from atlantis_py.runner.steps import (
    CUSTOM_STEPS_DISABLED,
    SHELL_DISABLED,
    STEP_RUNNERS,
    StepContext,
    StepOutcome,
    var_file_for,
)
from atlantis_py.runner.terraform import Terraform, TerraformError, plan_counts

__all__ = ["CUSTOM_STEPS_DISABLED", "plan_arguments", "run_apply", "run_plan",
           "run_state_command"]
PolicyCheck = Callable[[Mapping[str, object]], tuple[PolicySetResult, ...]]
PLAN_STEPS = frozenset({"init", "validate", "plan", "env", "run", "multienv", "show", "version"})
APPLY_STEPS = frozenset({"init", "validate", "apply", "env", "run", "multienv", "show", "version"})
STATE_STEPS = {"import": frozenset({"init", "import", "env", "run", "multienv", "version"}),
               "state_rm": frozenset({"init", "state_rm", "env", "run", "multienv", "version"})}
SHOWN_STEPS = frozenset({"run", "multienv", "version"})  # their output is in the comment


def plan_arguments(project: Project, plan_file: Path) -> tuple[str, ...]:
    """What detection adds to every plan: `-destroy` for a deleted project and
    `-var-file=` for the project's vars, written next to the saved plan (outside
    the worktree, so `git clean` and the repository never see it). Stack vars
    usually include globals a component does not declare, hence
    `-compact-warnings`: one line per undeclared var instead of a paragraph."""
    args: list[str] = []
    if project.deleted:
        args.append("-destroy")
    if project.vars_json is not None:
        var_file = Path(var_file_for(plan_file))
        var_file.write_text(project.vars_json, encoding="utf-8")
        args.extend((f"-var-file={var_file}", "-compact-warnings"))
    return tuple(args)


def run_plan(
    project: Project,
    workflow: Workflow,
    worktree: Path,
    plan_file: Path,
    tf: Terraform,
    *,
    extra_args: Sequence[str] = (),
    allow_custom_steps: bool = False,
    env: Mapping[str, str] | None = None,
    head_sha: str = "",
    policy_check: PolicyCheck | None = None,
) -> ProjectResult:
    """Run the plan steps; on success the plan is saved in `plan_file` and
    summarised in `counts`. A previous plan file is deleted first, so a
    failed plan never leaves an older plan behind to be applied.
    `policy_check` judges the plan's JSON (the server's policy sets)."""
    plan_file = plan_file.absolute()
    plan_file.unlink(missing_ok=True)
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    with for_project(project.name):
        result = _run_steps(
            "plan", PLAN_STEPS, workflow.plan, project, worktree, plan_file, tf,
            extra_args, allow_custom_steps, env, head_sha, plan_arguments(project, plan_file),
        )  # fmt: skip
    if result.status is not RunStatus.SUCCESS:
        plan_file.unlink(missing_ok=True)  # e.g. validate failed beside a plan that worked
        return result
    if not plan_file.is_file():
        return replace(result, status=RunStatus.FAILURE, error=f"no plan file at {plan_file}")
    try:
        shown = tf.show_json((worktree / project.dir).resolve(), plan_file, env)
    except TerraformError as e:
        return replace(result, status=RunStatus.FAILURE, error=str(e))
    policies = policy_check(shown) if policy_check is not None else ()
    return replace(result, counts=plan_counts(shown), changes=resource_changes(shown),
                   policies=policies)


def run_apply(
    project: Project,
    workflow: Workflow,
    worktree: Path,
    plan_file: Path,
    tf: Terraform,
    *,
    allow_custom_steps: bool = False,
    env: Mapping[str, str] | None = None,
    head_sha: str = "",
) -> ProjectResult:
    """Apply the saved plan. It is deleted after a successful apply (it cannot
    be applied twice) and kept after a failure, when terraform decides whether
    it is stale."""
    plan_file = plan_file.absolute()
    if not plan_file.is_file():
        return _result(project, "apply", RunStatus.FAILURE, head_sha, error="no saved plan")
    with for_project(project.name):
        result = _run_steps(
            "apply", APPLY_STEPS, workflow.apply, project, worktree, plan_file, tf,
            (), allow_custom_steps, env, head_sha,
        )  # fmt: skip
    if result.status is RunStatus.SUCCESS:
        plan_file.unlink(missing_ok=True)
    return result


def run_state_command(
    kind: str,
    project: Project,
    workflow: Workflow,
    worktree: Path,
    plan_file: Path,
    tf: Terraform,
    targets: Sequence[str],
    *,
    extra_args: Sequence[str] = (),
    allow_custom_steps: bool = False,
    env: Mapping[str, str] | None = None,
    head_sha: str = "",
) -> ProjectResult:
    """`import` or `state_rm` (its workflow stage) on the project's state,
    `targets` being the comment's address and ID, or its addresses. The
    project's saved plan then no longer matches the state: the caller plans
    again (and terraform refuses a stale plan anyway)."""
    steps = workflow.stage(kind)
    return _run_steps(
        kind, STATE_STEPS[kind], steps, project, worktree, plan_file.absolute(), tf,
        extra_args, allow_custom_steps, env, head_sha, targets=tuple(targets),
    )  # fmt: skip


def _run_steps(
    command: str,
    allowed: frozenset[str],
    steps: Sequence[Step],
    project: Project,
    worktree: Path,
    plan_file: Path,
    tf: Terraform,
    extra_args: Sequence[str],
    allow_custom_steps: bool,
    env: Mapping[str, str] | None,
    head_sha: str,
    plan_args: tuple[str, ...] = (),
    force_init: bool = False,
    targets: tuple[str, ...] = (),
) -> ProjectResult:
    def fail(error: str, output: str = "") -> ProjectResult:
        return _result(project, command, RunStatus.FAILURE, head_sha, output, error)

    for step in steps:
        if step.name not in allowed:
            article = "an" if command[0] in "aeiou" else "a"
            return fail(f"step {step.name!r} is not allowed in {article} {command} workflow")
        if step.run is not None and not (allow_custom_steps or step.trusted):
            return fail(CUSTOM_STEPS_DISABLED)
        if step.shell and not allow_custom_steps:
            return fail(SHELL_DISABLED)
    project_dir = (worktree / project.dir).resolve()
    if not project_dir.is_relative_to(worktree.resolve()):
        return fail(f"project dir {project.dir!r} is outside the repository")
    if not project_dir.is_dir():
        return fail(f"project dir {project.dir!r} does not exist at this commit")
    ctx = StepContext(
        project, worktree, project_dir, plan_file, tf, tuple(extra_args),
        allow_custom_steps, dict(env or {}), head_sha, plan_args, force_init, targets,
    )  # fmt: skip
    shown: list[str] = []  # as Atlantis: plan's/apply's and every run step's, in order
    reused = False
    for step, outcome in _outcomes(ctx, steps):
        reused = reused or outcome.reused_init
        if not outcome.ok and reused and "terraform init" in outcome.output:
            # the reused init is stale for this commit: start over with a real one
            return _run_steps(command, allowed, steps, project, worktree, plan_file, tf,
                              extra_args, allow_custom_steps, env, head_sha, plan_args,
                              force_init=True, targets=targets)
        if not outcome.ok:
            return fail(outcome.error or f"{step.name} failed", outcome.output)
        if (outcome.primary or step.name in SHOWN_STEPS) and outcome.output.strip():
            shown.append(outcome.output if outcome.output.endswith("\n")
                         else outcome.output + "\n")
    return _result(project, command, RunStatus.SUCCESS, head_sha, "\n".join(shown))


def _outcomes(ctx: StepContext, steps: Sequence[Step]) -> Iterator[tuple[Step, StepOutcome]]:
    """Each step's outcome in order, stopping after the first failure. A `validate`
    directly followed by `plan` runs beside it: neither changes what the other
    reads, and on two cores that takes validate off the critical path. Validate's
    verdict still comes first (the caller discards the plan if it failed)."""
    i = 0
    while i < len(steps):
        step = steps[i]
        if step.name == "validate" and i + 1 < len(steps) and steps[i + 1].name == "plan":
            with ThreadPoolExecutor(1, thread_name_prefix="atlantis-validate") as side:
                checked = side.submit(contextvars.copy_context().run,
                                      STEP_RUNNERS["validate"], ctx, step)
                planned = STEP_RUNNERS["plan"](ctx, steps[i + 1])
                pair = [(step, checked.result()), (steps[i + 1], planned)]
            for item in pair:
                yield item
                if not item[1].ok:
                    return
            i += 2
            continue
        outcome = STEP_RUNNERS[step.name](ctx, step)
        yield step, outcome
        if not outcome.ok:
            return
        ctx = replace(ctx, env={**ctx.env, **outcome.env}) if outcome.env else ctx
        i += 1


def _result(
    project: Project,
    command: str,
    status: RunStatus,
    head_sha: str,
    output: str = "",
    error: str | None = None,
    counts: PlanCounts | None = None,
) -> ProjectResult:
    return ProjectResult(
        project=project.name,
        dir=project.dir,
        workspace=project.workspace,
        command=command,
        status=status,
        output=output,
        error=error,
        counts=counts,
        head_sha=head_sha,
        reasons=project.reasons,
        deleted=project.deleted,
        skipped_vars=project.skipped_vars,
    )
