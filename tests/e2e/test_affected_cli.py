"""`atlantis-py affected` on real git repositories built in tmp_path."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from atlantis_py.cli import main as main_affected
from atlantis_py.runner.trees import GitTree, changed_paths

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "atmos-example"
COMPONENTS = ("app-config", "dynamodb-table", "kms-key", "s3-bucket", "sns-topic", "sqs-queue")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t",
                           "-c", "user.email=t@example.com", *args],
                          check=True, capture_output=True, text=True).stdout


def commit(repo: Path, files: dict[str, str | None], message: str = "change") -> None:
    for path, text in files.items():
        target = repo / path
        if text is None:
            target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


@pytest.fixture
def atmos_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {f"components/terraform/{c}/main.tf": f'resource "terraform_data" "{c}" {{}}\n'
                  for c in COMPONENTS}, "init")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def run_json(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    assert main_affected(["affected", "--repo", str(repo), "--base", "main", "--json",
                          *extra]) == 0
    out: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return out


def test_atmos_json(atmos_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(atmos_repo, {"components/terraform/sqs-queue/main.tf": "# changed\n",
                        "stacks/orgs/acme/plat/prod/us-west-2.yaml": None})
    out = run_json(atmos_repo, capsys)
    sqs = [o for o in out if o["component"] == "sqs-queue" and not o["deleted"]]
    assert {o["stack"] for o in sqs} == {"plat-ue2-dev", "plat-ue2-staging", "plat-ue2-prod",
                                        "plat-uw2-dev", "plat-uw2-staging"}
    first = next(o for o in sqs if o["stack"] == "plat-ue2-dev")
    assert {k: first[k] for k in ("project", "dir", "workspace", "reasons", "deleted")} == {
        "project": "plat-ue2-dev-sqs-queue", "dir": "components/terraform/sqs-queue",
        "workspace": "plat-ue2-dev", "reasons": ["component"], "deleted": False}
    deleted = [o for o in out if o["deleted"]]
    assert {o["stack"] for o in deleted} == {"plat-uw2-prod"} and len(deleted) == 6


def test_atmos_table(atmos_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(atmos_repo, {"stacks/catalog/kms-key/defaults.yaml":
                        (atmos_repo / "stacks/catalog/kms-key/defaults.yaml").read_text()
                        .replace("name: app", "name: app2")})
    assert main_affected(["affected", "--repo", str(atmos_repo), "--base", "main"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["PROJECT", "DIR", "WORKSPACE", "REASONS"]
    assert "plat-uw2-prod-kms-key" in out and "stack.vars" in out
    assert len(out.splitlines()) == 7


def test_errors_exit_1_and_name_the_file(atmos_repo: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    commit(atmos_repo, {"stacks/catalog/backend.yaml": "import:\n  - [oops\n"})
    assert main_affected(["affected", "--repo", str(atmos_repo), "--base", "main"]) == 1
    err = capsys.readouterr().err
    assert "stacks/catalog/backend.yaml:" in err and "malformed YAML" in err


def test_unsupported_template_exit_1(atmos_repo: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    commit(atmos_repo, {"workflows.yaml": "version: 1\natmos:\n  included_paths: ['orgs/**/*']\n"
                                          "  name_template: '{{ .vars.stage | upper }}'\n"})
    assert main_affected(["affected", "--repo", str(atmos_repo), "--base", "main"]) == 1
    assert "pipe '|'" in capsys.readouterr().err


def test_plain_repo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "plain"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"a/main.tf": "# a\n", "b/main.tf": "# b\n",
                  "c/main.tf": 'module "m" {\n  source = "../mod"\n}\n', "mod/main.tf": "# m\n",
                  "README.md": "x\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"a/main.tf": "# a2\n", "b/main.tf": None, "mod/main.tf": "# m2\n",
                  "README.md": "y\n"})
    out = run_json(repo, capsys)
    # what the server would plan: changed roots (c through its module), then the
    # deleted directory as a destroy
    assert [(o["project"], o["dir"], o["reasons"], o["deleted"], o["stack"]) for o in out] == [
        ("a", "a", [], False, None),
        ("c", "c", [], False, None),
        ("b", "b", ["deleted", "no *.tf left in b"], True, None),
    ]


def test_git_tree_reads_in_one_batch(atmos_repo: Path) -> None:
    with GitTree(atmos_repo, "main") as tree:
        stacks = tree.files("stacks")
        assert len(stacks) == 29
        data = tree.read_many(stacks)
        assert all(data[p] == (atmos_repo / p).read_bytes() for p in stacks)
        assert tree.read("atmos.yaml") == (atmos_repo / "atmos.yaml").read_bytes()
        with pytest.raises(KeyError):
            tree.read("nope.yaml")
    # blob ids are git's: sha1 of "blob <size>\0<content>"
    assert stacks == {p: hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest()
                      for p, d in data.items()}


def test_changed_paths(atmos_repo: Path) -> None:
    commit(atmos_repo, {"components/terraform/kms-key/main.tf": None, "new.txt": "n\n"})
    assert changed_paths(atmos_repo, "main", "feature") == [
        "components/terraform/kms-key/main.tf", "new.txt"]


def test_atlantis_yaml_branch_regex_sees_the_base_branch(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """As on a pull request into `--base`: only the projects whose `branch`
    regex matches the base's branch name."""
    repo = tmp_path / "branches"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, {"a/main.tf": "# a\n", "atlantis.yaml": (
        "version: 3\nprojects:\n- {name: on-main, dir: a, branch: /^main$/}\n"
        "- {name: on-dev, dir: a, branch: /^dev$/}\n")})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, {"a/main.tf": "# a2\n"})
    assert [o["project"] for o in run_json(repo, capsys)] == ["on-main"]
