"""The review console in a real browser (headless Chromium): sign in, the
reviewer's actions, refusals, an admin's unlock, what a viewer may do, and a
running job's log growing line by line."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from atlantis_py.domain.jobs import JobState
from atlantis_py.store.job_views import JobViews
from tests.e2e.browser import Page, chromium
from tests.e2e.conftest import World
from tests.e2e.test_console_iprs import planned_ipr_on
from tests.e2e.test_console_jobs import SECRET, open_slow_pull, plan_job_id, slow_world
from tests.e2e.test_flow import FORGES, base_files, tf_extra

__all__ = ["slow_world"]  # the fixture, for the live log's test


@pytest.fixture
def page(world: World, tmp_path: Path) -> Iterator[Page]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with chromium(profile) as driver:
        yield Page(driver, world.url)


@FORGES
def test_sign_in_approve_and_deploy(world: World, page: Page) -> None:
    ipr_id, pull = planned_ipr_on(world)
    page.open(f"/ipr/{ipr_id}")
    assert "/login" in page.driver.current_url  # sent to sign in first
    page.sign_in(world.token("bob", "reviewer"), here=True)
    assert page.driver.current_url.endswith(f"/ipr/{ipr_id}")  # and back again
    assert "bob (reviewer)" in page.text

    deploy = page.find("button[value=deploy]")
    assert deploy.get_attribute("disabled") is not None
    why = page.find("#" + (deploy.get_attribute("aria-describedby") or "missing")).text
    assert "Deploy is not possible now: needs 1 more approval" in why

    page.find("textarea[name=comment]").send_keys("LGTM")
    page.submit("button[value=approve]")
    assert "Your approval is recorded." in page.text
    assert page.find(".state.APPROVED").text == "APPROVED"
    assert page.find("button[value=deploy]").get_attribute("disabled") is None

    page.submit("button[value=deploy]")
    assert "Deploy queued" in page.text
    world.settle()
    page.open(f"/ipr/{ipr_id}")
    assert page.find("p .state").text == "DEPLOYED"
    assert any(c.startswith("Ran Apply") for c in world.bot_comments(pull))
    assert any("bob" in c and "LGTM" in c for c in world.bot_comments(pull))


def test_a_forged_form_is_refused_and_reject_needs_a_reason(world: World, page: Page) -> None:
    ipr_id, pull = planned_ipr_on(world)
    page.sign_in(world.token("carol", "reviewer"))
    page.open(f"/ipr/{ipr_id}")
    # the same form without its CSRF token, as another site would have to send it
    page.driver.execute_script(
        "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    page.submit("button[value=approve]")
    assert "CSRF token is missing or wrong" in page.text
    page.open(f"/ipr/{ipr_id}")
    assert "review:approved" not in page.text

    reason = page.find("textarea[name=reason]")
    assert reason.get_attribute("required") is not None  # the browser asks for one first
    reason.send_keys("Needs more CPU")
    page.submit("button[value=reject]")
    assert "Your rejection is recorded." in page.text
    assert page.find("p .state").text == "REJECTED"
    assert "changes requested by carol" in page.find("ul.blocking").text
    assert any("carol" in c and "Needs more CPU" in c for c in world.bot_comments(pull))


def test_an_admin_unlocks_a_lock(world: World, page: Page) -> None:
    ipr_id, pull = planned_ipr_on(world)
    page.sign_in(world.token("root", "admin"))
    page.find("nav a[href='/locks']").click()
    row = page.find("tbody tr")
    assert "network" in row.text and f"#{pull.number}" in row.text
    page.find("tbody input[name=reason]").send_keys("stuck since the outage")
    page.submit("button[value=unlock]")
    assert "Released the lock on acme/infra network" in page.text
    assert "No locks are held." in page.text
    assert any("released this pull request's lock" in c and "stuck since the outage" in c
               for c in world.bot_comments(pull))
    page.open(f"/ipr/{ipr_id}")
    assert "lock:released" in page.text


def test_a_viewer_sees_no_buttons_and_a_hand_made_post_is_refused(world: World,
                                                                   page: Page) -> None:
    ipr_id, _ = planned_ipr_on(world)
    page.sign_in(world.token("vera", "viewer"))
    page.open(f"/ipr/{ipr_id}")
    assert "vera (viewer)" in page.text
    assert [b.text for b in page.all("main button")] == []
    page.open("/locks")
    assert "network" in page.text and page.all("main button") == []

    cookie = page.driver.get_cookie("atl_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    csrf = page.find("input[name=csrf]").get_attribute("value") or ""
    request = urllib.request.Request(
        f"{world.url}/ipr/{ipr_id}/approve", method="POST",
        data=urllib.parse.urlencode({"csrf": csrf}).encode(),
        headers={"Cookie": f"atl_session={cookie['value']}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 403
    assert "vera has role viewer; this needs reviewer" in refused.value.read().decode()
    page.open(f"/ipr/{ipr_id}")
    assert "review:approved" not in page.text


def test_the_list_updates_itself_when_an_ipr_arrives(world: World, page: Page) -> None:
    planned_ipr_on(world)
    page.sign_in(world.token("bob", "reviewer"))
    assert page.find("#ipr-table caption").text == "1 IPR"
    marker = page.find("h1")  # the same page all along: no reload
    repo = world.fake.create_repo("acme/other", base_files(world, "network"))
    world.open_pr(repo, {"network/extra.tf": tf_extra("y")})
    WebDriverWait(page.driver, 60).until(
        lambda _: page.find("#ipr-table caption").text == "2 IPRs")
    assert marker.text == "Infrastructure Pull Requests"
    assert "PENDING 2" in page.find("#ipr-counts").text


@pytest.fixture
def slow_page(slow_world: World, tmp_path: Path) -> Iterator[Page]:
    """The browser, on the server of `slow_world` (`page` brings a world of its own)."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with chromium(profile) as driver:
        yield Page(driver, slow_world.url)


def test_live_log_lines_appear_while_a_plan_runs(slow_world: World, slow_page: Page,
                                                 tmp_path: Path) -> None:
    world, page = slow_world, slow_page
    gate = tmp_path / "gate"  # the plan's `run` step waits until this exists
    open_slow_pull(world, gate)
    views = JobViews(world.service.db)
    page.sign_in(world.token("vera", "viewer"))
    page.find("nav a[href='/jobs']").click()
    job_id = plan_job_id(world)
    WebDriverWait(page.driver, 60).until(lambda _: page.all(f"a[href='/jobs/{job_id}']"))
    page.find(f"a[href='/jobs/{job_id}']").click()
    log = page.find("#job-log")

    WebDriverWait(page.driver, 120).until(
        lambda _: "the secret is" in log.text)  # printed by the step, as it runs
    assert "[network] first line of the slow step" in log.text
    assert "[network] <b>not bold</b> & <i>raw</i>" in log.text  # text, not markup
    assert page.all("#job-log b, #job-log i") == []
    assert "[network] the secret is ****" in log.text and SECRET not in page.text
    assert "the gate opened" not in log.text
    assert page.all("main button") == []  # a viewer looks, and does nothing else

    gate.touch()  # the step prints its next line, after this page was made
    WebDriverWait(page.driver, 120).until(lambda _: "the gate opened" in log.text)
    assert views.job(job_id).state is JobState.RUNNING  # type: ignore[union-attr]
    assert page.find("#job-state").text in ("queued", "running")  # not reloaded

    gate.with_name("gate.last").touch()
    WebDriverWait(page.driver, 120).until(lambda _: page.find("#job-state").text == "done")
    assert "Plan: 2 to add" in log.text
    assert log.text.count("the gate opened") == 1  # no line twice


def test_the_jobs_list_updates_itself_when_a_job_arrives(world: World, page: Page) -> None:
    planned_ipr_on(world)
    page.sign_in(world.token("vera", "viewer"))
    page.open("/jobs?show=all")
    assert page.find("#job-table caption").text == "1 job"
    marker = page.find("h1")  # the same page all along: no reload
    repo = world.fake.create_repo("acme/other", base_files(world, "network"))
    world.open_pr(repo, {"network/extra.tf": tf_extra("y")})
    WebDriverWait(page.driver, 60).until(
        lambda _: page.find("#job-table caption").text == "2 jobs")
    assert marker.text == "Jobs"
    assert "All (2)" in page.find("#job-tabs").text
    assert "acme/other#" in page.find("#job-table").text
