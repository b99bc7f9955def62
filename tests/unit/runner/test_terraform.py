"""plan_counts on real plan JSON, and the Terraform wrapper on real terraform."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import atlantis_py.runner.terraform as terraform_module
from atlantis_py.domain.results import PlanCounts
from atlantis_py.runner.terraform import (
    TIMEOUT_RETURNCODE,
    Terraform,
    TerraformError,
    execute,
    plan_counts,
)
from tests.unit.runner.conftest import BACKEND, TF_DATA

FIXTURES = Path("/work/shared/fixtures/plan-json")
SUMMARY = re.compile(r"^Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.", re.MULTILINE)

# (file, add, change, destroy, replace), read off each file's actions by hand.
KNOWN = [
    ("terraform-json/sanitize-basic/basic.json", 0, 1, 0, 0),
    ("terraform-json/action_reason/plan.json", 1, 0, 1, 1),
    ("terraform-json/110_sensitive_values/plan.json", 7, 0, 0, 0),
    ("terraform-compliance/test_issue_522/plan.out.json", 5, 1, 2, 0),
    ("tf-plan-format/sensitive/terraform.tfplan.json", 1, 0, 1, 1),
    ("tf-plan-format/update/terraform.tfplan.json", 0, 1, 0, 0),
    ("tf-plan-format/no-resources/terraform.tfplan.json", 0, 0, 0, 0),
    ("tf-plan-format/no-op/terraform.tfplan.json", 0, 0, 0, 0),
    ("tf-plan-format/delete-create/terraform.tfplan.json", 1, 0, 1, 1),
    ("tf-plan-format/delete/terraform.tfplan.json", 0, 0, 1, 0),
    ("terraform-plan-comment/basic/0-create/plan.json", 3, 0, 0, 0),
    ("terraform-plan-comment/basic/1-modify/plan.json", 2, 0, 2, 2),
    ("terraform-plan-comment/basic/2-delete/plan.json", 0, 0, 2, 0),
    ("terraform-plan-comment/basic/3-remove/plan.json", 0, 0, 0, 0),
]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
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
    on_disk = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.json")}
    assert on_disk == {name for name, *_ in KNOWN}


@pytest.mark.parametrize(("name", "add", "change", "destroy", "replace"), KNOWN)
def test_plan_counts(name: str, add: int, change: int, destroy: int, replace: int) -> None:
    plan = _load(name)
    counts = plan_counts(plan)
    assert counts == PlanCounts(add=add, change=change, destroy=destroy, replace=replace)
    assert counts == _independent_counts(plan)


@pytest.mark.parametrize("txt", sorted(FIXTURES.rglob("plan.txt")), ids=lambda p: p.parent.name)
def test_plan_counts_match_terraforms_own_summary(txt: Path) -> None:
    match = SUMMARY.search(txt.read_text())
    assert match, txt
    counts = plan_counts(_load(str(txt.with_name("plan.json").relative_to(FIXTURES))))
    assert (counts.add, counts.change, counts.destroy) == tuple(map(int, match.groups()))


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
    run = execute(["env"], tmp_path, env, timeout=10)
    assert "ghp_secret" not in run.output


def test_timeout_and_missing_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The timed-out process is stopped: by SIGINT, or by SIGKILL after the grace
    period when SIGINT is ignored (as it is under some test runners' workers)."""
    monkeypatch.setattr(terraform_module, "_INTERRUPT_GRACE", 0.5)
    slow = execute(["sleep", "300"], tmp_path, {"PATH": "/usr/bin:/bin"}, timeout=0.2)
    assert slow.returncode == TIMEOUT_RETURNCODE and not slow.ok
    assert "timed out after 0.2 seconds" in slow.output
    assert slow.duration < 120  # far below the 300 s it would run if not stopped
    missing = Terraform(binary=str(tmp_path / "no-terraform")).validate(tmp_path)
    assert missing.returncode == 127 and "cannot run" in missing.output
