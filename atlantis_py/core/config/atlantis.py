"""Atlantis's own atlantis.yaml (version 3) → RepoConfig, so a repository can
move over without rewriting its file.

Keys atlantis-py understands are read into the same model as workflows.yaml;
Atlantis keys it does not support yet are refused one by one (file, line,
key) rather than ignored, since a silently dropped `policies` or
`terraform_distribution` would plan or apply what the file's author meant to
prevent. Keys Atlantis itself does not know get the usual "unknown key"
answer. The per-project switches (branch, repo_locks, silence_pr_comments,
plan/import requirements) and the newer steps are read in atlantis_keys.py.

Atlantis's per-project `apply_requirements` become approval environments: one
per distinct set of requirements (`approved` asks one approval, as in
Atlantis), so the rules branch decides them like any environment. A project
without requirements is in `default`, which asks none, again as Atlantis;
the server's `--min-approvals` (1 unless lowered) still raises that floor.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from atlantis_py.core.config.atlantis_keys import MULTIENV_OUTPUTS, RUN_OUTPUTS, AtlantisKeys
from atlantis_py.core.config.reader import OPTION_KEYS, ORDER_KEYS, ConfigReader, Path, kind
from atlantis_py.domain.projects import (
    APPLY_REQUIREMENTS,
    DEFAULT_WHEN_MODIFIED,
    DEFAULT_WORKFLOW,
    TF_DISTRIBUTIONS,
    Environment,
    Project,
    RepoConfig,
    Step,
    Workflow,
)

ATLANTIS_CONFIG_FILE = "atlantis.yaml"
ATLANTIS_VERSION = 3

_TOP = ("version", "projects", "workflows", *OPTION_KEYS, "autodiscover",
        "allowed_regexp_prefixes", "repo_locks", "silence_pr_comments")
_TOP_LATER = ("parallel_policy_check", "policies")
_PROJECT = ("name", "dir", "workspace", "autoplan", "workflow", "terraform_version",
            "apply_requirements", *ORDER_KEYS, "terraform_distribution", "branch",
            "repo_locking", "repo_locks", "plan_requirements", "import_requirements",
            "silence_pr_comments", "delete_source_branch_on_merge")
_PROJECT_LATER = ("custom_policy_check", "policy_check")
_STAGES = ("plan", "apply", "import", "state_rm")
_STAGES_LATER = ("policy_check",)
_TF_STEPS = ("init", "plan", "apply", "import", "state_rm")
_OWN_STEPS = ("show", "version")  # terraform runs them; no extra_args
_STEPS_LATER = ("policy_check",)
_LATER = "atlantis-py does not support it yet (README: Coming from Atlantis); remove it"


def parse_atlantis_config(text: str, file: str = ATLANTIS_CONFIG_FILE,
                          known_workflows: Collection[str] = ()) -> RepoConfig:
    """Parse and validate an atlantis.yaml; raises RepoConfigError on the first
    problem. Projects may also name `known_workflows` (the server's)."""
    reader = _AtlantisReader(file, text)
    reader.extra_workflows = frozenset(known_workflows)
    return reader.config()


def is_atlantis_document(text: str, file: str) -> bool:
    """True when the document says `version: 3` (or 2), Atlantis's versions: such
    a file is read with Atlantis's schema whatever it is called."""
    doc = ConfigReader(file, text).doc
    return isinstance(doc, dict) and doc.get("version") in (2, ATLANTIS_VERSION)


class _AtlantisReader(AtlantisKeys):
    later = _LATER  # what a refused Atlantis key is told

    def known(self, value: object, path: Path, allowed: tuple[str, ...],
              later: tuple[str, ...]) -> dict[str, object]:
        """A mapping whose keys are ours, or Atlantis's we refuse by name."""
        if isinstance(value, dict):
            for key in value:
                if key in later:
                    self.fail((*path, key), f"Atlantis's {key!r} is not supported: "
                              f"{self.later}", at_key=True)
        return self.mapping(value, path, allowed)

    def config(self) -> RepoConfig:
        top = self.known({} if self.doc is None else self.doc, (), _TOP, _TOP_LATER)
        version = top.get("version")
        if version not in (2, ATLANTIS_VERSION) or type(version) is not int:
            self.fail(("version",), f"unsupported version {version!r}; "
                      f"atlantis.yaml needs `version: {ATLANTIS_VERSION}`")
        workflows = self.named(top.get("workflows"), ("workflows",), self.workflow)
        self.top_locks, self.top_silenced = self.lock_mode(top, ()), self.silenced(top, ())
        discover, ignore = self.autodiscover(top)
        environments: dict[str, Environment] = {"default": Environment(
            "default", required_approvals=0, apply_requirements=())}
        raw = top.get("projects")
        items = [] if raw is None else self.sequence(raw, ("projects",))
        projects: list[Project] = []
        named: list[bool] = []
        for i, item in enumerate(items):
            project, env = self.project(item, ("projects", i), workflows)
            environments[env.name] = env
            for j, other in enumerate(projects):
                if other.branch != project.branch and None not in (other.branch, project.branch):
                    continue  # as Atlantis: only one of them is read for a pull request
                if other.name == project.name:
                    self.fail(("projects", i), f"project name {project.name!r} is used twice")
                shared = (other.dir, other.workspace) == (project.dir, project.workspace)
                if shared and not (named[j] and isinstance(item, dict) and "name" in item):
                    self.fail(("projects", i), f"projects on dir {project.dir!r} and workspace "
                              f"{project.workspace!r} are listed twice; projects sharing a dir "
                              "and workspace need a `name` each")
            projects.append(project)
            named.append(isinstance(item, dict) and "name" in item)
        self.dependencies_known(tuple(projects))
        options = replace(
            self.options(top, ATLANTIS_CONFIG_FILE),
            autodiscover=discover, ignore_paths=ignore,
            repo_locks=self.top_locks or "on_plan", silence_pr_comments=self.top_silenced or (),
            allowed_regexp_prefixes=self.strings(top.get("allowed_regexp_prefixes") or [],
                                                 ("allowed_regexp_prefixes",)))
        # Atlantis's `auto` discovers projects only when the file lists none
        explicit = discover == "disabled" or bool(projects)
        return RepoConfig(projects=tuple(projects), workflows=workflows,
                          environments=environments, explicit=explicit, options=options)

    def project(self, value: object, path: Path, workflows: Mapping[str, Workflow]
                ) -> tuple[Project, Environment]:
        body = self.known(value, path, _PROJECT, _PROJECT_LATER)
        directory, workspace, name = self.place(body, path)
        workflow = "default"
        if "workflow" in body:
            workflow = self.string(body["workflow"], (*path, "workflow"))
            if workflow != "default" and workflow not in workflows \
                    and workflow not in self.extra_workflows:
                known = ", ".join(["default", *sorted(
                    n for n in {*workflows, *self.extra_workflows} if n != "default")])
                self.fail((*path, "workflow"), f"workflow {workflow!r} is not defined; "
                          f"known: {known}")
        enabled, when_modified = True, DEFAULT_WHEN_MODIFIED
        if "autoplan" in body:
            auto = self.mapping(body["autoplan"], (*path, "autoplan"),
                                ("enabled", "when_modified"))
            enabled = self.flag(auto, (*path, "autoplan"), "enabled", True)
            if "when_modified" in auto:
                when_modified = self.strings(auto["when_modified"],
                                             (*path, "autoplan", "when_modified"))
        version = self.terraform_version(body, path)
        distribution = None
        if "terraform_distribution" in body:
            at = (*path, "terraform_distribution")
            distribution = self.string(body["terraform_distribution"], at)
            if distribution not in TF_DISTRIBUTIONS:
                self.fail(at, f"expected terraform or opentofu, got {distribution!r}")
        group, depends = self.order(body, path)
        env = self.requirements(body, path)
        return Project(
            name=name, dir=directory, workspace=workspace, workflow=workflow,
            environment=env.name, autoplan=enabled, when_modified=when_modified,
            terraform_version=version, terraform_distribution=distribution,
            depends_on=depends, execution_order_group=group,
            branch=self.branch(body, path),
            repo_locks=self.project_lock_mode(body, path, self.top_locks),
            silence_pr_comments=_first(self.silenced(body, path), self.top_silenced, ()),
            plan_requirements=self.requirement_list(body, path, "plan_requirements"),
            import_requirements=self.requirement_list(body, path, "import_requirements"),
            delete_source_branch_on_merge=None if "delete_source_branch_on_merge" not in body
            else self.flag(body, path, "delete_source_branch_on_merge", False)), env

    def requirements(self, body: Mapping[str, object], path: Path) -> Environment:
        """Atlantis's apply_requirements as an environment named for them."""
        at = (*path, "apply_requirements")
        listed = self.strings(body.get("apply_requirements", []), at)
        for i, item in enumerate(listed):
            if item not in APPLY_REQUIREMENTS:
                self.fail((*at, i), f"apply requirement {item!r} is not supported; "
                          "supported: " + ", ".join(APPLY_REQUIREMENTS))
        chosen = tuple(r for r in APPLY_REQUIREMENTS if r in listed)
        if not chosen:
            return Environment("default", required_approvals=0, apply_requirements=())
        return Environment("+".join(chosen), required_approvals=int("approved" in chosen),
                           apply_requirements=chosen)

    def workflow(self, name: str, value: object, path: Path) -> Workflow:
        body = self.known({} if value is None else value, path, _STAGES, _STAGES_LATER)
        default = DEFAULT_WORKFLOW
        stages: dict[str, tuple[Step, ...] | None] = {
            "plan": default.plan, "apply": default.apply, "import": None, "state_rm": None}
        for stage in _STAGES:
            if body.get(stage) is None:
                continue
            steps = stages[stage] = self.stage(body[stage], (*path, stage))
            self.own_stages(steps, stage, path)
        plan, apply = stages["plan"], stages["apply"]
        assert plan is not None and apply is not None
        return Workflow(name=name, plan=plan, apply=apply, imports=stages["import"],
                        state_rm=stages["state_rm"])

    def stage(self, value: object, path: Path) -> tuple[Step, ...]:
        body = self.mapping(value, path, ("steps",))
        steps = self.sequence(body.get("steps") or [], (*path, "steps"))
        return tuple(self.step(item, (*path, "steps", i)) for i, item in enumerate(steps))

    def step(self, value: object, path: Path) -> Step:
        allowed = ", ".join((*_TF_STEPS, *_OWN_STEPS, "run", "env", "multienv"))
        if isinstance(value, str):
            if value in (*_TF_STEPS, *_OWN_STEPS):
                return Step(value)
            if value in _STEPS_LATER:
                self.fail(path, f"Atlantis's step {value!r} is not supported: {_LATER}")
            self.fail(path, f"unknown step {value!r}; allowed steps: {allowed}")
        if not isinstance(value, dict) or len(value) != 1:
            self.fail(path, "a step is a step name or a mapping with exactly one step name, "
                      f"got {kind(value)}")
        [(name, arg)] = value.items()
        at = (*path, name)
        if name == "run":
            return self.command_step("run", arg, at, RUN_OUTPUTS)
        if name == "multienv":
            return self.command_step("multienv", arg, at, MULTIENV_OUTPUTS)
        if name == "env":
            return self.env_command(arg, at)
        if name in _OWN_STEPS:
            self.mapping({} if arg is None else arg, at, ())
            return Step(name)
        if name in _TF_STEPS:
            return self.terraform_step(name, arg, at)
        if name in _STEPS_LATER:
            self.fail(at, f"Atlantis's step {name!r} is not supported: {_LATER}", at_key=True)
        self.fail(at, f"unknown step {name!r}; allowed steps: {allowed}", at_key=True)


def _first(*values: tuple[str, ...] | None) -> tuple[str, ...]:
    return next(v for v in values if v is not None)
