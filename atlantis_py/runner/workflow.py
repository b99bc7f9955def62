"""Plan and apply as a workflow's steps, one small runner per step kind.

As in Atlantis, every step runner has the same signature, so a workflow is just
a sequence of names looked up in `STEP_RUNNERS`. Custom `run` steps execute
code chosen by whoever can edit the base branch's workflows.yaml, so they are
off unless the server opts in, and even then run without a shell.
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from atlantis_py.domain.projects import Project, Step, Workflow
from atlantis_py.domain.results import PlanCounts, ProjectResult, RunStatus
from atlantis_py.runner.terraform import (
    Terraform,
    TerraformError,
    TerraformRun,
    execute,
    plan_counts,
)

CUSTOM_STEPS_DISABLED = "custom run steps are disabled on this server (--allow-custom-steps)"
PLAN_STEPS = frozenset({"init", "validate", "plan", "env", "run"})
APPLY_STEPS = frozenset({"init", "validate", "apply", "env", "run"})


@dataclass(frozen=True)
class StepContext:
    """What every step sees. `env` grows as env steps run."""

    project: Project
    worktree: Path
    project_dir: Path
    plan_file: Path
    tf: Terraform
    extra_args: tuple[str, ...]
    allow_custom_steps: bool
    env: Mapping[str, str]
    head_sha: str
    plan_args: tuple[str, ...] = ()
    force_init: bool = False


@dataclass(frozen=True)
class StepOutcome:
    """`primary` marks the output a comment shows (plan's, apply's)."""

    ok: bool
    output: str = ""
    error: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    primary: bool = False
    reused_init: bool = False


StepRunner = Callable[[StepContext, Step], StepOutcome]


def _outcome(step: Step, run: TerraformRun, *, primary: bool = False) -> StepOutcome:
    if run.ok:
        return StepOutcome(True, run.output, primary=primary)
    return StepOutcome(False, run.output, f"{step.name} failed (exit {run.returncode})", {})


def _select_workspace(ctx: StepContext, step: Step) -> StepOutcome | None:
    """A failure outcome, or None when the project's workspace is selected."""
    run = ctx.tf.select_workspace(ctx.project_dir, ctx.project.workspace, ctx.env)
    if run is None or run.ok:
        return None
    return StepOutcome(
        False,
        run.output,
        f"{step.name}: selecting workspace {ctx.project.workspace} failed (exit {run.returncode})",
    )


INIT_MARKER = "atlantis-init"


def _init_key(step: Step) -> str:
    return "\0".join(("v1", *step.extra_args))


def init_step(ctx: StepContext, step: Step) -> StepOutcome:
    """Reuses the last init of this directory (same worktree, same init arguments)
    instead of running terraform: a re-plan after a push should cost no more than
    a plan. When the push needs a new init (backend, modules, providers, lock
    file), terraform's next step fails asking for `terraform init`, and
    _run_steps runs the workflow again with `force_init`."""
    marker = ctx.project_dir / ".terraform" / INIT_MARKER
    if not ctx.force_init and marker.is_file() and marker.read_text() == _init_key(step):
        failed = _select_workspace(ctx, step)
        return failed or StepOutcome(True, "", reused_init=True)
    marker.unlink(missing_ok=True)
    run = ctx.tf.init(ctx.project_dir, step.extra_args, ctx.env)
    if not run.ok:
        return _outcome(step, run)
    if marker.parent.is_dir():
        marker.write_text(_init_key(step))
    failed = _select_workspace(ctx, step)
    return failed or StepOutcome(True, run.output)


def validate_step(ctx: StepContext, step: Step) -> StepOutcome:
    return _outcome(step, ctx.tf.validate(ctx.project_dir, ctx.env))


def plan_step(ctx: StepContext, step: Step) -> StepOutcome:
    failed = _select_workspace(ctx, step)
    if failed:
        return failed
    extra = (*ctx.plan_args, *step.extra_args, *ctx.extra_args)
    run = ctx.tf.plan(ctx.project_dir, ctx.plan_file, extra, ctx.env)
    return _outcome(step, run, primary=True)


def apply_step(ctx: StepContext, step: Step) -> StepOutcome:
    """Applies only the saved plan; comment arguments such as -target belong
    to the plan and are not accepted by terraform with a plan file."""
    if not ctx.plan_file.is_file():
        return StepOutcome(False, "", "no saved plan for this project: run plan first")
    failed = _select_workspace(ctx, step)
    if failed:
        return failed
    run = ctx.tf.apply(ctx.project_dir, ctx.plan_file, ctx.env, extra=step.extra_args)
    return _outcome(step, run, primary=True)


def env_step(ctx: StepContext, step: Step) -> StepOutcome:
    """Sets a variable for the later steps: a literal, or a command's output."""
    if not step.env_name:
        return StepOutcome(False, "", "env step without a name")
    if step.run is None:
        return StepOutcome(True, env={step.env_name: step.env_value or ""})
    result = run_step(ctx, step)
    if not result.ok:
        return result
    return StepOutcome(True, env={step.env_name: result.output.strip()})


def run_step(ctx: StepContext, step: Step) -> StepOutcome:
    """A custom command: split like a shell would, `$VAR`/`${VAR}` expanded
    from the step environment per argument, then run with no shell, so pipes,
    globs and `$(…)` have no special meaning."""
    if not ctx.allow_custom_steps:
        return StepOutcome(False, "", CUSTOM_STEPS_DISABLED)
    env = ctx.tf.environment({**ctx.env, **_step_vars(ctx)})
    try:
        argv = [string.Template(arg).safe_substitute(env) for arg in shlex.split(step.run or "")]
    except ValueError as e:
        return StepOutcome(False, "", f"{step.name}: cannot parse {step.run!r}: {e}")
    if not argv:
        return StepOutcome(False, "", f"{step.name}: empty command")
    result = execute(argv, ctx.project_dir, env, ctx.tf.timeout)
    if result.ok:
        return StepOutcome(True, result.output)
    error = f"{step.name} {argv[0]} failed (exit {result.returncode})"
    return StepOutcome(False, result.output, error)


def _step_vars(ctx: StepContext) -> dict[str, str]:
    """Atlantis's names for the variables custom steps usually need."""
    return {
        "WORKSPACE": ctx.project.workspace,
        "DIR": str(ctx.project_dir),
        "REPO_REL_DIR": ctx.project.dir,
        "PROJECT_NAME": ctx.project.name,
        "PLANFILE": str(ctx.plan_file),
        "VAR_FILE": _var_file(ctx.plan_file) if ctx.project.vars_json is not None else "",
        "HEAD_COMMIT": ctx.head_sha,
        "COMMENT_ARGS": shlex.join(ctx.extra_args),
    }


def _var_file(plan_file: Path) -> str:
    return str(plan_file.with_suffix(".tfvars.json"))


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
        var_file = Path(_var_file(plan_file))
        var_file.write_text(project.vars_json, encoding="utf-8")
        args.extend((f"-var-file={var_file}", "-compact-warnings"))
    return tuple(args)


STEP_RUNNERS: Mapping[str, StepRunner] = {
    "init": init_step,
    "validate": validate_step,
    "plan": plan_step,
    "apply": apply_step,
    "env": env_step,
    "run": run_step,
}


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
) -> ProjectResult:
    """Run the plan steps; on success the plan is saved in `plan_file` and
    summarised in `counts`. A previous plan file is deleted first, so a
    failed plan never leaves an older plan behind to be applied."""
    plan_file = plan_file.absolute()
    plan_file.unlink(missing_ok=True)
    plan_file.parent.mkdir(parents=True, exist_ok=True)
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
        counts = plan_counts(tf.show_json((worktree / project.dir).resolve(), plan_file, env))
    except TerraformError as e:
        return replace(result, status=RunStatus.FAILURE, error=str(e))
    return replace(result, counts=counts)


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
    result = _run_steps(
        "apply", APPLY_STEPS, workflow.apply, project, worktree, plan_file, tf,
        (), allow_custom_steps, env, head_sha,
    )  # fmt: skip
    if result.status is RunStatus.SUCCESS:
        plan_file.unlink(missing_ok=True)
    return result


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
) -> ProjectResult:
    def fail(error: str, output: str = "") -> ProjectResult:
        return _result(project, command, RunStatus.FAILURE, head_sha, output, error)

    for step in steps:
        if step.name not in allowed:
            return fail(f"step {step.name!r} is not allowed in a {command} workflow")
        if step.run is not None and not allow_custom_steps:
            return fail(CUSTOM_STEPS_DISABLED)
    project_dir = (worktree / project.dir).resolve()
    if not project_dir.is_relative_to(worktree.resolve()):
        return fail(f"project dir {project.dir!r} is outside the repository")
    if not project_dir.is_dir():
        return fail(f"project dir {project.dir!r} does not exist at this commit")
    ctx = StepContext(
        project, worktree, project_dir, plan_file, tf, tuple(extra_args),
        allow_custom_steps, dict(env or {}), head_sha, plan_args, force_init,
    )  # fmt: skip
    primary: str | None = None
    custom: list[str] = []
    reused = False
    for step, outcome in _outcomes(ctx, steps):
        reused = reused or outcome.reused_init
        if not outcome.ok and reused and "terraform init" in outcome.output:
            # the reused init is stale for this commit: start over with a real one
            return _run_steps(command, allowed, steps, project, worktree, plan_file, tf,
                              extra_args, allow_custom_steps, env, head_sha, plan_args,
                              force_init=True)
        if not outcome.ok:
            return fail(outcome.error or f"{step.name} failed", outcome.output)
        if outcome.primary:
            primary = outcome.output
        elif step.name == "run":
            custom.append(outcome.output)
    output = primary if primary is not None else "".join(custom)
    return _result(project, command, RunStatus.SUCCESS, head_sha, output)


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
                checked = side.submit(STEP_RUNNERS["validate"], ctx, step)
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
    )
