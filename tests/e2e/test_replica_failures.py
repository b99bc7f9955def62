"""Replicas on one PostgreSQL database when one of them, or the database, fails:
a replica frozen mid-claim, a replica killed mid-plan, the database away while a
webhook arrives."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from atlantis_py.app import HTTPServer, Service, create_service
from atlantis_py.settings import Settings
from tests.e2e.conftest import SECRET, tf_project
from tests.e2e.server_process import ServerProcess, free_port
from tests.fakeforge.github import FakeGitHub
from tests.support.postgres import fresh_database, postgres_server, start_postgres, stop_postgres

NEVER = 600.0  # idle check far beyond the test: only a NOTIFY can wake the workers


def wait_for(what: str, done: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting: {what}")
        time.sleep(0.05)


def plans(fake: FakeGitHub, pull: object) -> list[str]:
    return [c for c in fake.comments(pull) if "Ran Plan" in c]  # type: ignore[arg-type]


def test_a_replica_frozen_mid_claim_does_not_stop_the_other(
        tmp_path: Path, make_postgres_db: Callable[[], str]) -> None:
    """Replica A stops inside its claim transaction of #1's job (as under SIGSTOP:
    its row update made, its key locked, nothing committed). Replica B still takes
    and plans #2; once A goes on, it plans #1, once."""
    url = make_postgres_db()
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        def settings(name: str) -> Settings:
            return Settings(gh_token=fake.token, gh_webhook_secret=SECRET,
                            gh_api_url=fake.api_url, gh_user=fake.bot_login,
                            data_dir=tmp_path / name, database_url=url, host="127.0.0.1")

        front = create_service(settings("front"), idle_check=NEVER)
        a = create_service(settings("a"), idle_check=NEVER)
        b = create_service(settings("b"), idle_check=NEVER)
        frozen, thaw = threading.Event(), threading.Event()

        def freeze_once(_key: str) -> None:
            if not frozen.is_set():
                frozen.set()
                thaw.wait(120)

        a.jobs.inside_claim = freeze_once
        a.jobs.hold_limit = a.jobs.hold_limit * 100  # frozen until the test thaws it
        http = HTTPServer(front, "127.0.0.1", 0)
        http.start()
        fake.webhook_url = f"http://127.0.0.1:{http.port}/events"
        fake.webhook_secret = SECRET
        try:
            repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "net"),
                                                   "dns/main.tf": tf_project(state, "dns")})
            first = fake.open_pull(repo, branch="one", changes={"network/x.tf": "# 1\n"})
            second = fake.open_pull(repo, branch="two", changes={"dns/x.tf": "# 2\n"})
            a.start()
            assert fake.deliver("pull_request", fake.pull_request_payload(first, "opened"))[0] \
                == 202
            assert frozen.wait(60), "A never claimed #1"
            b.start()
            assert fake.deliver("pull_request", fake.pull_request_payload(second, "opened"))[0] \
                == 202
            wait_for("B plans #2 while A is frozen", lambda: bool(plans(fake, second)))
            assert plans(fake, first) == [], "#1 is A's, and A is frozen"
            thaw.set()
            wait_for("A plans #1", lambda: bool(plans(fake, first)))
            assert a.settle(180) and b.settle(180)
            assert len(plans(fake, first)) == 1 and len(plans(fake, second)) == 1
            assert "Plan: 1 to add" in plans(fake, first)[0]
        finally:
            thaw.set()
            http.close()
            for service in (a, b, front):
                service.stop()


HANG_ON_PLAN = """#!{python}
import os, sys, time
from pathlib import Path
if sys.argv[1:2] == ["plan"]:
    Path({marker!r}).write_text(str(os.getpid()))
    time.sleep(600)
    sys.exit(1)
os.execvp("terraform", ["terraform", *sys.argv[1:]])
"""


def test_a_replica_killed_mid_plan_is_taken_over_with_exactly_one_plan_comment(
        tmp_path: Path, make_postgres_db: Callable[[], str]) -> None:
    """Two real server processes on one database. A's terraform hangs in `plan`;
    A is killed with SIGKILL (workers inside it, as a container's kill takes them
    all). B, with its own data dir, takes the job over and plans it: one comment."""
    url = make_postgres_db()
    marker = tmp_path / "a-planning"
    wrapper = tmp_path / "terraform-hangs"
    wrapper.write_text(HANG_ON_PLAN.format(python=sys.executable, marker=str(marker)))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        def replica(name: str, terraform: str) -> ServerProcess:
            env = {"ATLANTIS_GH_TOKEN": fake.token, "ATLANTIS_GH_WEBHOOK_SECRET": SECRET,
                   "ATLANTIS_GH_API_URL": fake.api_url, "ATLANTIS_GH_USER": fake.bot_login,
                   "ATLANTIS_TERRAFORM_BIN": terraform, "ATLANTIS_DATABASE_URL": url}
            return ServerProcess(tmp_path / name / "data", env, free_port(),
                                 args=["--job-lease-seconds", "3", "--worker-processes", "0"])

        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a, b = replica("a", str(wrapper)), replica("b", "terraform")
        fake.webhook_url, fake.webhook_secret = f"{a.url}/events", SECRET
        try:
            repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "net")})
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# more\n"})
            a.start()
            assert fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))[0] \
                == 202
            wait_for("A's terraform plan starts", marker.exists)
            b.start()
            assert a.proc is not None
            a.proc.kill()
            a.wait_exit()
            wait_for("B plans the pull request", lambda: bool(plans(fake, pull)))
            b.settle()
            assert len(plans(fake, pull)) == 1
            assert "Plan: 1 to add" in plans(fake, pull)[0]
            assert fake.latest_statuses(repo, pull.head_sha)["atlantis/plan"] == "success"
            assert list((tmp_path / "b" / "data" / "plans").rglob("*.tfplan"))
        finally:
            a.stop()
            b.stop()
            if marker.exists():  # A's hung terraform, should its parent-death signal miss
                try:
                    os.kill(int(marker.read_text()), signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def own_postgres() -> Iterator[tuple[Path, str]]:
    """A PostgreSQL server this test may stop and start (the session's is shared)."""
    root = Path(tempfile.mkdtemp(prefix="atlantis-pg-outage-"))
    try:
        with postgres_server(root) as url:
            yield root, fresh_database(url, "outage")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def health(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_webhook_accepted_while_the_database_is_down_is_planned_when_it_returns(
        tmp_path: Path, own_postgres: tuple[Path, str]) -> None:
    """PostgreSQL is stopped: the delivery is spooled and answered 202, /healthz says
    so; once PostgreSQL is back the web process replays it and the other replica's
    workers plan it, once."""
    root, url = own_postgres
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        def settings(name: str) -> Settings:
            return Settings(gh_token=fake.token, gh_webhook_secret=SECRET,
                            gh_api_url=fake.api_url, gh_user=fake.bot_login,
                            data_dir=tmp_path / name, database_url=url, host="127.0.0.1")

        services: list[Service] = []
        front = create_service(settings("front"), idle_check=NEVER)
        services.append(front)
        back = create_service(settings("back"), idle_check=NEVER)
        services.append(back)
        http = HTTPServer(front, "127.0.0.1", 0)
        http.start()
        back.start()
        fake.webhook_url = f"http://127.0.0.1:{http.port}/events"
        fake.webhook_secret = SECRET
        try:
            repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "net")})
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# more\n"})
            payload = fake.pull_request_payload(pull, "opened")
            stop_postgres(root)
            status, body = fake.deliver("pull_request", payload, delivery_id="outage-1")
            assert status == 202 and "spooled" in body, body
            status, body = fake.deliver("pull_request", payload, delivery_id="outage-1")
            assert status == 202, "a redelivery is spooled too, and dropped at replay"
            assert health(http.port) == (200, {
                "status": "spooling", "database": "unavailable", "spooled": 2,
                "detail": "database unavailable; webhooks are spooled to disk and stored "
                          "when it is back"})
            start_postgres(root)
            wait_for("the spool is replayed", lambda: health(http.port)[1]["spooled"] == 0)
            assert health(http.port)[1]["status"] == "ok"
            wait_for("the replayed delivery is planned", lambda: bool(plans(fake, pull)))
            assert back.settle(180)
            assert len(plans(fake, pull)) == 1 and "Plan: 1 to add" in plans(fake, pull)[0]
            assert fake.deliver("pull_request", payload, delivery_id="outage-1")[0] == 200, \
                "the replayed delivery id is known"
        finally:
            http.close()
            for service in services:
                service.stop()
