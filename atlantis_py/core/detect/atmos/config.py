"""Where an Atmos repository keeps its stacks and components, and how it names them.

Read from the `atmos:` section of workflows.yaml (given as a plain dict) or,
failing that, from an atmos.yaml at the repository root, so an Atmos repo
works without any atlantis-specific configuration."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass

from atlantis_py.core.detect.atmos.errors import StackError
from atlantis_py.core.detect.atmos.names import StackNaming
from atlantis_py.core.detect.atmos.tree import Tree
from atlantis_py.core.detect.atmos.yamlload import load_mapping

ATMOS_YAML = "atmos.yaml"
SECTION_KEYS = ("components_path", "stacks_path", "included_paths", "excluded_paths",
                "name_pattern", "name_template", "project_name")
_PROJECT_TOKEN = re.compile(r"\{([^{}]*)\}")
_PROJECT_FIELDS = ("stack", "component", "component_folder")


@dataclass(frozen=True)
class AtmosSettings:
    """Paths are repo-relative folders with "/" separators; globs are relative
    to `stacks_path`. `project_name` may use {stack}, {component},
    {component_folder}. `source` names where the settings came from."""

    components_path: str = "components/terraform"
    stacks_path: str = "stacks"
    included_paths: tuple[str, ...] = ("**/*",)
    excluded_paths: tuple[str, ...] = ("**/_defaults.yaml",)
    name_pattern: str | None = None
    name_template: str | None = None
    project_name: str = "{stack}-{component}"
    source: str = ATMOS_YAML

    def naming(self) -> StackNaming:
        """Compiled once per detection; raises TemplateError for unsupported templates."""
        return StackNaming(self.name_pattern, self.name_template)

    def project(self, stack: str, component: str, folder: str) -> str:
        values = {"stack": stack, "component": component, "component_folder": folder}
        return _PROJECT_TOKEN.sub(lambda m: values[m.group(1)], self.project_name)


def _folder(value: object, where: str, key: str, base: str = "") -> str:
    if not isinstance(value, str) or not value.strip():
        raise StackError(where, None, f"{key} must be a non-empty string")
    if value.startswith("/"):
        raise StackError(where, None, f"{key} must be relative to the repository root, "
                                      f"got {value!r}")
    path = posixpath.normpath(posixpath.join(base, value.strip()))
    if path.startswith(".."):
        raise StackError(where, None, f"{key} points outside the repository: {value!r}")
    return path


def _globs(value: object, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StackError(where, None, f"{key} must be a list of glob strings")
    return tuple(v.removeprefix("./") for v in value)


def _optional_str(value: object, where: str, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StackError(where, None, f"{key} must be a string")
    return value


def _checked(settings: AtmosSettings) -> AtmosSettings:
    for token in _PROJECT_TOKEN.findall(settings.project_name):
        if token not in _PROJECT_FIELDS:
            raise StackError(settings.source, None,
                             f"project_name: unknown field {{{token}}}; known: "
                             + ", ".join("{" + f + "}" for f in _PROJECT_FIELDS))
    settings.naming()
    return settings


def settings_from_section(section: Mapping[str, object], file: str = "workflows.yaml"
                          ) -> AtmosSettings:
    """The `atmos:` section of workflows.yaml; unknown keys are errors."""
    where = f"{file} (atmos)"
    for key in section:
        if key not in SECTION_KEYS:
            raise StackError(where, None, f"unknown key {key!r}; allowed keys: "
                                          + ", ".join(SECTION_KEYS))
    d = AtmosSettings()
    return _checked(AtmosSettings(
        components_path=_folder(section.get("components_path", d.components_path), where,
                                "components_path"),
        stacks_path=_folder(section.get("stacks_path", d.stacks_path), where, "stacks_path"),
        included_paths=_globs(section.get("included_paths", list(d.included_paths)), where,
                              "included_paths"),
        excluded_paths=_globs(section.get("excluded_paths", list(d.excluded_paths)), where,
                              "excluded_paths"),
        name_pattern=_optional_str(section.get("name_pattern"), where, "name_pattern"),
        name_template=_optional_str(section.get("name_template"), where, "name_template"),
        project_name=_optional_str(section.get("project_name"), where, "project_name")
        or d.project_name,
        source=where,
    ))


def _get(doc: Mapping[str, object], *keys: str) -> object:
    value: object = doc
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def settings_from_atmos_yaml(data: bytes, file: str = ATMOS_YAML) -> AtmosSettings:
    """atmos.yaml's components.terraform.base_path, stacks.* and workflows.base_path
    (workflow files under the stacks folder are excluded: they are not stacks)."""
    doc = load_mapping(data, file)
    base = _get(doc, "base_path") or ""
    if not isinstance(base, str) or base.startswith("/"):
        raise StackError(file, None, "base_path must be a relative path")
    d = AtmosSettings()
    components = _get(doc, "components", "terraform", "base_path") or d.components_path
    stacks = _folder(_get(doc, "stacks", "base_path") or d.stacks_path, file,
                     "stacks.base_path", base)
    excluded = list(_globs(_get(doc, "stacks", "excluded_paths") or [], file,
                           "stacks.excluded_paths"))
    workflows = _get(doc, "workflows", "base_path")
    if isinstance(workflows, str) and workflows:
        wf = _folder(workflows, file, "workflows.base_path", base)
        if wf.startswith(stacks + "/"):
            excluded.append(wf[len(stacks) + 1:] + "/**")
    included = _get(doc, "stacks", "included_paths")
    return _checked(AtmosSettings(
        components_path=_folder(components, file, "components.terraform.base_path", base),
        stacks_path=stacks,
        included_paths=_globs(included, file, "stacks.included_paths") if included
        else d.included_paths,
        excluded_paths=tuple(excluded),
        name_pattern=_optional_str(_get(doc, "stacks", "name_pattern"), file,
                                   "stacks.name_pattern"),
        name_template=_optional_str(_get(doc, "stacks", "name_template"), file,
                                    "stacks.name_template"),
        source=file,
    ))


def discover_settings(tree: Tree, section: Mapping[str, object] | None = None
                      ) -> AtmosSettings | None:
    """The workflows.yaml section wins; else atmos.yaml at the root; else None
    (a plain-directory repository)."""
    if section is not None:
        return settings_from_section(section)
    if ATMOS_YAML not in tree.files(""):
        return None
    return settings_from_atmos_yaml(tree.read(ATMOS_YAML))
