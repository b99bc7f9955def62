"""The real `atlantis-py server` process: crash mid-apply, restart, bad settings."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import tf_project
from tests.e2e.server_process import ServerProcess
from tests.fakeforge.github import FakeGitHub

SECRET = "restart-secret"

CRASH_ON_APPLY = """#!{python}
import os, signal, sys
if sys.argv[1:2] == ["apply"]:
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(1)
os.execvp("terraform", ["terraform", *sys.argv[1:]])
"""


CRASH_ON_FIRST_PLAN = """#!{python}
import os, signal, sys
from pathlib import Path
marker = Path({marker!r})
if sys.argv[1:2] == ["plan"] and not marker.exists():
    marker.write_text("crashed once")
    os.kill(os.getppid(), signal.SIGKILL)
    sys.exit(1)
os.execvp("terraform", ["terraform", *sys.argv[1:]])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(fake: FakeGitHub, terraform_bin: str = "terraform") -> dict[str, str]:
    return {"ATLANTIS_GH_TOKEN": fake.token, "ATLANTIS_GH_WEBHOOK_SECRET": SECRET,
            "ATLANTIS_GH_API_URL": fake.api_url, "ATLANTIS_GH_USER": fake.bot_login,
            "ATLANTIS_TERRAFORM_BIN": terraform_bin}


def test_crash_mid_apply_leaves_failed_with_lock_and_never_reapplies(tmp_path: Path) -> None:
    """terraform's parent, the worker process, dies mid-apply; the server starts a new
    worker, which finds the orphaned job and marks the IPR FAILED instead of applying."""
    wrapper = tmp_path / "terraform-crashing"
    wrapper.write_text(CRASH_ON_APPLY.format(python=sys.executable))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "network")})
        server = ServerProcess(tmp_path / "data", server_env(fake, str(wrapper)), free_port())
        fake.webhook_url, fake.webhook_secret = f"{server.url}/events", SECRET
        server.start()
        try:
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# comment\n"})
            assert fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))[0] == 202
            server.settle()
            assert "Plan: 1 to add" in fake.comments(pull)[0]
            fake.set_permission(repo, "bob", "write")
            fake.review(pull, "bob", "APPROVED")
            fake.deliver("issue_comment", fake.comment_payload(pull, "alice", "atlantis apply"))
            server.settle()  # the replacement worker recovers the job
            interrupted = fake.comments(pull)[-1]
            assert "interrupted" in interrupted.lower()
            assert "lock is kept" in interrupted and "`network`" in interrupted

            before = len(fake.comments(pull))
            fake.deliver("issue_comment", fake.comment_payload(pull, "alice", "atlantis apply"))
            server.settle()
            again = fake.comments(pull)[before:]
            assert again and "already applied" in again[0]
            assert not (state / "network.tfstate").exists()

            other = fake.open_pull(repo, branch="other", author="carol",
                                   changes={"network/other.tf": "# other\n"})
            fake.deliver("pull_request", fake.pull_request_payload(other, "opened"))
            server.settle()
            assert f"#{pull.number}" in fake.comments(other)[0]  # lock kept
        finally:
            server.stop()
    import sqlite3

    db = sqlite3.connect(tmp_path / "data" / "atlantis.db")
    (state_value,) = db.execute("SELECT state FROM pull_requests WHERE number = 1").fetchone()
    assert state_value == "FAILED"
    moves = [r[0] for r in db.execute("SELECT detail FROM audit_events WHERE pull_number = 1 "
                                      "AND action LIKE 'state:%' ORDER BY id")]
    assert moves[-2:] == [  # bob's review was never delivered: approvals are judged at apply
        "PENDING -> APPLYING: approvals satisfied at apply: applying 1 project",
        "APPLYING -> FAILED: apply interrupted: network"]
    statuses = [r[0] for r in db.execute("SELECT status FROM project_runs WHERE command='apply'")]
    assert statuses == ["interrupted"]
    (job_status,) = db.execute("SELECT status FROM jobs WHERE id = 2").fetchone()
    assert job_status == "interrupted"


def test_a_plan_cut_short_by_a_crash_is_planned_again_once(tmp_path: Path) -> None:
    """The worker dies inside `terraform plan`; its replacement recovers the job and,
    since a plan has no side effects, plans again: exactly one plan comment."""
    marker = tmp_path / "crashed"
    wrapper = tmp_path / "terraform-crash-once"
    wrapper.write_text(CRASH_ON_FIRST_PLAN.format(python=sys.executable, marker=str(marker)))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "network")})
        server = ServerProcess(tmp_path / "data", server_env(fake, str(wrapper)), free_port())
        fake.webhook_url, fake.webhook_secret = f"{server.url}/events", SECRET
        server.start()
        try:
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# comment\n"})
            assert fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))[0] == 202
            deadline = time.monotonic() + 180
            while not fake.comments(pull):
                assert time.monotonic() < deadline, "no plan comment after the worker's crash"
                server.settle()
                time.sleep(0.1)
            server.settle()
            assert marker.exists(), "the worker never crashed"
            plans = [c for c in fake.comments(pull) if "Ran Plan" in c]
            assert len(plans) == 1 and "Plan: 1 to add" in plans[0]
            assert fake.latest_statuses(repo, pull.head_sha)["atlantis/plan"] == "success"
        finally:
            server.stop()


def test_accepted_work_survives_a_restart(tmp_path: Path) -> None:
    """A delivery acknowledged just before the server is killed is still planned."""
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "network")})
        server = ServerProcess(tmp_path / "data", server_env(fake), free_port())
        fake.webhook_url, fake.webhook_secret = f"{server.url}/events", SECRET
        server.start()
        try:
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# x\n"})
            status, _ = fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))
            assert status == 202
            assert server.proc is not None
            server.proc.kill()
            server.wait_exit()
            server.start()
            server.settle()
            deadline = time.monotonic() + 60
            while not fake.comments(pull):
                assert time.monotonic() < deadline, "no plan comment after the restart"
                server.settle()
                time.sleep(0.1)
            assert len([c for c in fake.comments(pull) if "Ran Plan" in c]) == 1
        finally:
            server.stop()


@pytest.mark.parametrize(("args", "named"), [
    (["--port", "http"], "--port"),
    (["--parallel-pool-size", "0"], "--parallel-pool-size"),
    (["--gh-token", "t"], "--gh-webhook-secret"),
    (["--gh-token", "t", "--gh-webhook-secret", "s", "--gh-api-url", "ftp://x"], "--gh-api-url"),
    (["--terraform-bin", "no-such-terraform"], "--terraform-bin"),
    (["--database-url", "not a url"], "--database-url"),
])
def test_bad_settings_fail_at_start_naming_the_setting(tmp_path: Path, args: list[str],
                                                       named: str) -> None:
    result = subprocess.run([sys.executable, "-m", "atlantis_py", "server",
                             "--data-dir", str(tmp_path / "d"), *args],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert named in result.stderr


def test_env_var_settings_are_read(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "atlantis_py", "server"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False,
                            env={**os.environ, "ATLANTIS_PARALLEL_POOL_SIZE": "-3"})
    assert result.returncode == 2
    assert "--parallel-pool-size" in result.stderr


def test_server_starts_on_embedded_defaults(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "atlantis-data", {}, free_port())
    server.start()
    try:
        assert server.pending() == 0
        assert (tmp_path / "atlantis-data" / "atlantis.db").exists()
    finally:
        server.stop()
