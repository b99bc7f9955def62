"""workflows.yaml → RepoConfig.

The file comes from a pull request's repository, so it is untrusted and often
hand-edited: every refusal names the file, the line and the key path
(`projects[0].autoplan.when_modified`, indexes from 0) and says what is allowed.
PyYAML's node tree is walked by hand instead of `safe_load` because only the
nodes carry line numbers; the walk yields plain values plus a line per path,
and validation then builds the domain types from those.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import NoReturn, TypeVar

import yaml

from atlantis_py.core.detect.atmos.config import SECTION_KEYS as ATMOS_KEYS
from atlantis_py.core.detect.atmos.config import settings_from_section
from atlantis_py.core.detect.atmos.errors import StackError, TemplateError
from atlantis_py.domain.policy import (
    DAYS_FORMAT,
    DURATION_FORMAT,
    HOURS_FORMAT,
    ApplyWindow,
    DestroyRule,
    check_timezone,
    parse_days,
    parse_duration,
    parse_hours,
)
from atlantis_py.domain.projects import (
    DEFAULT_WORKFLOW,
    Environment,
    Project,
    RepoConfig,
    Step,
    Workflow,
)
from atlantis_py.errors import RepoConfigError

REPO_CONFIG_FILE = "workflows.yaml"
SCHEMA_VERSION = 1
STEP_NAMES = ("init", "validate", "plan", "apply", "env", "run")
TERRAFORM_STEPS = ("init", "validate", "plan", "apply")
DEFAULT_WHEN_MODIFIED: tuple[str, ...] = ("*.tf*",)
ENVIRONMENT_KEYS = ("required_approvals", "approvers", "allow_self_approval", "approval_ttl",
                    "review_deadline", "apply_window", "destroy_requires", "appliers")

# Aliases share nodes, so a "billion laughs" file is small but expands when
# walked; no honest workflows.yaml comes near this.
_MAX_NODES = 100_000
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_NAME_RE = re.compile(r"^[^\s/]+$")
_ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Path = tuple[str | int, ...]
_T = TypeVar("_T")


def load_default_config() -> RepoConfig:
    """Config for a repo without workflows.yaml: projects are found from changed dirs."""
    return RepoConfig(explicit=False)


def parse_repo_config(text: str, file: str = REPO_CONFIG_FILE) -> RepoConfig:
    """Parse and validate workflows.yaml; raises RepoConfigError on the first problem."""
    return _Validator(file, text).config()


def format_path(path: Path) -> str:
    """`("projects", 1, "dir")` → `projects[1].dir`; the top level is `(document)`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(document)"


class _Validator:
    """Holds the positions of one document while its values are checked."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines: dict[Path, int] = {}
        self.key_lines: dict[Path, int] = {}
        self._nodes = 0
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            self.doc = None if node is None else self._plain(loader, node, ())
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            words = (getattr(e, "context", None), getattr(e, "problem", None))
            problem = " ".join(w for w in words if w) or str(e)
            raise RepoConfigError(file, line, "(yaml)", f"invalid YAML: {problem}") from e
        except RecursionError as e:
            raise RepoConfigError(file, None, "(yaml)", "nesting is too deep") from e
        finally:
            loader.dispose()

    # -- node tree → plain values -------------------------------------------

    def _plain(self, loader: yaml.SafeLoader, node: yaml.Node, path: Path) -> object:
        self._nodes += 1
        if self._nodes > _MAX_NODES:
            self.fail(path, f"document is too large (more than {_MAX_NODES} values)")
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_TAGS:
            self.fail(path, f"YAML tag {node.tag!r} is not allowed")
        if isinstance(node, yaml.SequenceNode):
            return [self._plain(loader, item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)
            out: dict[str, object] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    raise RepoConfigError(self.file, line, format_path(path), "keys must be text")
                key = str(key_node.value)
                self.key_lines[(*path, key)] = line
                if key in out:
                    self.fail((*path, key), "duplicate key", at_key=True)
                out[key] = self._plain(loader, value_node, (*path, key))
            return out
        return loader.construct_object(node, deep=True)

    # -- typed accessors ------------------------------------------------------

    def fail(self, path: Path, message: str, at_key: bool = False) -> NoReturn:
        line = self.key_lines.get(path) if at_key else None
        probe = path
        while line is None:
            line = self.lines.get(probe)
            if not probe:
                break
            probe = probe[:-1]
        raise RepoConfigError(self.file, line, format_path(path), message)

    def mapping(self, value: object, path: Path, allowed: tuple[str, ...]) -> dict[str, object]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in allowed:
                self.fail((*path, key), f"unknown key {key!r}; allowed keys: "
                          + ", ".join(allowed), at_key=True)
        return value

    def sequence(self, value: object, path: Path) -> list[object]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_kind(value)}")
        return value

    def string(self, value: object, path: Path, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {_kind(value)}")
        if not value.strip():
            self.fail(path, "must not be empty")
        if pattern is not None and not pattern.match(value):
            self.fail(path, f"{value!r} is not allowed here (no spaces or '/')")
        return value

    def strings(self, value: object, path: Path) -> tuple[str, ...]:
        items = self.sequence(value, path)
        return tuple(self.string(item, (*path, i)) for i, item in enumerate(items))

    def named(self, value: object, path: Path, build: Callable[[str, object, Path], _T]
              ) -> dict[str, _T]:
        """A mapping of user-chosen names (workflows, environments) to bodies."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping of names, got {_kind(value)}")
        for name in value:
            if not _NAME_RE.match(name):
                self.fail((*path, name), f"name {name!r} must not contain spaces or '/'",
                          at_key=True)
        return {name: build(name, body, (*path, name)) for name, body in value.items()}

    # -- schema ---------------------------------------------------------------

    def config(self) -> RepoConfig:
        if self.doc is None:
            return RepoConfig(explicit=True)
        top = self.mapping(self.doc, (), ("version", "projects", "workflows", "environments",
                                          "atmos"))
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
        atmos = self.atmos(top["atmos"], ("atmos",)) if "atmos" in top else None
        return RepoConfig(projects=tuple(projects), workflows=workflows,
                          environments=environments, explicit=True, atmos=atmos)

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
                                          "workflow", "environment"))
        if "dir" not in body:
            self.fail(path, "missing 'dir'; give the directory relative to the repo root")
        directory = self.directory(body["dir"], (*path, "dir"))
        workspace = "default"
        if "workspace" in body:
            workspace = self.string(body["workspace"], (*path, "workspace"), _NAME_RE)
        if "name" in body:
            name = self.string(body["name"], (*path, "name"), _NAME_RE)
        else:
            name = "root" if directory == "." else directory.replace("/", "_")
            name += "" if workspace == "default" else f"-{workspace}"
        workflow = self.reference(body, path, "workflow", workflows)
        environment = self.reference(body, path, "environment", environments)
        enabled, when_modified = True, DEFAULT_WHEN_MODIFIED
        if "autoplan" in body:
            auto = self.mapping(body["autoplan"], (*path, "autoplan"),
                                ("enabled", "when_modified"))
            if "enabled" in auto:
                if not isinstance(auto["enabled"], bool):
                    self.fail((*path, "autoplan", "enabled"),
                              f"expected true or false, got {_kind(auto['enabled'])}")
                enabled = auto["enabled"]
            if "when_modified" in auto:
                when_modified = self.strings(auto["when_modified"],
                                             (*path, "autoplan", "when_modified"))
        return Project(name=name, dir=directory, workspace=workspace, workflow=workflow,
                       environment=environment, autoplan=enabled, when_modified=when_modified)

    def directory(self, value: object, path: Path) -> str:
        raw = self.string(value, path)
        if raw.startswith("/") or "\\" in raw:
            self.fail(path, f"{raw!r} must be a relative path with '/' separators")
        normal = posixpath.normpath(raw)
        if normal == ".." or normal.startswith("../"):
            self.fail(path, f"{raw!r} points outside the repository")
        return normal

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
        body = self.mapping(value, path, ("plan", "apply"))
        plan, apply = DEFAULT_WORKFLOW.plan, DEFAULT_WORKFLOW.apply
        if "plan" in body:
            plan = self.stage(body["plan"], (*path, "plan"))
            for i, step in enumerate(plan):
                if step.name == "apply":
                    self.fail((*path, "plan", "steps", i),
                              "an apply step cannot run at plan time: it would skip approval")
        if "apply" in body:
            apply = self.stage(body["apply"], (*path, "apply"))
        return Workflow(name=name, plan=plan, apply=apply)

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
                      f"got {_kind(value)}")
        [(name, arg)] = value.items()
        at = (*path, name)
        if name == "run":
            return Step("run", run=self.string(arg, at))
        if name == "env":
            env = self.mapping(arg, at, ("name", "value"))
            for key in ("name", "value"):
                if key not in env:
                    self.fail(at, f"missing {key!r}; an env step needs name and value")
            env_name = self.string(env["name"], (*at, "name"), _ENV_VAR_RE)
            if not isinstance(env["value"], str):
                self.fail((*at, "value"), f"expected a string (quote it), "
                          f"got {_kind(env['value'])}")
            return Step("env", env_name=env_name, env_value=env["value"])
        if name in TERRAFORM_STEPS:
            options = self.mapping(arg, at, ("extra_args",))
            extra = options.get("extra_args", [])
            return Step(name, extra_args=self.strings(extra, (*at, "extra_args")))
        self.fail(at, f"unknown step {name!r}; allowed steps: {allowed}", at_key=True)

    def environment(self, name: str, value: object, path: Path) -> Environment:
        body = self.mapping(value, path, ENVIRONMENT_KEYS)
        default = Environment(name)
        window = body.get("apply_window")
        destroy = body.get("destroy_requires")
        return Environment(
            name=name,
            required_approvals=self.count(body, path, "required_approvals",
                                          default.required_approvals),
            approvers=self.strings(body.get("approvers", []), (*path, "approvers")),
            allow_self_approval=self.flag(body, path, "allow_self_approval", False),
            approval_ttl=self.duration(body, path, "approval_ttl"),
            review_deadline=self.duration(body, path, "review_deadline"),
            apply_window=None if window is None else self.window(window,
                                                                 (*path, "apply_window")),
            destroy_requires=None if destroy is None else self.destroy(
                destroy, (*path, "destroy_requires")),
            appliers=self.strings(body.get("appliers", []), (*path, "appliers")),
        )

    def count(self, body: Mapping[str, object], path: Path, key: str, default: int) -> int:
        raw = body.get(key, default)
        if type(raw) is not int or raw < 0:
            self.fail((*path, key), f"expected an integer >= 0, got {raw!r}")
        return raw

    def flag(self, body: Mapping[str, object], path: Path, key: str, default: bool) -> bool:
        raw = body.get(key, default)
        if not isinstance(raw, bool):
            self.fail((*path, key), f"expected true or false, got {_kind(raw)}")
        return raw

    def parsed(self, value: object, path: Path, parse: Callable[[str], _T], form: str) -> _T:
        """A string in one of the policy text forms; ValueError becomes a located error."""
        if not isinstance(value, str):
            self.fail(path, f"expected {form}, got {_kind(value)}")
        try:
            return parse(value)
        except ValueError as e:
            self.fail(path, str(e))

    def duration(self, body: Mapping[str, object], path: Path, key: str) -> timedelta | None:
        if body.get(key) is None:
            return None
        return self.parsed(body[key], (*path, key), parse_duration, DURATION_FORMAT)

    def window(self, value: object, path: Path) -> ApplyWindow:
        body = self.mapping(value, path, ("days", "hours", "timezone"))
        if not body:
            self.fail(path, "give at least one of days, hours, timezone")
        window = ApplyWindow()
        days, (start, end), zone = window.weekdays, (window.start, window.end), window.timezone
        if "days" in body:
            raw, at = body["days"], (*path, "days")
            if isinstance(raw, list):
                try:
                    days = parse_days(self.strings(raw, at))
                except ValueError as e:
                    self.fail(at, str(e))
            else:
                days = self.parsed(raw, at, parse_days, DAYS_FORMAT)
        if "hours" in body:
            start, end = self.parsed(body["hours"], (*path, "hours"), parse_hours, HOURS_FORMAT)
        if "timezone" in body:
            zone = self.parsed(body["timezone"], (*path, "timezone"), check_timezone,
                               "an IANA time zone name such as 'Europe/Berlin'")
        return ApplyWindow(weekdays=days, start=start, end=end, timezone=zone)

    def destroy(self, value: object, path: Path) -> DestroyRule:
        body = self.mapping(value, path, ("required_approvals", "approvers"))
        if not body:
            self.fail(path, "give required_approvals, approvers or both")
        required = self.count(body, path, "required_approvals", 0) \
            if "required_approvals" in body else None
        return DestroyRule(required_approvals=required,
                           approvers=self.strings(body.get("approvers", []),
                                                  (*path, "approvers")))


def _kind(value: object) -> str:
    """The YAML word for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)
