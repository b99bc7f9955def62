"""Atlantis's run order: execution order groups, depends_on, and the words
that say why a project did not run."""

from __future__ import annotations

import pytest

from atlantis_py.core.config.schema import parse_repo_config
from atlantis_py.core.ordering import (
    Dependencies,
    aborted_reason,
    dependency_refusal,
    execution_groups,
    sequential_order,
)
from atlantis_py.domain.projects import RepoOptions
from atlantis_py.errors import RepoConfigError

GROUPS = {"a": 2, "b": 0, "c": 1, "d": 0, "e": 2}


def test_groups_ascend_and_keep_the_listed_order_within() -> None:
    names = ["a", "b", "c", "d", "e"]
    assert execution_groups(names, GROUPS.__getitem__) == [["b", "d"], ["c"], ["a", "e"]]
    assert sequential_order(names, GROUPS.__getitem__) == ["b", "d", "c", "a", "e"]


def test_no_groups_set_is_one_group_in_listed_order() -> None:
    assert execution_groups(["z", "y", "x"], lambda _: 0) == [["z", "y", "x"]]
    assert execution_groups([], lambda _: 0) == []


DEPS = Dependencies(touched={"dev", "staging", "prod", "unchanged", "done"},
                    settled={"unchanged", "done"},
                    groups={"dev": 1, "staging": 2, "prod": 2})


@pytest.mark.parametrize(("project", "depends_on", "unmet"), [
    ("staging", ["dev"], []),            # dev applies first, in a lower group
    ("prod", ["staging"], ["staging"]),  # same group: may run at once, cannot wait
    ("prod", ["done", "unchanged"], []),  # applied before / plans no change
    ("prod", ["elsewhere"], []),          # not touched by this pull request
    ("dev", ["staging", "ghost"], ["staging"]),
])
def test_unmet_dependencies(project: str, depends_on: list[str], unmet: list[str]) -> None:
    assert DEPS.unmet(project, depends_on) == unmet


def test_unmet_when_the_dependency_is_not_in_this_apply() -> None:
    only_prod = Dependencies(touched={"dev", "prod"}, settled=set(), groups={"prod": 5})
    assert only_prod.unmet("prod", ["dev"]) == ["dev"]


def test_failed_dependencies_are_those_this_apply_ran_without_success() -> None:
    assert DEPS.failed(["dev"], applied=set()) == ["dev"]
    assert DEPS.failed(["dev"], applied={"dev"}) == []
    assert DEPS.failed(["done", "elsewhere"], applied=set()) == []


def test_refusals_name_the_dependency_and_what_to_do() -> None:
    before = dependency_refusal("prod", ["staging"])
    assert "`staging`" in before and "`atlantis apply -p staging`" in before
    assert "execution_order_group" in before
    during = dependency_refusal("prod", ["dev"], ran=True)
    assert "`dev`" in during and "did not apply successfully" in during
    assert "`atlantis apply -p prod`" in during
    aborted = aborted_reason(1, ["net", "dns"], "apply")
    assert "group 1 failed (`net`, `dns`)" in aborted
    assert "abort_on_execution_order_fail" in aborted and "`atlantis apply`" in aborted


def test_workflows_yaml_takes_the_same_keys() -> None:
    config = parse_repo_config(
        "version: 1\nautomerge: true\nparallel_apply: true\n"
        "delete_source_branch_on_merge: true\nabort_on_execution_order_fail: true\n"
        "projects:\n- name: net\n  dir: net\n  execution_order_group: 1\n"
        "- name: app\n  dir: app\n  execution_order_group: 2\n  depends_on: [net]\n")
    assert config.options == RepoOptions(
        source="workflows.yaml", automerge=True, parallel_apply=True,
        delete_source_branch_on_merge=True, abort_on_execution_order_fail=True)
    net, app = config.projects
    assert (net.execution_order_group, net.depends_on) == (1, ())
    assert (app.execution_order_group, app.depends_on) == (2, ("net",))
    assert parse_repo_config("version: 1\n").options == RepoOptions()


@pytest.mark.parametrize(("text", "key", "message"), [
    ("version: 1\nautomerge: sure\n", "automerge", "expected true or false"),
    ("version: 1\nprojects:\n- dir: a\n  depends_on: [b]\n", "projects[0].depends_on[0]",
     "no project named 'b'"),
    ("version: 1\nprojects:\n- dir: a\n  execution_order_group: x\n",
     "projects[0].execution_order_group", "integer >= 0"),
])
def test_workflows_yaml_refuses_bad_values(text: str, key: str, message: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        parse_repo_config(text)
    assert caught.value.key == key and message in caught.value.message
