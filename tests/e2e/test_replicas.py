"""Two replicas on one PostgreSQL database: one takes the webhook, the other's
workers wake through LISTEN/NOTIFY and plan it."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from atlantis_py.app import HTTPServer, Service, create_service
from atlantis_py.settings import Settings
from atlantis_py.store.db import Database, head_revision
from tests.e2e.conftest import SECRET, tf_project
from tests.fakeforge.github import FakeGitHub
from tests.support.postgres import fresh_database, postgres_server, restart_postgres

NEVER = 600.0  # idle check far beyond the test: only a NOTIFY can wake the workers


def test_a_delivery_to_one_replica_is_planned_by_another(
        tmp_path: Path, make_postgres_db: Callable[[], str]) -> None:
    url = make_postgres_db()
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        def settings(name: str) -> Settings:
            return Settings(gh_token=fake.token, gh_webhook_secret=SECRET,
                            gh_api_url=fake.api_url, gh_user=fake.bot_login,
                            data_dir=tmp_path / name, database_url=url, host="127.0.0.1")

        front = create_service(settings("front"), idle_check=NEVER)  # serves HTTP only
        back = create_service(settings("back"), idle_check=NEVER)  # runs workers only
        http = HTTPServer(front, "127.0.0.1", 0)
        http.start()
        back.start()
        try:
            repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "net")})
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# more\n"})
            fake.webhook_url = f"http://127.0.0.1:{http.port}/events"
            fake.webhook_secret = SECRET
            assert fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))[0] \
                == 202
            assert back.settle(180)
            assert "Plan: 1 to add" in fake.comments(pull)[0]
            assert (tmp_path / "back" / "repos").exists()
            assert not (tmp_path / "front" / "repos" / "mirrors").exists()
        finally:
            http.close()
            back.stop()
            front.stop()


@pytest.mark.parametrize("attempt", range(3))
def test_replicas_starting_together_on_an_empty_database_all_become_ready(
        tmp_path: Path, make_postgres_db: Callable[[], str], attempt: int) -> None:
    """Three replicas migrate one empty database at the same moment: one runs the
    migrations, the others wait for it and find the schema current."""
    url = make_postgres_db()
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    services: list[Service] = []

    def start(name: str) -> None:
        try:
            barrier.wait(60)
            services.append(create_service(Settings(data_dir=tmp_path / name,
                                                    database_url=url)))
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=start, args=(f"r{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    try:
        assert errors == []
        assert len(services) == 3
        assert {s.db.schema_version() for s in services} == {head_revision()}
    finally:
        for service in services:
            service.stop()


@pytest.fixture
def own_postgres() -> Iterator[tuple[Path, str]]:
    """A PostgreSQL server this test may restart (the session's is shared)."""
    root = Path(tempfile.mkdtemp(prefix="atlantis-pg-restart-"))
    try:
        with postgres_server(root) as url:
            yield root, fresh_database(url, "replicas")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_listen_comes_back_after_a_database_restart(
        tmp_path: Path, own_postgres: tuple[Path, str]) -> None:
    """After PostgreSQL restarts, a delivery to one replica still wakes the other's
    workers through NOTIFY; their idle check is far beyond the test."""
    root, url = own_postgres
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        def settings(name: str) -> Settings:
            return Settings(gh_token=fake.token, gh_webhook_secret=SECRET,
                            gh_api_url=fake.api_url, gh_user=fake.bot_login,
                            data_dir=tmp_path / name, database_url=url, host="127.0.0.1")

        front = create_service(settings("front"), idle_check=NEVER)
        back = create_service(settings("back"), idle_check=NEVER)
        http = HTTPServer(front, "127.0.0.1", 0)
        http.start()
        back.start()
        try:
            restart_postgres(root)
            repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "net")})
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# more\n"})
            fake.webhook_url = f"http://127.0.0.1:{http.port}/events"
            fake.webhook_secret = SECRET
            deadline = time.monotonic() + 60
            while True:  # the web process's pool reconnects on first use
                status, body = fake.deliver("pull_request",
                                            fake.pull_request_payload(pull, "opened"))
                if status == 202:
                    break
                assert time.monotonic() < deadline, \
                    f"the delivery was never accepted after the restart: {status} {body}"
                time.sleep(0.1)
            assert back.settle(180)
            assert any("Plan: 1 to add" in c for c in fake.comments(pull))
        finally:
            http.close()
            back.stop()
            front.stop()


def test_migrations_are_skipped_when_the_schema_is_current(
        make_postgres_db: Callable[[], str]) -> None:
    db = Database(make_postgres_db())
    try:
        db.migrate()
        db.migrate()  # a second replica: nothing to do, no error
        assert db.schema_version() == head_revision()
    finally:
        db.dispose()


def test_a_plan_made_on_one_replica_is_applied_by_another(
        tmp_path: Path, make_postgres_db: Callable[[], str]) -> None:
    """Replica A plans and goes away; replica B, with its own empty data dir, applies
    exactly that plan, fetched from the database and checked against its SHA-256."""
    url = make_postgres_db()
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        def settings(name: str) -> Settings:
            return Settings(gh_token=fake.token, gh_webhook_secret=SECRET,
                            gh_api_url=fake.api_url, gh_user=fake.bot_login,
                            data_dir=tmp_path / name, database_url=url, host="127.0.0.1")

        front = create_service(settings("front"), idle_check=NEVER)
        http = HTTPServer(front, "127.0.0.1", 0)
        http.start()
        fake.webhook_url = f"http://127.0.0.1:{http.port}/events"
        fake.webhook_secret = SECRET
        a = create_service(settings("a"), idle_check=NEVER)
        a.start()
        b: Service | None = None
        try:
            repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "net")})
            pull = fake.open_pull(repo, changes={"network/extra.tf": "# more\n"})
            assert fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))[0] \
                == 202
            assert a.settle(180)
            assert "Plan: 1 to add" in fake.comments(pull)[0]
            assert list((tmp_path / "a" / "plans").rglob("*.tfplan"))
            a.stop()

            b = create_service(settings("b"), idle_check=NEVER)
            b.start()
            fake.set_permission(repo, "bob", "write")
            fake.review(pull, "bob", "APPROVED")
            fake.deliver("issue_comment", fake.comment_payload(pull, "alice", "atlantis apply"))
            assert b.settle(180)
            applied = fake.comments(pull)[-1]
            assert "Ran Apply" in applied and "Error" not in applied, applied
            assert (state / "net.tfstate").is_file()
            assert list((tmp_path / "b" / "plans").rglob("*.tfplan")) == [], \
                "the applied plan is removed from B's cache"
        finally:
            http.close()
            if b is not None:
                b.stop()
            front.stop()
