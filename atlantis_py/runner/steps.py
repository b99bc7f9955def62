"""The step runners: one small function per step kind, all with one signature.

As in Atlantis, a workflow is a sequence of step names looked up in
`STEP_RUNNERS`. Custom `run` steps execute code chosen by whoever can edit the
base branch's workflows.yaml, so they are off unless the server opts in, and
even then run without a shell.
"""

from __future__ import annotations

import json
import shlex
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from atlantis_py.domain.projects import Project, Step
from atlantis_py.runner.multienv import parse_multienv, strip_refreshing
from atlantis_py.runner.output import current_sink, unlogged
from atlantis_py.runner.terraform import Terraform, TerraformError, TerraformRun, execute

CUSTOM_STEPS_DISABLED = "custom run steps are disabled on this server (--allow-custom-steps)"
SHELL_DISABLED = ("a step's `shell` runs its command through a shell, which this server "
                  "allows only with --allow-custom-steps: remove `shell`/`shellArgs` "
                  "(commands run without a shell)")


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
    targets: tuple[str, ...] = ()  # import: (ADDRESS, ID); state rm: the addresses


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
    the workflow runs again with `force_init` (runner/workflow.py)."""
    marker = ctx.project_dir / ".terraform" / INIT_MARKER
    if not ctx.force_init and marker.is_file() and marker.read_text() == _init_key(step):
        failed = _select_workspace(ctx, step)
        return failed or StepOutcome(True, "", reused_init=True)
    extra = step.extra_args
    if marker.is_file() and marker.read_text() != _init_key(step) \
            and not {"-reconfigure", "-migrate-state"} & set(extra):
        # initialised with other arguments, e.g. by another project sharing this dir
        # with its own -backend-config: use ours, and leave that backend's state be
        extra = (*extra, "-reconfigure")
    marker.unlink(missing_ok=True)
    run = ctx.tf.init(ctx.project_dir, extra, ctx.env)
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


def import_step(ctx: StepContext, step: Step) -> StepOutcome:
    """`terraform import` of the comment's address and ID, with the step's
    extra_args, then the comment's allow-listed ones (as Atlantis orders them)."""
    if len(ctx.targets) != 2:
        return StepOutcome(False, "", "import needs a resource address and an ID")
    failed = _select_workspace(ctx, step)
    if failed:
        return failed
    address, resource_id = ctx.targets
    run = ctx.tf.import_resource(ctx.project_dir, address, resource_id,
                                 (*step.extra_args, *ctx.extra_args), ctx.env)
    return _outcome(step, run, primary=True)


def state_rm_step(ctx: StepContext, step: Step) -> StepOutcome:
    if not ctx.targets:
        return StepOutcome(False, "", "state rm needs at least one resource address")
    failed = _select_workspace(ctx, step)
    if failed:
        return failed
    run = ctx.tf.state_rm(ctx.project_dir, ctx.targets, (*step.extra_args, *ctx.extra_args),
                          ctx.env)
    return _outcome(step, run, primary=True)


def env_step(ctx: StepContext, step: Step) -> StepOutcome:
    """Sets a variable for the later steps: a literal, or a command's output."""
    if not step.env_name:
        return StepOutcome(False, "", "env step without a name")
    if step.run is None:
        return StepOutcome(True, env={step.env_name: step.env_value or ""})
    with unlogged(f"(env {step.env_name}: its command's output is not logged)"):
        result = run_step(ctx, step)
    if not result.ok:
        return result
    return StepOutcome(True, env={step.env_name: result.output.strip()})


def run_step(ctx: StepContext, step: Step) -> StepOutcome:
    """A custom command: split like a shell would, `$VAR`/`${VAR}` expanded
    from the step environment per argument, then run with no shell, so pipes,
    globs and `$(…)` have no special meaning. A step with a `shell` (atlantis.yaml's
    shell/shellArgs) runs as [shell, *args, command] instead, and only on a server
    that allows custom steps. `output` hides or trims what the comment shows."""
    if not (ctx.allow_custom_steps or step.trusted):
        return StepOutcome(False, "", CUSTOM_STEPS_DISABLED)
    if step.shell and not ctx.allow_custom_steps:
        return StepOutcome(False, "", SHELL_DISABLED)
    env = ctx.tf.environment({**ctx.env, **_step_vars(ctx)})
    try:
        argv = [*step.shell, step.run or ""] if step.shell else \
            [string.Template(arg).safe_substitute(env) for arg in shlex.split(step.run or "")]
    except ValueError as e:
        return StepOutcome(False, "", f"{step.name}: cannot parse {step.run!r}: {e}")
    if not argv or not argv[-1].strip():
        return StepOutcome(False, "", f"{step.name}: empty command")
    sink = current_sink()
    if sink is not None:
        sink.line(f"$ {step.run}")  # as written: expanded, it may show a variable's value
    if step.output == "hide":  # hidden from the comment: kept out of the log too
        with unlogged("(output: hide; not logged)"):
            result = execute(argv, ctx.project_dir, env, ctx.tf.timeout, announce=False)
    else:
        result = execute(argv, ctx.project_dir, env, ctx.tf.timeout, announce=False)
    if not result.ok:
        error = f"{step.name} {argv[0]} failed (exit {result.returncode})"
        return StepOutcome(False, result.output, error)
    if step.output == "hide":
        return StepOutcome(True, "")
    if step.output == "strip_refreshing":
        return StepOutcome(True, strip_refreshing(result.output))
    return StepOutcome(True, result.output)


def multienv_step(ctx: StepContext, step: Step) -> StepOutcome:
    """Atlantis's multienv: the command prints `K1=V1,K2=V2`, each becomes a
    variable for the later steps; the comment lists the names, never the values."""
    with unlogged("(multienv: its command's output is not logged)"):
        result = run_step(ctx, replace(step, output="show"))
    if not result.ok:
        return result
    try:
        found = parse_multienv(result.output)
    except ValueError as e:
        return StepOutcome(False, "", f"multienv: {e}")
    shown = ("Dynamic environment variables added:\n" + "".join(f"{k}\n" for k in found)
             if found else "No dynamic environment variable added\n")
    return StepOutcome(True, "" if step.output == "hide" else shown, env=found)


def show_step(ctx: StepContext, step: Step) -> StepOutcome:
    """`terraform show -json` of the saved plan into $SHOWFILE, for later steps."""
    if not ctx.plan_file.is_file():
        return StepOutcome(False, "", "show: no saved plan yet; put `show` after `plan`")
    try:
        data = ctx.tf.show_json(ctx.project_dir, ctx.plan_file, ctx.env)
    except TerraformError as e:
        return StepOutcome(False, "", f"show: {e}")
    show_file_for(ctx.plan_file).write_text(json.dumps(data), encoding="utf-8")
    return StepOutcome(True)


def version_step(ctx: StepContext, step: Step) -> StepOutcome:
    return _outcome(step, ctx.tf.run(["version"], ctx.project_dir, ctx.env))


def _step_vars(ctx: StepContext) -> dict[str, str]:
    """Atlantis's names for the variables custom steps usually need."""
    return {
        "WORKSPACE": ctx.project.workspace,
        "DIR": str(ctx.project_dir),
        "REPO_REL_DIR": ctx.project.dir,
        "PROJECT_NAME": ctx.project.name,
        "PLANFILE": str(ctx.plan_file),
        "SHOWFILE": str(show_file_for(ctx.plan_file)),
        "VAR_FILE": var_file_for(ctx.plan_file) if ctx.project.vars_json is not None else "",
        "HEAD_COMMIT": ctx.head_sha,
        "COMMENT_ARGS": shlex.join((*ctx.extra_args, *ctx.targets)),
    }


def var_file_for(plan_file: Path) -> str:
    return str(plan_file.with_suffix(".tfvars.json"))


def show_file_for(plan_file: Path) -> Path:
    return plan_file.with_suffix(".show.json")


STEP_RUNNERS: Mapping[str, StepRunner] = {
    "init": init_step,
    "validate": validate_step,
    "plan": plan_step,
    "apply": apply_step,
    "env": env_step,
    "run": run_step,
    "import": import_step,
    "state_rm": state_rm_step,
    "multienv": multienv_step,
    "show": show_step,
    "version": version_step,
}
