"""Projects and the workflow steps that run on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from atlantis_py.domain.drift import DriftSchedule
from atlantis_py.domain.rules import ApplyWindow, DestroyRule


@dataclass(frozen=True)
class Step:
    """One workflow step. `name` is init|validate|plan|apply|env|run, or
    atlantis.yaml's show|version|multienv. `extra_args` go to terraform; `run`
    holds an argv-ish command for `run`, `multienv` and command `env` steps
    (split with shlex, never passed to a shell); env steps set `env_name`/`env_value`.
    `trusted` steps come from the server's own repos.yaml: their `run` needs no
    --allow-custom-steps. `output` is atlantis.yaml's show|hide|strip_refreshing
    for what a run step prints; `shell` (a shell and its args, atlantis.yaml's
    shell/shellArgs) runs the command through that shell, which only a server
    with --allow-custom-steps honours."""

    name: str
    extra_args: tuple[str, ...] = ()
    run: str | None = None
    env_name: str | None = None
    env_value: str | None = None
    trusted: bool = False
    output: str = "show"
    shell: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    """`imports` and `state_rm` are Atlantis's `import` and `state_rm` stages
    (`atlantis import`, `atlantis state rm`); None when the file names none
    (see `stage`)."""

    name: str
    plan: tuple[Step, ...]
    apply: tuple[Step, ...]
    imports: tuple[Step, ...] | None = None
    state_rm: tuple[Step, ...] | None = None

    def stage(self, kind: str) -> tuple[Step, ...]:
        """The steps of `atlantis import` (kind "import") or `state rm`
        ("state_rm"): the workflow's own stage, else the plan stage's env and
        init steps (so its -backend-config reaches the state the plan read)
        followed by the import or state_rm step."""
        own = self.imports if kind == "import" else self.state_rm
        if own is not None:
            return own
        setup = tuple(s for s in self.plan if s.name in ("env", "init"))
        if not any(s.name == "init" for s in setup):
            setup = (*setup, Step("init"))
        return (*setup, Step(kind))


DEFAULT_WORKFLOW = Workflow(
    name="default",
    plan=(Step("init"), Step("validate"), Step("plan")),
    apply=(Step("apply"),),
)


# `policies_passed`: every failing policy set of the plan approved (flows/policy.py
# gates every apply while policy sets are configured; naming it changes nothing)
APPLY_REQUIREMENTS = ("approved", "mergeable", "undiverged", "policies_passed")
# what plan_requirements / import_requirements may name (Atlantis's: no policies_passed,
# since policies are checked after a plan)
PLAN_REQUIREMENTS = ("approved", "mergeable", "undiverged")
TF_DISTRIBUTIONS = ("terraform", "opentofu")

# Atlantis's repo_locks modes: lock a project's dir+workspace when it is
# planned (the default), only while it is applied, or never.
REPO_LOCK_MODES = ("on_plan", "on_apply", "disabled")

# Atlantis's default autoplan patterns (relative to the project dir): a change
# to the provider lock file or a terragrunt.hcl alone plans too.
DEFAULT_WHEN_MODIFIED: tuple[str, ...] = ("**/*.tf*", "**/terragrunt.hcl", "**/.terraform.lock.hcl")

# Atlantis's default --autoplan-file-list: which changed files (relative to the
# repository root) make their directory a project when no config file lists projects
DEFAULT_AUTOPLAN_FILES: tuple[str, ...] = (
    "**/*.tf", "**/*.tf.json", "**/*.tfvars", "**/*.tfvars.json", "**/*.tofu",
    "**/*.tofu.json", "**/terragrunt.hcl", "**/.terraform.lock.hcl")


@dataclass(frozen=True)
class Environment:
    """An approval policy, as read from the rules branch's workflows.yaml (the
    repository's default branch unless the server names another), never from
    a branch the pull request could have made. `approvers` and `appliers` hold
    user names and "org/team" teams; empty approvers means anyone (with write
    access) but the author, empty appliers means the approvers plus the author.
    Durations of None mean "no limit". `apply_requirements` are Atlantis's
    (APPLY_REQUIREMENTS): `approved` the approval rules are met, `mergeable`
    the forge would merge the pull request, `undiverged` its branch contains
    the base branch's head."""

    name: str
    required_approvals: int = 1
    approvers: tuple[str, ...] = ()
    allow_self_approval: bool = False
    approval_ttl: timedelta | None = None
    review_deadline: timedelta | None = None
    apply_window: ApplyWindow | None = None
    destroy_requires: DestroyRule | None = None
    appliers: tuple[str, ...] = ()
    stacks: tuple[str, ...] = ()  # Atmos stack-name globs that belong here
    apply_requirements: tuple[str, ...] = ("approved",)
    drift: DriftSchedule | None = None  # when the default branch is checked for drift


@dataclass(frozen=True)
class Project:
    """A (dir, workspace) that terraform runs in. `dir` is relative to the repo
    root with "/" separators, "." for the root.

    Detection fills the rest: `reasons` say why a change affects the project
    (shown in the plan comment); `deleted` projects exist only at the base ref
    and are planned with `-destroy` in a checkout of `source_ref`, since their
    code and vars are gone at head. `vars_json` is the .tfvars.json text an
    Atmos instance (`component` in `stack`) is planned with; `skipped_vars`
    names vars left out because they hold Atmos functions."""

    name: str
    dir: str
    workspace: str = "default"
    workflow: str = "default"
    environment: str = "default"
    autoplan: bool = True
    when_modified: tuple[str, ...] = DEFAULT_WHEN_MODIFIED
    reasons: tuple[str, ...] = ()
    deleted: bool = False
    vars_json: str | None = None
    skipped_vars: tuple[str, ...] = ()
    component: str | None = None
    stack: str | None = None
    source_ref: str | None = None
    terraform_version: str | None = None  # a version or constraint (runner/versions.py)
    terraform_distribution: str | None = None  # one of TF_DISTRIBUTIONS; None: the server's
    execution_order_group: int = 0
    depends_on: tuple[str, ...] = ()
    # atlantis.yaml's per-project switches (README: Coming from Atlantis)
    branch: str | None = None  # regex on the base branch; None: every branch
    repo_locks: str = "on_plan"  # REPO_LOCK_MODES
    silence_pr_comments: tuple[str, ...] = ()  # "plan", "apply": no comment for these
    plan_requirements: tuple[str, ...] = ()  # APPLY_REQUIREMENTS checked before a plan
    import_requirements: tuple[str, ...] = ()  # kept for `atlantis import`
    delete_source_branch_on_merge: bool | None = None  # None: the repository's option


@dataclass(frozen=True)
class RepoOptions:
    """Atlantis's repo-wide switches (atlantis.yaml, or the same keys at the top
    of workflows.yaml); `source` names the file the config came from. Projects
    run group by group (`execution_order_group`), at once within a group when
    parallel; `abort_on_execution_order_fail` stops later groups after a
    failure; `automerge` merges once every project is applied."""

    source: str = "workflows.yaml"
    automerge: bool = False
    parallel_plan: bool = True
    parallel_apply: bool = False
    delete_source_branch_on_merge: bool = False
    abort_on_execution_order_fail: bool = False
    # atlantis.yaml's autodiscover: with `enabled`, changed directories no
    # project lists are planned too; `ignore_paths` globs are never discovered
    autodiscover: str = "auto"
    ignore_paths: tuple[str, ...] = ()
    allowed_regexp_prefixes: tuple[str, ...] = ()
    # the file's top-level repo_locks and silence_pr_comments, for projects it
    # does not list (listed ones carry their own, merged, on the Project)
    repo_locks: str = "on_plan"
    silence_pr_comments: tuple[str, ...] = ()
    # repos.yaml's plan_requirements, for projects the file does not list
    plan_requirements: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepoConfig:
    """workflows.yaml after validation. `explicit` is False when the repo has no
    file and projects are discovered from changed directories. `atmos` is the
    validated `atmos:` section, kept raw for core.detect.atmos to read (None:
    look for an atmos.yaml)."""

    projects: tuple[Project, ...] = ()
    workflows: dict[str, Workflow] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    explicit: bool = False
    atmos: Mapping[str, object] | None = None
    options: RepoOptions = field(default_factory=RepoOptions)
    apply_floor: tuple[str, ...] = ()  # repos.yaml's apply_requirements: every env keeps them

    def workflow_for(self, project: Project) -> Workflow:
        return self.workflows.get(project.workflow, DEFAULT_WORKFLOW)

    def environment_for(self, project: Project) -> Environment:
        env = self.environments.get(project.environment)
        if env is None:
            env = Environment(name=project.environment)
        return floored(env, self.apply_floor)


def floored(env: Environment, floor: tuple[str, ...]) -> Environment:
    """`env` keeping at least the requirements `floor` names (the server's, from
    repos.yaml); `approved` in the floor asks at least one approval."""
    if not floor:
        return env
    wanted = tuple(r for r in APPLY_REQUIREMENTS
                   if r in floor or r in env.apply_requirements)
    extra = tuple(r for r in env.apply_requirements if r not in wanted)
    approvals = max(env.required_approvals, 1) if "approved" in floor else env.required_approvals
    return replace(env, apply_requirements=(*wanted, *extra), required_approvals=approvals)
