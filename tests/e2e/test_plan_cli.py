"""`atlantis-py plan --repo --base`: the whole pull request planned locally with
real terraform, on the shared atmos-example fixture and on a plain repo."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from atlantis_py.cli import main
from tests.e2e.test_affected_cli import COMPONENTS, FIXTURE, commit, git

QUEUE = """\
variable "message_retention_seconds" {
  type = number
}

resource "terraform_data" "queue" {
  input = var.message_retention_seconds
}
"""


@pytest.fixture
def atmos_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "main")
    files: dict[str, str | None] = {
        f"components/terraform/{c}/main.tf": f'resource "terraform_data" "{c}" {{}}\n'
        for c in COMPONENTS}
    files["components/terraform/sqs-queue/main.tf"] = QUEUE
    commit(repo, files, "init")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def test_atmos_change_and_removed_stack(atmos_repo: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    dev = atmos_repo / "stacks/orgs/acme/plat/dev/us-east-2.yaml"
    commit(atmos_repo, {
        "stacks/orgs/acme/plat/dev/us-east-2.yaml":
            dev.read_text().replace("message_retention_seconds: 86400",
                                    "message_retention_seconds: 3600"),
        "stacks/orgs/acme/plat/dev/us-west-2.yaml": None,
    })
    status = git(atmos_repo, "status", "--porcelain")
    assert main(["plan", "--repo", str(atmos_repo), "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert "project: `plat-ue2-dev-sqs-queue` dir: `components/terraform/sqs-queue` " \
           "workspace: `plat-ue2-dev`" in out
    assert "**Why planned:** `stack.vars`" in out
    assert re.search(r"input += 3600", out)  # the stack's merged var reached terraform
    assert "plat-uw2-dev-kms-key" in out and "**(destroy)**" in out
    assert ("will be DESTROYED** because `stacks/orgs/acme/plat/dev/us-west-2.yaml` "
            "was removed") in out
    assert "Plan Error" not in out
    # the user's checkout is untouched and no worktree is left registered
    assert git(atmos_repo, "status", "--porcelain") == status
    assert git(atmos_repo, "worktree", "list").count("\n") == 1


def test_plain_repo_plans_and_destroys(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "plain"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"a/main.tf": 'resource "terraform_data" "a" {}\n',
                  "b/main.tf": 'resource "terraform_data" "b" {}\n'})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"a/main.tf": 'resource "terraform_data" "a2" {}\n', "b/main.tf": None})
    assert main(["plan", "--repo", str(repo), "--base", "main", "--head", "feature"]) == 0
    out = capsys.readouterr().out
    assert "Ran Plan for 2 projects" in out
    assert "Plan: 1 to add" in out
    assert "will be DESTROYED** because `b` was removed" in out


def test_broken_stack_exits_1(atmos_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(atmos_repo, {"stacks/catalog/backend.yaml": "import:\n  - [oops\n"})
    assert main(["plan", "--repo", str(atmos_repo), "--base", "main"]) == 1
    err = capsys.readouterr().err
    assert "stacks/catalog/backend.yaml" in err and "nothing was planned" in err


def test_terraform_failure_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "bad"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"README.md": "x\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"a/main.tf": 'resource "nope_thing" "a" {\n'})
    assert main(["plan", "--repo", str(repo), "--base", "main"]) == 1
    assert "Plan Error" in capsys.readouterr().out
    assert subprocess.run(["git", "-C", str(repo), "worktree", "list"], capture_output=True,
                          text=True, check=True).stdout.count("\n") == 1
