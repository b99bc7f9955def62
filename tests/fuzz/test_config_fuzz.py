"""workflows.yaml from a pull request is untrusted: any text gets a RepoConfig or
a RepoConfigError naming the file, never another exception."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from atlantis_py.core.config.load import base_config, head_config
from atlantis_py.errors import RepoConfigError
from tests.fuzz.strategies import VALUES, mutated

EXAMPLE = Path(__file__).resolve().parents[2] / "workflows.yaml"
ATMOS = {"components_path": "components/terraform", "stacks_path": "stacks",
         "included_paths": ["orgs/**/*"], "excluded_paths": ["**/_defaults.yaml"],
         "name_pattern": "{tenant}-{environment}-{stage}",
         "project_name": "{stack}-{component}"}
KEYS = ["version", "projects", "workflows", "environments", "atmos", "dir", "name",
        "workspace", "autoplan", "enabled", "when_modified", "workflow", "environment",
        "plan", "apply", "steps", "run", "env", "value", "extra_args", "init",
        "required_approvals", "approvers", "name_template", "stacks_path"]


@cache
def example() -> dict[str, Any]:
    doc = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(doc, dict)
    return {**doc, "atmos": ATMOS}


def check(text: str) -> None:
    for load in (head_config, lambda t: base_config(t, "main")):
        try:
            load(text)
        except RepoConfigError as err:
            assert err.file.startswith("workflows.yaml") and err.message


SCHEMA_LIKE = st.recursive(
    VALUES,
    lambda inner: st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    | st.lists(inner, max_size=3),
    max_leaves=15,
)


@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check(text)


@given(SCHEMA_LIKE)
def test_any_document_in_the_schemas_words(doc: object) -> None:
    check(yaml.safe_dump({"version": 1, "projects": doc} if isinstance(doc, list) else doc))


@settings(max_examples=200)
@given(st.data())
def test_the_documented_example_mutated_by_type(data: st.DataObject) -> None:
    doc = data.draw(mutated(example(), replacements=SCHEMA_LIKE))
    check(yaml.safe_dump(doc, allow_unicode=True))


def test_the_documented_example_loads() -> None:
    """The baseline the mutations start from is valid."""
    config = head_config(yaml.safe_dump(example()))
    assert config.projects and config.atmos is not None
