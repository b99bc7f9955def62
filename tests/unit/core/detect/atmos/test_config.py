from __future__ import annotations

import pytest

from atlantis_py.core.detect.atmos import (
    AtmosSettings,
    MemoryTree,
    StackError,
    TemplateError,
    discover_settings,
    settings_from_atmos_yaml,
    settings_from_section,
)


def test_example_atmos_yaml(example: dict[str, str]) -> None:
    s = settings_from_atmos_yaml(example["atmos.yaml"].encode())
    assert s.components_path == "components/terraform"
    assert s.stacks_path == "stacks"
    assert s.included_paths == ("orgs/**/*",)
    assert s.excluded_paths == ("**/_defaults.yaml", "workflows/**")
    assert s.name_template is not None and s.name_template.startswith("{{ if eq .vars.stage")


def test_base_path_prefixes_the_folders() -> None:
    s = settings_from_atmos_yaml(b"base_path: infra\ncomponents:\n  terraform:\n"
                                 b"    base_path: components/terraform\nstacks:\n"
                                 b"  base_path: stacks\n  name_pattern: '{stage}'\n")
    assert (s.components_path, s.stacks_path, s.name_pattern) == (
        "infra/components/terraform", "infra/stacks", "{stage}")


def test_workflows_section_wins_over_atmos_yaml() -> None:
    tree = MemoryTree({"atmos.yaml": "stacks:\n  base_path: other\n"})
    s = discover_settings(tree, {"stacks_path": "stacks", "project_name": "{component}@{stack}"})
    assert s == AtmosSettings(project_name="{component}@{stack}", source="workflows.yaml (atmos)")
    assert s.project("dev", "vpc", "vpc") == "vpc@dev"


def test_plain_repo_has_no_settings() -> None:
    assert discover_settings(MemoryTree({"main.tf": ""})) is None


@pytest.mark.parametrize("section, message", [
    ({"stack_path": "x"}, "unknown key 'stack_path'"),
    ({"stacks_path": "/abs"}, "relative to the repository root"),
    ({"stacks_path": "../up"}, "outside the repository"),
    ({"included_paths": 3}, "list of glob strings"),
    ({"project_name": "{stack}-{nope}"}, "unknown field {nope}"),
])
def test_bad_section(section: dict[str, object], message: str) -> None:
    with pytest.raises(StackError, match=message):
        settings_from_section(section)


def test_unsupported_template_fails_at_load() -> None:
    with pytest.raises(TemplateError, match="printf"):
        settings_from_section({"name_template": '{{ printf "%s" .vars.stage }}'})
