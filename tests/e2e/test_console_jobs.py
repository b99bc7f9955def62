"""The console's jobs pages over HTTP: a plan's log is kept after its job ends
(HTML-escaped, secrets masked) and forgotten when housekeeping purges the job;
the IPR page links to its jobs and lists its plan's resource changes; anyone
signed in may look, only an admin may make a waiting job retry now."""

from __future__ import annotations

import re
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO

import pytest

from atlantis_py.app import HTTPServer, create_service
from atlantis_py.domain.jobs import JobQuery, JobState
from atlantis_py.queue.retry import RetryPolicy
from atlantis_py.settings import Settings
from atlantis_py.store.job_logs import JobLogStore
from atlantis_py.store.job_views import JobViews
from tests.e2e.conftest import World, running_world, tf_project
from tests.e2e.console_client import ConsoleClient
from tests.e2e.test_console_iprs import signed_in
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.neutral import NeutralPull

SECRET = "joblog-secret-value-8c1d"
WEBHOOK_SECRET = "jobs-e2e-webhook-secret"
SECRET_VAR = "E2E_JOBLOG_SECRET"
HTML_LINE = "<b>not bold</b> & <i>raw</i>"
# A `run` step that prints a few lines, waits for the test to create the gate file,
# prints one more and waits for GATE.last (each wait at most two minutes): the test
# sees its job running, and a line printed after its page was made, without sleeping.
SLOW_STEP = f"""\
import os, sys, time
def wait(path):
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
print("first line of the slow step", flush=True)
print({HTML_LINE!r}, flush=True)
print("the secret is", os.environ.get({SECRET_VAR!r}, "unset"), flush=True)
wait(sys.argv[1])
print("the gate opened", flush=True)
wait(sys.argv[1] + ".last")
"""


def open_gates(gate: Path) -> None:
    gate.touch()
    gate.with_name(gate.name + ".last").touch()


def slow_files(world: World, gate: Path) -> dict[str, str]:
    return {
        "workflows.yaml": (
            "version: 1\n"
            "projects:\n"
            "  - {name: network, dir: network, workflow: slow}\n"
            "workflows:\n"
            "  slow:\n"
            f"    plan: {{steps: [init, {{run: \"{sys.executable} ../slow.py {gate}\"}}, plan]}}\n"),
        "slow.py": SLOW_STEP,
        "network/main.tf": tf_project(world.state_dir, "network"),
    }


@pytest.fixture
def slow_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A server that runs custom steps and hands SECRET_VAR (a secret) to them;
    a failing forge call waits five minutes before its job retries."""
    monkeypatch.setenv(SECRET_VAR, SECRET)
    with running_world(tmp_path, allow_custom_steps=True, tf_env_passthrough=(SECRET_VAR,),
                       retry=RetryPolicy(limit=timedelta(hours=1), first=300, longest=300)
                       ) as world:
        yield world


def open_slow_pull(world: World, gate: Path) -> NeutralPull:
    """A pull request whose plan waits at the gate; not settled."""
    repo = world.repo(slow_files(world, gate))
    pull = world.fake.open_pull(repo, changes={"network/extra.tf": (
        '\nresource "terraform_data" "extra" {\n  input = "x"\n}\n')})
    status, _ = world.fake.deliver("pull_request",
                                   world.fake.pull_request_payload(pull, "opened"))
    assert status == 202
    return pull


def plan_job_id(world: World) -> int:
    (job,) = [j for j in JobViews(world.service.db).page(JobQuery(limit=100)).jobs if j.repo]
    return job.id


def test_the_log_is_kept_escaped_and_masked_then_forgotten_with_its_job(
        slow_world: World, tmp_path: Path) -> None:
    world = slow_world
    gate = tmp_path / "gate"
    open_gates(gate)  # no waiting: this test reads the log once the job is done
    pull = open_slow_pull(world, gate)
    world.settle()
    ipr_id = world.record(pull).id
    job_id = plan_job_id(world)
    vera = signed_in(world, "vera", "viewer")

    page = vera.get(f"/jobs/{job_id}")
    assert page.status == 200 and 'class="state job-done"' in page.body
    assert f"<h1>Job {job_id}: pull request opened by alice</h1>" in page.body
    assert "[network] first line of the slow step" in page.body
    assert "[network] &lt;b&gt;not bold&lt;/b&gt; &amp; &lt;i&gt;raw&lt;/i&gt;" in page.body
    assert "[network] the secret is ****" in page.body
    assert "[network] $ terraform plan" in page.body and "Plan: 2 to add" in page.body
    assert "data-stream" not in page.body  # finished: nothing to follow
    listing = vera.get("/jobs?show=all")
    assert f'href="/jobs/{job_id}"' in listing.body and "network" in listing.body
    assert f'href="/ipr/{ipr_id}"' in listing.body
    stream = sse(world, vera, f"/stream/jobs/{job_id}?after=0")
    assert "data: [network] the gate opened" in stream and "event: end\n" in stream
    for text in (page.body, listing.body, stream):
        assert SECRET not in text

    ipr = vera.get(f"/ipr/{ipr_id}")
    assert f'href="/jobs/{job_id}"' in ipr.body
    changes = re.findall(r'<td class="change-(\w+)">\w+</td><td><code>([^<]+)</code>',
                         ipr.body)
    assert changes == [("create", "terraform_data.extra"), ("create", "terraform_data.network")]

    assert world.service.jobs.prune(timedelta(0)) >= 1  # housekeeping forgets the job
    assert vera.get(f"/jobs/{job_id}").status == 404
    assert JobLogStore(world.service.db).tail(job_id) == []
    assert f'href="/jobs/{job_id}"' not in vera.get(f"/ipr/{ipr_id}").body


def test_a_viewer_sees_a_retrying_job_and_only_an_admin_retries_it(
        slow_world: World, tmp_path: Path) -> None:
    world = slow_world
    gate = tmp_path / "gate"
    open_gates(gate)
    world.fake.outage()  # until healed: the plan job's first forge call fails
    open_slow_pull(world, gate)
    views = JobViews(world.service.db)
    job_id = wait_for_state(views, JobState.RETRYING)
    vera = signed_in(world, "vera", "viewer")
    listing = vera.get("/jobs")
    assert f'href="/jobs/{job_id}"' in listing.body and "job-retrying" in listing.body
    page = vera.get(f"/jobs/{job_id}")
    assert page.status == 200 and "retrying" in page.body and "502" in page.body
    assert 'value="retry"' not in page.body and "<button" not in page.body.split("<main")[1]
    refused = vera.post(f"/jobs/{job_id}/retry", {"csrf": page.csrf})
    assert refused.status == 403 and "needs admin" in refused.body
    assert views.job(job_id).state is JobState.RETRYING  # type: ignore[union-attr]

    world.fake.heal()
    root = signed_in(world, "root", "admin")
    page = root.get(f"/jobs/{job_id}")
    assert 'value="retry"' in page.body
    answer = root.post(f"/jobs/{job_id}/retry", {"csrf": page.csrf})
    assert answer.status == 303
    world.settle()  # it ran now, not in five minutes
    assert views.job(job_id).state is JobState.DONE  # type: ignore[union-attr]
    again = root.post(f"/jobs/{job_id}/retry", {"csrf": page.csrf})
    assert again.status == 409 and "not waiting to retry" in again.body


def test_bad_job_pages_are_refused_plainly(world: World) -> None:
    vera = signed_in(world, "vera", "viewer")
    assert vera.get("/jobs?show=bogus").status == 400
    assert vera.get("/jobs?page=x").status == 400
    assert vera.get("/jobs?page=0").status == 400
    assert vera.get("/jobs/999").status == 404
    assert "No jobs here." in vera.get("/jobs").body
    anonymous = ConsoleClient(world.url)
    for path in ("/jobs", "/jobs/1", "/stream/jobs/1"):
        answer = anonymous.get(path)
        assert answer.status == 303 and "/login" in answer.headers["Location"]
    assert anonymous.post("/jobs/1/retry", {"csrf": "x"}).status == 401


def wait_for_state(views: JobViews, state: JobState) -> int:
    """The id of the first job in `state`, waiting for it (the forge's answers pace it)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [j for j in views.page(JobQuery(limit=100)).jobs if j.state is state]
        if found:
            return found[0].id
        time.sleep(0.05)
    raise AssertionError(f"no job became {state.value}")


def sse(world: World, client: ConsoleClient, path: str) -> str:
    """A stream's whole text, for a finished job (the server ends it)."""
    request = urllib.request.Request(world.url + path)
    with client.opener.open(request, timeout=60) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        return str(resp.read().decode())


def test_a_replicas_console_follows_a_job_running_on_another(
        tmp_path: Path, make_postgres_db: Callable[[], str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`front` only serves HTTP, `back` only runs jobs, on one PostgreSQL database:
    front's log stream sends the lines of back's job while it runs, then its end."""
    monkeypatch.setenv(SECRET_VAR, SECRET)
    url = make_postgres_db()
    gate = tmp_path / "gate"
    with FakeGitHub(tmp_path) as fake:
        def settings(name: str) -> Settings:
            return Settings(gh_token=fake.token, gh_webhook_secret=WEBHOOK_SECRET,
                            gh_api_url=fake.api_url, gh_user=fake.bot_login,
                            data_dir=tmp_path / name, database_url=url, host="127.0.0.1",
                            allow_custom_steps=True, tf_env_passthrough=(SECRET_VAR,))

        front, back = create_service(settings("front")), create_service(settings("back"))
        http = HTTPServer(front, "127.0.0.1", 0)
        http.start()
        back.start()
        state = tmp_path / "state"
        state.mkdir()
        try:
            world = World(fake, front, http, state)
            fake.webhook_url, fake.webhook_secret = f"{world.url}/events", WEBHOOK_SECRET
            open_slow_pull(world, gate)
            job_id = plan_job_id(world)
            vera = signed_in(world, "vera", "viewer")
            request = urllib.request.Request(f"{world.url}/stream/jobs/{job_id}?after=0")
            with vera.opener.open(request, timeout=120) as stream:
                read_until(stream, "data: [network] the secret is ****")
                job = JobViews(front.db).job(job_id)
                assert job is not None and job.state is JobState.RUNNING
                open_gates(gate)
                rest = read_until(stream, "event: end")
            assert "data: [network] the gate opened" in rest and SECRET not in rest
            assert back.settle(180)
        finally:
            open_gates(gate)
            http.close()
            back.stop()
            front.stop()


def read_until(stream: IO[bytes], wanted: str) -> str:
    """The stream's lines up to the first one starting with `wanted` (the server
    ends each stream after 25 s: this one is not that long)."""
    seen = []
    for raw in stream:
        line = raw.decode().rstrip("\n")
        seen.append(line)
        if line.startswith(wanted):
            return "\n".join(seen)
    raise AssertionError(f"the stream ended before {wanted!r}: {seen[-10:]}")
