"""Rego policy sets over plan JSON, as conftest runs them: package main,
deny/violation/warn (and their `_suffix` forms), old and new rule syntax, and
broken policies failing closed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from atlantis_py.domain.policies import PolicySet, PolicySetResult, PolicySets
from atlantis_py.runner.policies import PolicyEngine, read_modules
from atlantis_py.runner.rego import compile_problem, evaluate

PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        {"address": "terraform_data.db", "type": "terraform_data",
         "change": {"actions": ["create"], "after": {"input": "forbidden"}}},
        {"address": "terraform_data.web", "type": "terraform_data",
         "change": {"actions": ["create"], "after": {"input": "big"}}},
    ],
}

NEW_SYNTAX = """\
package main

import rego.v1

deny contains msg if {
    some rc in input.resource_changes
    rc.change.after.input == "forbidden"
    msg := sprintf("%s has a forbidden input", [rc.address])
}

warn contains msg if {
    some rc in input.resource_changes
    rc.change.after.input == "big"
    msg := sprintf("%s is big", [rc.address])
}
"""

OLD_SYNTAX = """\
package main

deny[msg] {
    rc := input.resource_changes[_]
    rc.change.after.input == "forbidden"
    msg := sprintf("%s has a forbidden input", [rc.address])
}

violation[{"msg": msg, "details": {}}] {
    rc := input.resource_changes[_]
    rc.change.after.input == "big"
    msg := "violation object"
}

warn_size[msg] {
    msg := "suffixed warn"
}
"""


def test_new_syntax_denies_and_warns() -> None:
    assert evaluate("s", [("p.rego", NEW_SYNTAX)], PLAN) == PolicySetResult(
        name="s", passed=False, denies=("terraform_data.db has a forbidden input",),
        warnings=("terraform_data.web is big",))


def test_old_syntax_violation_objects_and_suffixed_rules() -> None:
    result = evaluate("s", [("p.rego", OLD_SYNTAX)], PLAN)
    assert not result.passed and result.error is None
    assert set(result.denies) == {"terraform_data.db has a forbidden input", "violation object"}
    assert result.warnings == ("suffixed warn",)


def test_a_plan_the_rules_do_not_match_passes_with_its_warnings() -> None:
    clean = {"resource_changes": [{"address": "terraform_data.web",
                                   "change": {"after": {"input": "big"}}}]}
    result = evaluate("s", [("p.rego", NEW_SYNTAX)], clean)
    assert result.passed and result.denies == ()
    assert result.warnings == ("terraform_data.web is big",)


def test_a_set_without_package_main_fails_closed_naming_its_packages() -> None:
    """conftest would check nothing and pass: a typo in `package` must not."""
    other = NEW_SYNTAX.replace("package main", "package other")
    result = evaluate("s", [("p.rego", other)], PLAN)
    assert not result.passed and result.error is not None
    assert "no rule in package main" in result.error
    assert "p.rego: package other" in result.error
    assert compile_problem([("p.rego", other)]) == result.error


def test_rules_in_main_from_another_file_are_enough() -> None:
    helper = "package lib\n\nlimit := 3\n"
    result = evaluate("s", [("lib.rego", helper), ("p.rego", NEW_SYNTAX)], PLAN)
    assert result.error is None and not result.passed


def test_package_main_without_a_queried_rule_fails_closed() -> None:
    helpers_only = "package main\n\nlimit := 3\nnames := {\"a\"}\n"
    result = evaluate("s", [("h.rego", helpers_only)], PLAN)
    assert not result.passed and result.error is not None
    assert "no deny, violation or warn rule" in result.error
    assert compile_problem([("h.rego", helpers_only)]) == result.error


def test_an_empty_package_main_fails_closed() -> None:
    result = evaluate("s", [("e.rego", "package main\n")], PLAN)
    assert not result.passed and result.error is not None
    assert "no rule in package main" in result.error
    assert "e.rego: package main" in result.error


def test_a_module_that_does_not_parse_fails_closed_with_file_and_line() -> None:
    broken = "package main\n\ndeny contains msg if {\n"
    result = evaluate("s", [("ok.rego", NEW_SYNTAX), ("broken.rego", broken)], PLAN)
    assert not result.passed
    assert result.error is not None and "broken.rego:3:" in result.error
    assert compile_problem([("broken.rego", broken)]) == result.error


def test_an_evaluation_error_fails_closed() -> None:
    conflicting = "package main\nimport rego.v1\ndeny := 1 if { true }\ndeny := 2 if { true }\n"
    result = evaluate("s", [("c.rego", conflicting)], PLAN)
    assert not result.passed and result.error is not None
    assert "failed to evaluate" in result.error


def test_no_modules_fails_closed() -> None:
    result = evaluate("s", [], PLAN)
    assert not result.passed and result.error == "the policy set has no .rego file"


def test_read_modules_skips_tests_and_reads_subfolders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.rego").write_text(NEW_SYNTAX)
    (tmp_path / "sub" / "b.rego").write_text("package main\n")
    (tmp_path / "a_test.rego").write_text("package main\n")
    (tmp_path / "notes.md").write_text("x")
    modules, problem = read_modules(PolicySet("s", str(tmp_path)))
    assert problem is None
    assert [name for name, _ in modules] == ["a.rego", "sub/b.rego"]


def test_read_modules_of_a_missing_or_empty_path(tmp_path: Path) -> None:
    assert read_modules(PolicySet("s", str(tmp_path / "nope")))[1] == \
        f"{tmp_path / 'nope'} does not exist"
    assert read_modules(PolicySet("s", str(tmp_path)))[1] == f"no .rego file in {tmp_path}"


def test_engine_checks_at_start_evaluates_and_forgets_fixed_problems(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    (good / "p.rego").write_text(NEW_SYNTAX)
    (bad / "p.rego").write_text("package main\ndeny contains msg if {\n")
    engine = PolicyEngine(PolicySets(file="policies.yaml", sets=(
        PolicySet("good", str(good)), PolicySet("bad", str(bad)))))
    with caplog.at_level(logging.ERROR):
        problems = engine.check()
    assert list(problems) == ["bad"] and "p.rego:2:" in problems["bad"]
    assert "policy set bad (policies.yaml) is broken" in caplog.text
    results = engine.evaluate(PLAN)
    assert [(r.name, r.passed, r.error is None) for r in results] == [
        ("good", False, True), ("bad", False, False)]
    (bad / "p.rego").write_text(NEW_SYNTAX)
    engine.evaluate(PLAN)
    assert engine.problems() == {}
