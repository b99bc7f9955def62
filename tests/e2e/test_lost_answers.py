"""What the retry work left open, end to end on both forges: a comment whose
answer was lost (it landed, the client heard a 502) is not posted twice;
notices outside jobs (API review and cancel) wait out an outage instead of
being lost; a job that gives up names the writes it never delivered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from atlantis_py.domain.records import JobStatus
from atlantis_py.queue.retry import RetryPolicy
from tests.e2e.conftest import World, running_world
from tests.e2e.test_forge_outages import FORGES, extra, open_unsettled, statuses_of
from tests.support.tables import all_jobs

MARKER = "<!-- atlantis-py job="


def listed_comments(world: World) -> int:
    """GETs of a pull request's comments (GitHub) or notes (GitLab)."""
    return sum(1 for r in world.fake.requests if r.method == "GET" and (
        r.path.endswith("/comments") or r.path.endswith("/notes")))


@FORGES
def test_a_comment_whose_answer_was_lost_is_not_posted_twice(world: World) -> None:
    lost = world.fake.outage(requests=1, only=("comment",), lands=True)
    pull = open_unsettled(world, extra("a"))
    world.settle()

    assert lost.hits == 1
    [plan] = world.bot_comments(pull)
    assert "Plan: 2 to add" in plan and MARKER in plan
    assert listed_comments(world) >= 1, "the retry looked before sending again"
    assert statuses_of(world, pull, "atlantis/plan") == ["pending", "success"]
    [job] = all_jobs(world.service.db)
    assert job.status is JobStatus.DONE and job.attempts == 2


@FORGES
def test_a_comment_refused_by_a_5xx_that_did_not_land_is_sent_again(world: World) -> None:
    world.fake.outage(requests=1, only=("comment",))
    pull = open_unsettled(world, extra("a"))
    world.settle()

    [plan] = world.bot_comments(pull)
    assert "Plan: 2 to add" in plan
    assert statuses_of(world, pull, "atlantis/plan") == ["pending", "success"]


@FORGES
def test_api_reviews_and_cancels_wait_out_an_outage(world: World) -> None:
    pull = open_unsettled(world, extra("a"))
    world.settle()
    ipr = world.record(pull).id
    before = len(world.bot_comments(pull))
    outage = world.fake.outage(requests=4, only=("comment",))

    status, _ = world.api("POST", f"/ipr/{ipr}/review", world.token("bob", "reviewer"),
                          {"decision": "approve", "comment": "LGTM"})
    assert status == 200
    status, _ = world.api("POST", f"/ipr/{ipr}/cancel", world.token("root", "admin"),
                          {"reason": "not now"})
    assert status == 200
    world.settle()

    assert outage.hits == 4
    review, cancel = world.bot_comments(pull)[before:]
    assert "`bob`** approved" in review and "LGTM" in review
    assert "not now" in cancel
    notices = [j for j in all_jobs(world.service.db) if j.kind == "notify"]
    assert [j.status for j in notices] == [JobStatus.DONE] * 2


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_a_job_that_gives_up_names_what_it_never_delivered(tmp_path: Path, forge: str) -> None:
    brief = RetryPolicy(limit=timedelta(seconds=2), first=0.2, longest=0.5)
    with running_world(tmp_path, forge, retry=brief) as world:
        world.fake.outage(only=("status",))
        pull = open_unsettled(world, extra("a"))
        world.settle()

        [job] = all_jobs(world.service.db)
        assert job.status is JobStatus.FAILED and job.attempts > 1
        [error] = world.bot_comments(pull)
        assert f"gave up after {job.attempts} attempts" in error
        assert "These never reached the pull request" in error
        assert "* the status `atlantis/plan` = pending" in error
        assert "* a comment beginning “Ran Plan for 1 project:”" in error
        assert "* the status `atlantis/plan` = success" in error
        assert statuses_of(world, pull, "atlantis/plan") == []
