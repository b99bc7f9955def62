"""repos.yaml's workflow hooks: argv without a shell, Atlantis's variables, and
none of the server's own environment."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from atlantis_py.domain.server_config import Hook
from atlantis_py.runner.hooks import comment_args, run_hooks, tail

SHOW = "import os, sys; print(sys.argv[1:], os.environ.get('ATLANTIS_GH_TOKEN'), " \
       "os.environ.get('AWS_SECRET_ACCESS_KEY'), os.environ.get('PULL_NUM'))"


def test_a_run_string_is_split_and_expanded_without_a_shell(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLANTIS_GH_TOKEN", "ghp_server_token")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "server-aws-secret")
    hook = Hook(argv=(sys.executable, "-c", SHOW, "$PULL_NUM", "a|b", "$(id)", "*"))
    [run] = run_hooks([hook], "pre", "plan", tmp_path, {"PULL_NUM": "7"})
    assert run.ok and run.name == "pre workflow hook #0"
    assert run.output.strip() == "['7', 'a|b', '$(id)', '*'] None None 7"


def test_an_argv_list_is_left_to_the_shell_it_names(tmp_path: Path) -> None:
    hook = Hook(argv=("sh", "-c", 'echo "pull $PULL_NUM" > out.txt'), expand=False,
                description="write")
    [run] = run_hooks([hook], "post", "apply", tmp_path, {"PULL_NUM": "9"})
    assert run.ok and run.name == "write"
    assert (tmp_path / "out.txt").read_text() == "pull 9\n"


def test_stops_at_the_first_failure_and_honours_commands(tmp_path: Path) -> None:
    hooks = [Hook(argv=("sh", "-c", "echo one >> log"), expand=False),
             Hook(argv=("sh", "-c", "echo apply-only >> log"), expand=False,
                  commands=("apply",)),
             Hook(argv=("sh", "-c", "echo failing; exit 4"), expand=False),
             Hook(argv=("sh", "-c", "echo never >> log"), expand=False)]
    runs = run_hooks(hooks, "pre", "plan", tmp_path, {})
    assert [r.returncode for r in runs] == [0, 4] and runs[1].name == "pre workflow hook #2"
    assert "failing" in runs[1].output
    assert (tmp_path / "log").read_text() == "one\n"
    [missing] = run_hooks([Hook(argv=("./nope.sh",))], "pre", "plan", tmp_path, {})
    assert not missing.ok and "not found" in missing.output


def test_comment_args_and_tail() -> None:
    assert comment_args(["-var", "a=b"]) == "\\-\\v\\a\\r,\\a\\=\\b"
    assert comment_args([]) == ""
    assert tail("x" * 10, 4) == "…(earlier output cut)\nxxxx" and tail("abc", 4) == "abc"
