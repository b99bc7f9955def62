"""plan_counts on real plan JSON, and the Terraform wrapper on real terraform."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

import atlantis_py.runner.process as process_module
from atlantis_py.domain.results import PlanCounts
from atlantis_py.runner.terraform import (
    TIMEOUT_RETURNCODE,
    Terraform,
    TerraformError,
    execute,
    matching_env,
    passthrough_env,
    plan_counts,
)
from tests.unit.runner.conftest import BACKEND, TF_DATA

# Written by tests/fixtures/plan-json/make.py from real `terraform show` output.
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plan-json"
SUMMARY = re.compile(
    r"^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy(?:, \d+ to forget)?\.", re.MULTILINE
)
NO_CHANGES = "No changes. Your infrastructure matches the configuration."

# (case, add, change, destroy, replace), read off each case's configurations in make.py.
KNOWN = [
    ("create", 3, 0, 0, 0),
    ("update", 0, 1, 0, 0),
    ("delete", 0, 0, 1, 0),
    ("replace", 2, 0, 2, 2),  # one delete-then-create, one create_before_destroy
    ("no-changes", 0, 0, 0, 0),
    ("empty", 0, 0, 0, 0),
    ("sensitive", 1, 1, 0, 0),
    ("forget", 0, 0, 0, 0),  # a forget is neither added nor destroyed
    ("mixed", 2, 2, 2, 1),
]
# (case, actions of every resource change), so each case covers what it is named for.
ACTIONS = {
    "create": [["create"]] * 3,
    "update": [["update"], ["no-op"]],
    "delete": [["delete"], ["no-op"]],
    "replace": [["create", "delete"], ["delete", "create"]],
    "no-changes": [["no-op"]],
    "empty": [],
    "sensitive": [["create"], ["update"]],
    "forget": [["forget"], ["no-op"]],
    "mixed": [["create"], ["forget"], ["update"], ["delete"], ["no-op"], ["delete", "create"],
              ["update"]],
}


def _load(case: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / case / "plan.json").read_text())
    return data


def _independent_counts(plan: dict[str, Any]) -> PlanCounts:
    """The same rule as terraform's summary, phrased differently: anything
    that creates adds, anything that deletes destroys, both is a replace."""
    actions = [set(r["change"]["actions"]) for r in plan.get("resource_changes", [])]
    return PlanCounts(
        add=sum("create" in a for a in actions),
        change=sum(a == {"update"} for a in actions),
        destroy=sum("delete" in a for a in actions),
        replace=sum(a == {"create", "delete"} for a in actions),
    )


def test_every_fixture_is_in_the_table() -> None:
    on_disk = {p.parent.name for p in FIXTURES.glob("*/plan.json")}
    assert on_disk == {name for name, *_ in KNOWN} == set(ACTIONS)
    assert {p.parent.name for p in FIXTURES.glob("*/plan.txt")} == on_disk


@pytest.mark.parametrize(("case", "add", "change", "destroy", "replace"), KNOWN)
def test_plan_counts(case: str, add: int, change: int, destroy: int, replace: int) -> None:
    plan = _load(case)
    assert [r["change"]["actions"] for r in plan.get("resource_changes", [])] == ACTIONS[case]
    counts = plan_counts(plan)
    assert counts == PlanCounts(add=add, change=change, destroy=destroy, replace=replace)
    assert counts == _independent_counts(plan)


@pytest.mark.parametrize("case", [name for name, *_ in KNOWN])
def test_plan_counts_match_terraforms_own_summary(case: str) -> None:
    text = (FIXTURES / case / "plan.txt").read_text()
    counts = plan_counts(_load(case))
    match = SUMMARY.search(text)
    if match is None:
        assert NO_CHANGES in text, case
        assert counts == PlanCounts()
        return
    assert (counts.add, counts.change, counts.destroy) == tuple(map(int, match.groups()[:3]))


def test_sensitive_values_stay_marked() -> None:
    plan = _load("sensitive")
    changes = {r["address"]: r["change"] for r in plan["resource_changes"]}
    assert changes["terraform_data.db_password"]["after_sensitive"]["input"] is True
    assert changes["terraform_data.api_token"]["after_sensitive"]["input"]["token"] is True
    assert plan["output_changes"]["api_token"]["after_sensitive"] is True
    text = (FIXTURES / "sensitive" / "plan.txt").read_text()
    assert "(sensitive value)" in text and "rotated-for-tests-only" not in text


def test_fixtures_name_no_machine_paths() -> None:
    for path in FIXTURES.glob("*/plan.*"):
        text = path.read_text()
        assert "/tmp" not in text and '"timestamp"' not in text, path


def test_plan_counts_ignores_drift_reads_and_malformed_entries() -> None:
    plan = {
        "resource_drift": [{"change": {"actions": ["update"]}}],
        "resource_changes": [
            {"mode": "data", "change": {"actions": ["read"]}},
            {"change": {"actions": ["create", "delete"]}},
            {"change": {}},
            {},
        ],
    }
    assert plan_counts(plan) == PlanCounts(add=1, destroy=1, replace=1)
    assert plan_counts({}) == PlanCounts()


# -- real terraform -----------------------------------------------------------


def _project(tmp_path: Path, value: str = "a") -> Path:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    (work / "main.tf").write_text(BACKEND + TF_DATA.format(value=value))
    return work


def _init(tf: Terraform, work: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    run = tf.init(
        work,
        [
            f"-backend-config=path={state}/terraform.tfstate",
            f"-backend-config=workspace_dir={state}",
        ],
    )
    assert run.ok, run.output


def test_plan_apply_change_cycle(tf: Terraform, tmp_path: Path) -> None:
    work = _project(tmp_path)
    _init(tf, work, tmp_path)
    planfile = tmp_path / "plans" / "x.tfplan"
    planfile.parent.mkdir()

    plan = tf.plan(work, planfile)
    assert plan.returncode == 2 and plan.ok, plan.output
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.output
    assert "\x1b[" not in plan.output
    assert plan_counts(tf.show_json(work, planfile)) == PlanCounts(add=1)

    apply = tf.apply(work, planfile)
    assert apply.ok, apply.output
    state = json.loads((tmp_path / "state" / "terraform.tfstate").read_text())
    assert [r["type"] for r in state["resources"]] == ["terraform_data"]

    same = tf.plan(work, planfile)
    assert same.returncode == 0 and same.ok
    assert plan_counts(tf.show_json(work, planfile)) == PlanCounts()

    # terraform 1.11 updates terraform_data.input in place (output is recomputed).
    (work / "main.tf").write_text(BACKEND + TF_DATA.format(value="b"))
    changed = tf.plan(work, planfile)
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in changed.output
    assert plan_counts(tf.show_json(work, planfile)) == PlanCounts(change=1)


def test_failing_plan_is_not_ok(tf: Terraform, tmp_path: Path) -> None:
    work = _project(tmp_path)
    _init(tf, work, tmp_path)
    (work / "bad.tf").write_text('output "o" { value = var.missing }\n')
    run = tf.plan(work, tmp_path / "p.tfplan")
    assert run.returncode == 1 and not run.ok
    assert "Reference to undeclared input variable" in run.output
    assert not (tmp_path / "p.tfplan").exists()


def test_workspaces(tf: Terraform, tmp_path: Path) -> None:
    work = _project(tmp_path)
    _init(tf, work, tmp_path)
    assert tf.select_workspace(work, "default") is None
    created = tf.select_workspace(work, "staging")
    assert created is not None
    assert created.ok, created.output
    assert tf.current_workspace(work) == "staging"
    assert tf.select_workspace(work, "staging") is None
    back = tf.select_workspace(work, "default")
    assert back is not None and back.ok
    assert tf.current_workspace(work) == "default"
    with pytest.raises(ValueError):
        tf.select_workspace(work, "-chdir=/")


def test_show_json_of_a_missing_plan(tf: Terraform, tmp_path: Path) -> None:
    with pytest.raises(TerraformError, match="show -json failed"):
        tf.show_json(tmp_path, tmp_path / "nope.tfplan")


def test_environment_is_explicit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    tf = Terraform(plugin_cache_dir=tmp_path / "cache", env={"AWS_REGION": "eu-west-1"})
    env = tf.environment({"EXTRA": "1"})
    assert "GITHUB_TOKEN" not in env
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["TF_IN_AUTOMATION"] == "1" and env["TF_INPUT"] == "0"
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache")
    assert (tmp_path / "cache").is_dir()
    assert env["AWS_REGION"] == "eu-west-1" and env["EXTRA"] == "1"
    run = execute(["env"], tmp_path, env, timeout=60)
    assert "ghp_secret" not in run.output


def test_timeout_and_missing_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The timed-out process is stopped: by SIGINT, or by SIGKILL after the grace
    period when SIGINT is ignored (as it is under some test runners' workers)."""
    monkeypatch.setattr(process_module, "_INTERRUPT_GRACE", 0.5)
    slow = execute(["sleep", "300"], tmp_path, {"PATH": "/usr/bin:/bin"}, timeout=0.2)
    assert slow.returncode == TIMEOUT_RETURNCODE and not slow.ok
    assert "timed out after 0.2 seconds" in slow.output
    assert slow.duration < 120  # far below the 300 s it would run if not stopped
    missing = Terraform(binary=str(tmp_path / "no-terraform")).validate(tmp_path)
    assert missing.returncode == 127 and "cannot run" in missing.output


@pytest.mark.parametrize("globs, expected", [
    pytest.param((), set(), id="none"),
    pytest.param(("AWS_*",), {"AWS_ACCESS_KEY_ID", "AWS_ROLE_ARN"}, id="prefix"),
    pytest.param(("AWS_ROLE_ARN", "GOOGLE_*"), {"AWS_ROLE_ARN", "GOOGLE_CREDENTIALS"},
                 id="exact-and-prefix"),
    pytest.param(("TF_TOKEN_*",), {"TF_TOKEN_app_terraform_io"}, id="tf-token"),
    pytest.param(("aws_*",), set(), id="case-sensitive"),
    pytest.param(("*_TOKEN",), {"GITHUB_TOKEN"}, id="atlantis-never"),
    pytest.param(("ATLANTIS_*",), set(), id="atlantis-glob-never"),
])
def test_passthrough_globs(globs: tuple[str, ...], expected: set[str]) -> None:
    environ = {"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_ROLE_ARN": "arn:aws:iam::1:role/x",
               "GOOGLE_CREDENTIALS": "{}", "TF_TOKEN_app_terraform_io": "tok",
               "ATLANTIS_GH_TOKEN": "ghp_server", "ATLANTIS_GITLAB_TOKEN": "glpat",
               "GITHUB_TOKEN": "ghp_other_x", "PATH": "/usr/bin"}
    assert set(matching_env(globs, environ)) == expected
    env = passthrough_env(globs, environ)
    assert set(env) == expected | {"PATH"}
    assert "ghp_server" not in env.values()


def test_terraform_and_run_steps_see_passed_through_variables(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "passed-through-secret")
    monkeypatch.setenv("ATLANTIS_GH_TOKEN", "ghp_server_token")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    tf = Terraform(passthrough=("AWS_*", "ATLANTIS_*"))
    run = execute(["env"], tmp_path, tf.environment({"TF_VAR_x": "per-project"}), timeout=60)
    assert "AWS_SECRET_ACCESS_KEY=passed-through-secret" in run.output
    assert "TF_VAR_x=per-project" in run.output
    assert "ghp_server_token" not in run.output and "ghp_secret" not in run.output
    assert "passed-through-secret" not in execute(["env"], tmp_path, Terraform().environment(),
                                                  timeout=60).output


def test_a_pinned_binary_is_named_to_run_steps_as_atlantis_does(tmp_path: Path) -> None:
    base = Terraform("terraform", plugin_cache_dir=tmp_path / "cache")
    assert "ATLANTIS_TERRAFORM_VERSION" not in base.environment()
    pinned = base.using("/opt/tf/terraform1.9.8", "1.9.8")
    env = pinned.environment()
    assert (pinned.binary, env["ATLANTIS_TERRAFORM_VERSION"]) == ("/opt/tf/terraform1.9.8",
                                                                  "1.9.8")
    assert env["PATH"].split(os.pathsep)[-1] == "/opt/tf"
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "cache")
    assert base.binary == "terraform"  # the server's own is unchanged
