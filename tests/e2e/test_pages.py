"""The web page: list and detail behind an API token, with user text escaped."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request

from tests.e2e.conftest import World
from tests.e2e.console_client import ConsoleClient
from tests.e2e.test_flow import base_files, tf_extra


def get(world: World, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(world.url + path, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_pages_need_a_session_and_escape_user_text(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.fake.open_pull(repo, changes={"network/extra.tf": tf_extra("p")},
                                title="<script>alert(1)</script>")
    world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "opened"))
    world.settle()
    record = world.record(pull)

    browser = ConsoleClient(world.url)
    answer = browser.get(f"/ipr/{record.id}")
    assert answer.status == 303 and answer.headers["Location"].endswith(
        f"/login?next=/ipr/{record.id}")
    browser.sign_in(world.token("vera", "viewer"))
    answer = browser.get("/")
    assert answer.status == 200
    assert "<script>alert(1)</script>" not in answer.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.body
    assert f'href="/ipr/{record.id}"' in answer.body

    answer = browser.get(f"/ipr/{record.id}")
    assert answer.status == 200 and "Plan: 2 to add" in answer.body
    assert "plan:success" in answer.body
    assert "<script>alert(1)</script>" not in answer.body
    assert browser.get("/ipr/999").status == 404
    assert browser.get("/?state=bogus").status == 400


def test_healthz_tells_spooling_from_refusing(world: World) -> None:
    """Database away: still ready (200, `spooling`) while webhooks go to the spool;
    503 only once the spool cannot be written either, and webhooks then get 503."""
    status, body = get(world, "/healthz")
    assert status == 200 and '"ok"' in body
    data = world.service.settings.data_dir
    world.service.db.engine.dispose()
    (data / "atlantis.db").rename(data / "moved.db")
    (data / "atlantis.db").mkdir()  # no database can open here
    status, body = get(world, "/healthz")
    assert status == 200 and '"spooling"' in body and '"unavailable"' in body, body
    repo = world.repo(base_files(world, "network"))
    pull = world.fake.open_pull(repo, changes={"network/extra.tf": tf_extra("h")})
    payload = world.fake.pull_request_payload(pull, "opened")
    assert world.fake.deliver("pull_request", payload, delivery_id="h-1")[0] == 202
    assert '"spooled":1' in get(world, "/healthz")[1]

    shutil.rmtree(data / "spool")
    (data / "spool").write_text("a file where the spool's folder should be")
    status, body = get(world, "/healthz")
    assert status == 503 and "spool cannot be written" in body, body
    assert world.fake.deliver("pull_request", payload, delivery_id="h-2")[0] == 503


def test_metrics_count_webhooks_jobs_and_iprs(world: World) -> None:
    repo = world.repo(base_files(world, "network"))
    pull = world.fake.open_pull(repo, changes={"network/extra.tf": tf_extra("m")})
    payload = world.fake.pull_request_payload(pull, "opened")
    assert world.fake.deliver("pull_request", payload, delivery_id="m-1")[0] == 202
    assert world.fake.deliver("pull_request", payload, delivery_id="m-1")[0] == 200
    assert world.fake.webhook_url
    assert world.fake.send_webhook(world.fake.webhook_url, "pull_request", payload,
                                   "wrong")[0] == 401
    assert world.fake.deliver("ping", {"zen": "hi"})[0] == 200
    world.settle()
    status, body = get(world, "/metrics")
    assert status == 200
    lines = set(body.splitlines())
    assert {'atlantis_webhooks_total{forge="github",outcome="queued"} 1',
            'atlantis_webhooks_total{forge="github",outcome="duplicate"} 1',
            'atlantis_webhooks_total{forge="github",outcome="rejected"} 1',
            'atlantis_webhooks_total{forge="github",outcome="ignored"} 1',
            'atlantis_jobs{status="done"} 1',
            'atlantis_iprs{state="PENDING"} 1',
            "atlantis_jobs_pending 0"} <= lines
