"""terraform_version in atlantis.yaml through the real server: the pinned version
runs from --tf-bin-dir under its versioned name (never the plain binary), a
version the server cannot have fails only its own project, with a comment
saying which and what to do, and --tf-download fetches a version from a
mirror, checked against its SHA256SUMS."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.runner.download import TERRAFORM
from tests.e2e.conftest import running_world
from tests.support.tfmirror import add_release, serve


def installed_version() -> str:
    out = subprocess.run(["terraform", "version", "-json"], capture_output=True, check=True)
    return str(json.loads(out.stdout)["terraform_version"])


INSTALLED = installed_version()


def recording_wrapper(path: Path, log: Path) -> Path:
    """An executable that notes (cwd, its name, args) in `log` and runs the real
    terraform."""
    real = shutil.which("terraform")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps([os.getcwd(), os.path.basename(sys.argv[0]),"
        " sys.argv[1:]]) + '\\n')\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n")
    path.chmod(0o755)
    return path


def calls(log: Path, folder: str, binary: str = "") -> list[str]:
    """The subcommands run in project folder `folder` (by `binary` only, if given)."""
    if not log.exists():
        return []
    found = [json.loads(line) for line in log.read_text().splitlines()]
    return [args[0] for cwd, name, args in found
            if Path(cwd).name == folder and args and binary in ("", name)]


def tf(state: Path, name: str, value: str = "one") -> str:
    """The `detected` project says which version it needs in its code."""
    required = f'  required_version = "{INSTALLED}"\n' if name == "detected" else ""
    return ('terraform {\n' + required + '  backend "local" {\n'
            f'    path = "{state}/{name}.tfstate"\n  }}\n}}\n'
            f'resource "terraform_data" "{name}" {{\n  input = "{value}"\n}}\n')


ATLANTIS_YAML = f"""\
version: 3
projects:
- name: pinned
  dir: pinned
  terraform_version: {INSTALLED}
  workflow: versioned
- name: missing
  dir: missing
  terraform_version: 1.0.99
- name: unpinned
  dir: unpinned
- name: detected
  dir: detected
- name: tofu
  dir: tofu
  terraform_distribution: opentofu
  terraform_version: {INSTALLED}
workflows:
  versioned:
    plan:
      steps:
      - init
      - plan
      - run: terraform$ATLANTIS_TERRAFORM_VERSION version
"""


PROJECTS = ("pinned", "missing", "unpinned", "detected", "tofu")


@pytest.fixture
def tools(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """(plain binary, bin dir, plain's log, versioned binaries' log); the bin
    dir's `tofu{version}` is terraform too, noted in the same log."""
    plain_log, pinned_log = tmp_path / "plain.log", tmp_path / "pinned.log"
    plain = recording_wrapper(tmp_path / "plain" / "terraform", plain_log)
    bin_dir = tmp_path / "tf-bin"
    recording_wrapper(bin_dir / f"terraform{INSTALLED}", pinned_log)
    recording_wrapper(bin_dir / f"tofu{INSTALLED}", pinned_log)
    return plain, bin_dir, plain_log, pinned_log


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_pinned_version_runs_from_the_bin_dir_and_a_missing_one_is_explained(
        tmp_path: Path, forge: str, tools: tuple[Path, Path, Path, Path]) -> None:
    plain, bin_dir, plain_log, pinned_log = tools
    with running_world(tmp_path, forge, terraform_bin=str(plain), tf_bin_dir=bin_dir,
                       allow_custom_steps=True) as world:
        state = world.state_dir
        repo = world.repo({"atlantis.yaml": ATLANTIS_YAML,
                           **{f"{n}/main.tf": tf(state, n) for n in PROJECTS}})
        pull = world.open_pr(repo, {f"{n}/main.tf": tf(state, n, "two") for n in PROJECTS})
        [plan] = world.bot_comments(pull)
        assert plan.startswith("Ran Plan for 5 projects:")
        assert plan.count("**Plan: 1 to add, 0 to change, 0 to destroy.**") == 4
        assert (f"project missing asks for terraform 1.0.99 (terraform_version), which this "
                "server cannot run: terraform 1.0.99 is not available on this server: no "
                f"matching binary (terraformVERSION) in {bin_dir.resolve()} or on PATH, and "
                f"downloads are off. Versions available: {INSTALLED}") in plan
        assert ("To plan it, set terraform_version to an available version, or ask the "
                "server's administrator to put terraformVERSION in --tf-bin-dir or to turn "
                "on --tf-download.") in plan
        # a run step finds the pinned binary as Atlantis names it
        assert {"init", "plan", "show", "version"} <= set(calls(pinned_log, "pinned"))
        assert f"Terraform v{INSTALLED}" in plan
        assert calls(plain_log, "pinned") == []
        assert "plan" in calls(plain_log, "unpinned")
        assert calls(pinned_log, "unpinned") == calls(plain_log, "missing") == []
        # no terraform_version: the code's required_version picks, as in Atlantis
        assert "plan" in calls(pinned_log, "detected")
        assert calls(plain_log, "detected") == []
        # terraform_distribution: opentofu runs tofu{version}
        assert "plan" in calls(pinned_log, "tofu", f"tofu{INSTALLED}")
        assert calls(pinned_log, "tofu", f"terraform{INSTALLED}") == []
        assert calls(plain_log, "tofu") == []

        world.approve(pull, "bob")
        applied = world.comment(pull, "alice", "atlantis apply -p pinned")
        assert "Apply complete! Resources: 1 added" in applied
        assert "apply" in calls(pinned_log, "pinned")
        assert "apply" not in calls(plain_log, "pinned")


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "mirror"
    add_release(root, TERRAFORM, "1.42.0")
    add_release(root, TERRAFORM, "1.43.0", wrong_sum=True)
    with serve(root) as url:
        yield url


def test_download_from_a_mirror_and_a_checksum_mismatch_refused(tmp_path: Path,
                                                                 mirror: str) -> None:
    config = ("version: 3\nprojects:\n- name: fetched\n  dir: fetched\n"
              "  terraform_version: 1.42.0\n- name: tampered\n  dir: tampered\n"
              "  terraform_version: 1.43.0\n")
    with running_world(tmp_path, "github", tf_download=True,
                       tf_download_url=mirror) as world:
        state = world.state_dir
        repo = world.repo({"atlantis.yaml": config, "fetched/main.tf": tf(state, "fetched"),
                           "tampered/main.tf": tf(state, "tampered")})
        pull = world.open_pr(repo, {"fetched/main.tf": tf(state, "fetched", "two"),
                                    "tampered/main.tf": tf(state, "tampered", "two")})
        [plan] = world.bot_comments(pull)
        assert plan.count("**Plan: 1 to add, 0 to change, 0 to destroy.**") == 1
        assert "project tampered asks for terraform 1.43.0" in plan
        assert "does not match its SHA256SUMS" in plan and "Refused" in plan
        cache = tmp_path / "data" / "bin"
        assert sorted(p.name for p in cache.iterdir()) == ["terraform1.42.0"]
