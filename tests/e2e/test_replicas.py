"""Two replicas on one PostgreSQL database: one takes the webhook, the other's
workers wake through LISTEN/NOTIFY and plan it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from atlantis_py.app import HTTPServer, create_service
from atlantis_py.settings import Settings
from tests.e2e.conftest import SECRET, tf_project
from tests.fakeforge.github import FakeGitHub

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
            assert back.settle(60)
            assert "Plan: 1 to add" in fake.comments(pull)[0]
            assert (tmp_path / "back" / "repos").exists()
            assert not (tmp_path / "front" / "repos" / "mirrors").exists()
        finally:
            http.close()
            back.stop()
            front.stop()
