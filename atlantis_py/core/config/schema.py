"""workflows.yaml → RepoConfig.

The file comes from a pull request's repository, so it is untrusted and often
hand-edited: every refusal names the file, the line and the key path
(`projects[0].autoplan.when_modified`, indexes from 0) and says what is allowed.
The YAML walk that keeps lines lives in config_reader.py, the environments'
rules in environment_config.py; this module holds the rest of the schema.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType

from atlantis_py.core.config.environments import EnvironmentReader
from atlantis_py.core.config.reader import OPTION_KEYS, ORDER_KEYS, Path, format_path, kind
from atlantis_py.core.detect.atmos.config import SECTION_KEYS as ATMOS_KEYS
from atlantis_py.core.detect.atmos.config import settings_from_section
from atlantis_py.core.detect.atmos.errors import StackError, TemplateError
from atlantis_py.domain.projects import (
    DEFAULT_WHEN_MODIFIED,
    DEFAULT_WORKFLOW,
    Environment,
    Project,
    RepoConfig,
    Step,
    Workflow,
)

REPO_CONFIG_FILE = "workflows.yaml"
SCHEMA_VERSION = 1
STEP_NAMES = ("init", "validate", "plan", "apply", "import", "state_rm", "env", "run")
TERRAFORM_STEPS = ("init", "validate", "plan", "apply", "import", "state_rm")

__all__ = ["REPO_CONFIG_FILE", "format_path", "load_default_config", "parse_repo_config"]


def load_default_config() -> RepoConfig:
    """Config for a repo without workflows.yaml: projects are found from changed dirs."""
    return RepoConfig(explicit=False)


def parse_repo_config(text: str, file: str = REPO_CONFIG_FILE,
                      known_workflows: Collection[str] = ()) -> RepoConfig:
    """Parse and validate workflows.yaml; raises RepoConfigError on the first
    problem. Projects may also name `known_workflows` (the server's)."""
    validator = _Validator(file, text)
    validator.extra_workflows = frozenset(known_workflows)
    return validator.config()



class _Validator(EnvironmentReader):
    """Holds the positions of one document while its values are checked."""

    def config(self) -> RepoConfig:
        if self.doc is None:
            return RepoConfig(explicit=True)
        top = self.mapping(self.doc, (), ("version", "projects", "workflows", "environments",
                                          "atmos", *OPTION_KEYS))
        if "version" not in top:
            self.fail(("version",), f"missing 'version'; add `version: {SCHEMA_VERSION}` at the top")
        version = top["version"]
        if type(version) is not int or version != SCHEMA_VERSION:
            self.fail(("version",), f"unsupported version {version!r}; "
                      f"only `version: {SCHEMA_VERSION}` is supported")
        workflows = self.named(top.get("workflows"), ("workflows",), self.workflow)
        environments = self.named(top.get("environments"), ("environments",), self.environment)
        raw_projects = top.get("projects")
        items = [] if raw_projects is None else self.sequence(raw_projects, ("projects",))
        projects: list[Project] = []
        for i, item in enumerate(items):
            project = self.project(item, ("projects", i), workflows, environments)
            for other in projects:
                if other.name == project.name:
                    self.fail(("projects", i), f"project name {project.name!r} is used twice")
                if (other.dir, other.workspace) == (project.dir, project.workspace):
                    self.fail(("projects", i), f"dir {project.dir!r} with workspace "
                              f"{project.workspace!r} is used twice; give one another workspace")
            projects.append(project)
        self.dependencies_known(tuple(projects))
        atmos = self.atmos(top["atmos"], ("atmos",)) if "atmos" in top else None
        return RepoConfig(projects=tuple(projects), workflows=workflows,
                          environments=environments, explicit=True, atmos=atmos,
                          options=self.options(top, REPO_CONFIG_FILE))

    def atmos(self, value: object, path: Path) -> Mapping[str, object]:
        """Checked key by key, so an error points at the offending line; the
        whole section is then checked once more for what spans keys."""
        body = self.mapping(value, path, ATMOS_KEYS)
        for key, item in body.items():
            try:
                settings_from_section({key: item}, self.file)
            except (StackError, TemplateError) as err:
                self.fail((*path, key), getattr(err, "message", str(err)))
        try:
            settings_from_section(body, self.file)
        except (StackError, TemplateError) as err:
            self.fail(path, getattr(err, "message", str(err)))
        return MappingProxyType(dict(body))

    def project(self, value: object, path: Path, workflows: Mapping[str, Workflow],
                environments: Mapping[str, Environment]) -> Project:
        body = self.mapping(value, path, ("name", "dir", "workspace", "autoplan",
                                          "workflow", "environment", *ORDER_KEYS,
                                          "terraform_version"))
        directory, workspace, name = self.place(body, path)
        workflow = self.reference(body, path, "workflow",
                                  {**workflows, **dict.fromkeys(self.extra_workflows)})
        environment = self.reference(body, path, "environment", environments)
        enabled, when_modified = True, DEFAULT_WHEN_MODIFIED
        if "autoplan" in body:
            auto = self.mapping(body["autoplan"], (*path, "autoplan"),
                                ("enabled", "when_modified"))
            if "enabled" in auto:
                if not isinstance(auto["enabled"], bool):
                    self.fail((*path, "autoplan", "enabled"),
                              f"expected true or false, got {kind(auto['enabled'])}")
                enabled = auto["enabled"]
            if "when_modified" in auto:
                when_modified = self.strings(auto["when_modified"],
                                             (*path, "autoplan", "when_modified"))
        group, depends = self.order(body, path)
        return Project(name=name, dir=directory, workspace=workspace, workflow=workflow,
                       environment=environment, autoplan=enabled, when_modified=when_modified,
                       execution_order_group=group, depends_on=depends,
                       terraform_version=self.terraform_version(body, path))

    def reference(self, body: Mapping[str, object], path: Path, key: str,
                  defined: Mapping[str, object]) -> str:
        if key not in body:
            return "default"
        name = self.string(body[key], (*path, key))
        if name != "default" and name not in defined:
            known = ", ".join(["default", *sorted(n for n in defined if n != "default")])
            self.fail((*path, key), f"{key} {name!r} is not defined; known: {known}")
        return name

    def workflow(self, name: str, value: object, path: Path) -> Workflow:
        body = self.mapping(value, path, ("plan", "apply", "import", "state_rm"))
        stages: dict[str, tuple[Step, ...]] = {}
        for stage in ("plan", "apply", "import", "state_rm"):
            if stage not in body:
                continue
            stages[stage] = self.stage(body[stage], (*path, stage))
            self.own_stages(stages[stage], stage, path)
        return Workflow(name=name, plan=stages.get("plan", DEFAULT_WORKFLOW.plan),
                        apply=stages.get("apply", DEFAULT_WORKFLOW.apply),
                        imports=stages.get("import"), state_rm=stages.get("state_rm"))

    def stage(self, value: object, path: Path) -> tuple[Step, ...]:
        body = self.mapping(value, path, ("steps",))
        if "steps" not in body:
            self.fail(path, "missing 'steps'; list the steps to run")
        steps = self.sequence(body["steps"], (*path, "steps"))
        return tuple(self.step(item, (*path, "steps", i)) for i, item in enumerate(steps))

    def step(self, value: object, path: Path) -> Step:
        allowed = ", ".join(STEP_NAMES)
        if isinstance(value, str):
            if value in TERRAFORM_STEPS:
                return Step(value)
            if value in ("run", "env"):
                self.fail(path, f"step {value!r} needs a value, e.g. "
                          + ("{run: tflint}" if value == "run" else
                             "{env: {name: FOO, value: bar}}"))
            self.fail(path, f"unknown step {value!r}; allowed steps: {allowed}")
        if not isinstance(value, dict) or len(value) != 1:
            self.fail(path, "a step is a step name or a mapping with exactly one step name, "
                      f"got {kind(value)}")
        [(name, arg)] = value.items()
        at = (*path, name)
        if name == "run":
            return Step("run", run=self.string(arg, at))
        if name == "env":
            return self.env_step(self.mapping(arg, at, ("name", "value")), at)
        if name in TERRAFORM_STEPS:
            return self.terraform_step(name, arg, at)
        self.fail(at, f"unknown step {name!r}; allowed steps: {allowed}", at_key=True)

