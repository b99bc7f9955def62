"""Walking a YAML document while keeping every value's line.

PyYAML's node tree is walked by hand instead of `safe_load` because only the
nodes carry line numbers; the walk yields plain values plus a line per path, so
every refusal can name the file, the line and the key path
(`projects[0].autoplan.when_modified`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import NoReturn, TypeVar

import yaml

from atlantis_py.core.detect.dirs import default_project_name
from atlantis_py.domain.projects import Project, RepoOptions, Step
from atlantis_py.domain.tfversions import parse_constraint
from atlantis_py.errors import RepoConfigError

# Aliases share nodes, so a "billion laughs" file is small but expands when
# walked; no honest config file comes near this.
_MAX_NODES = 100_000
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAME_RE = re.compile(r"^[^\s/]+$")

Path = tuple[str | int, ...]
_T = TypeVar("_T")

# Atlantis's repo-wide switches, at the top of atlantis.yaml and workflows.yaml alike
OPTION_KEYS = ("automerge", "parallel_plan", "parallel_apply", "delete_source_branch_on_merge",
               "abort_on_execution_order_fail")
# per project: the order projects run in (core/ordering.py)
ORDER_KEYS = ("execution_order_group", "depends_on")
# steps that change state run only in their own stage (`atlantis import`, `state rm`)
_OWN_STAGE = {"apply": "apply", "import": "import", "state_rm": "state_rm"}


def format_path(path: Path) -> str:
    """`("projects", 1, "dir")` → `projects[1].dir`; the top level is `(document)`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(document)"


class ConfigReader:
    """Holds the positions of one document while its values are checked.
    `extra_workflows` are names a project may use beyond the document's own
    (the server's, from repos.yaml)."""

    extra_workflows: frozenset[str] = frozenset()

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines: dict[Path, int] = {}
        self.key_lines: dict[Path, int] = {}
        self._nodes = 0
        loader: yaml.SafeLoader | None = None
        try:
            loader = yaml.SafeLoader(text)  # refuses control characters at once
            node = loader.get_single_node()
            self.doc = None if node is None else self._plain(loader, node, ())
        except yaml.reader.ReaderError as e:
            raise RepoConfigError(file, text.count("\n", 0, e.position) + 1, "(yaml)",
                                  f"invalid YAML: character #x{e.character:04x} "
                                  "is not allowed") from e
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            words = (getattr(e, "context", None), getattr(e, "problem", None))
            problem = " ".join(w for w in words if w) or str(e)
            raise RepoConfigError(file, line, "(yaml)", f"invalid YAML: {problem}") from e
        except RecursionError as e:
            raise RepoConfigError(file, None, "(yaml)", "nesting is too deep") from e
        finally:
            if loader is not None:
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
            self.fail(path, f"expected a mapping, got {kind(value)}")
        for key in value:
            if key not in allowed:
                self.fail((*path, key), f"unknown key {key!r}; allowed keys: "
                          + ", ".join(allowed), at_key=True)
        return value

    def sequence(self, value: object, path: Path) -> list[object]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {kind(value)}")
        return value

    def string(self, value: object, path: Path, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {kind(value)}")
        if not value.strip():
            self.fail(path, "must not be empty")
        if pattern is not None and not pattern.match(value):
            self.fail(path, f"{value!r} is not allowed here (no spaces or '/')")
        return value

    def place(self, body: Mapping[str, object], path: Path) -> tuple[str, str, str]:
        """A project entry's (dir, workspace, name); the name defaults as for a
        project found from a changed directory."""
        if "dir" not in body:
            self.fail(path, "missing 'dir'; give the directory relative to the repo root")
        directory = self.directory(body["dir"], (*path, "dir"))
        workspace = "default"
        if "workspace" in body:
            workspace = self.string(body["workspace"], (*path, "workspace"), NAME_RE)
        if "name" in body:
            return directory, workspace, self.string(body["name"], (*path, "name"), NAME_RE)
        return directory, workspace, default_project_name(directory, workspace)

    def directory(self, value: object, path: Path) -> str:
        raw = self.string(value, path)
        if raw.startswith("/") or "\\" in raw:
            self.fail(path, f"{raw!r} must be a relative path with '/' separators")
        normal = posixpath.normpath(raw)
        if normal == ".." or normal.startswith("../"):
            self.fail(path, f"{raw!r} points outside the repository")
        return normal

    def env_step(self, env: Mapping[str, object], at: Path) -> Step:
        """`env: {name, value}`, as workflows.yaml and atlantis.yaml write it."""
        for key in ("name", "value"):
            if key not in env:
                self.fail(at, f"missing {key!r}; an env step needs name and value")
        env_name = self.string(env["name"], (*at, "name"), ENV_VAR_RE)
        value = env["value"]
        if not isinstance(value, str):
            self.fail((*at, "value"), f"expected a string (quote it), got {kind(value)}")
        return Step("env", env_name=env_name, env_value=value)

    def terraform_step(self, name: str, arg: object, at: Path) -> Step:
        """init/validate/plan/apply, with their optional `extra_args`."""
        options = self.mapping(arg, at, ("extra_args",))
        extra = options.get("extra_args", [])
        return Step(name, extra_args=self.strings(extra, (*at, "extra_args")))

    def own_stages(self, steps: tuple[Step, ...], stage: str, path: Path) -> None:
        """Refuse a step that changes state outside its own stage: an apply at
        plan time would skip approval."""
        for i, step in enumerate(steps):
            if _OWN_STAGE.get(step.name, stage) == stage:
                continue
            where = "at plan time" if stage == "plan" else f"in the {stage} stage"
            self.fail((*path, stage, "steps", i), "an apply step cannot run "
                      f"{where}: it would skip approval" if step.name == "apply" else
                      f"step {step.name!r} runs only in the {step.name} stage "
                      f"(`atlantis {step.name.replace('_', ' ')}`)")

    def strings(self, value: object, path: Path) -> tuple[str, ...]:
        items = self.sequence(value, path)
        return tuple(self.string(item, (*path, i)) for i, item in enumerate(items))

    def named(self, value: object, path: Path, build: Callable[[str, object, Path], _T]
              ) -> dict[str, _T]:
        """A mapping of user-chosen names (workflows, environments) to bodies."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping of names, got {kind(value)}")
        for name in value:
            if not NAME_RE.match(name):
                self.fail((*path, name), f"name {name!r} must not contain spaces or '/'",
                          at_key=True)
        return {name: build(name, body, (*path, name)) for name, body in value.items()}

    # -- schema ---------------------------------------------------------------

    def count(self, body: Mapping[str, object], path: Path, key: str, default: int) -> int:
        raw = body.get(key, default)
        if type(raw) is not int or raw < 0:
            self.fail((*path, key), f"expected an integer >= 0, got {raw!r}")
        return raw

    def flag(self, body: Mapping[str, object], path: Path, key: str, default: bool) -> bool:
        raw = body.get(key, default)
        if not isinstance(raw, bool):
            self.fail((*path, key), f"expected true or false, got {kind(raw)}")
        return raw

    def options(self, top: Mapping[str, object], source: str) -> RepoOptions:
        """The OPTION_KEYS of a document's top level, with Atlantis's defaults
        (but parallel planning, which atlantis-py always did)."""
        d = RepoOptions()

        def flag(key: str, default: bool) -> bool:
            return self.flag(top, (), key, default)

        return RepoOptions(
            source=source, automerge=flag("automerge", d.automerge),
            parallel_plan=flag("parallel_plan", d.parallel_plan),
            parallel_apply=flag("parallel_apply", d.parallel_apply),
            delete_source_branch_on_merge=flag("delete_source_branch_on_merge",
                                               d.delete_source_branch_on_merge),
            abort_on_execution_order_fail=flag("abort_on_execution_order_fail",
                                               d.abort_on_execution_order_fail))

    def order(self, body: Mapping[str, object], path: Path) -> tuple[int, tuple[str, ...]]:
        """A project's `execution_order_group` (default 0) and `depends_on` names."""
        depends: tuple[str, ...] = ()
        if "depends_on" in body:
            depends = self.strings(body["depends_on"], (*path, "depends_on"))
        return self.count(body, path, "execution_order_group", 0), depends

    def dependencies_known(self, projects: tuple[Project, ...]) -> None:
        """Every `depends_on` names a project of the same file, and not itself."""
        names = {p.name for p in projects}
        for i, p in enumerate(projects):
            for j, dep in enumerate(p.depends_on):
                if dep not in names:
                    self.fail(("projects", i, "depends_on", j),
                              f"no project named {dep!r} in this file")
                if dep == p.name:
                    self.fail(("projects", i, "depends_on", j),
                              f"project {dep!r} cannot depend on itself")
    def terraform_version(self, body: Mapping[str, object], path: Path) -> str | None:
        """A version (`1.9.8`, `v1.9.8`) or constraint (`~> 1.9`); a YAML number
        like 1.10 would read as 1.1, so it must be quoted."""
        if "terraform_version" not in body:
            return None
        at = (*path, "terraform_version")
        value = body["terraform_version"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.fail(at, f"quote the version (terraform_version: \"{value}\"): YAML reads "
                      "an unquoted 1.10 as the number 1.1")
        return self.parsed(value, at, lambda text: str(parse_constraint(text)),
                           "a version like 1.9.8 or a constraint like '~> 1.9'")

    def parsed(self, value: object, path: Path, parse: Callable[[str], _T], form: str) -> _T:
        """A string in one of the policy text forms; ValueError becomes a located error."""
        if not isinstance(value, str):
            self.fail(path, f"expected {form}, got {kind(value)}")
        try:
            return parse(value)
        except ValueError as e:
            self.fail(path, str(e))


def kind(value: object) -> str:
    """The YAML word for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "a mapping", list: "a list", str: "a string", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)