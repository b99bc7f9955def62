"""Never silent, nothing lost: the forge failing under a job, end to end.

A transient failure (5xx, a secondary rate limit with Retry-After) makes the job
retry later, and the pull request ends with exactly the comments and statuses
it would have had without the failure, each once. A job that fails for good
says so on the pull request, with its job id and what to do."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from atlantis_py.domain.records import JobStatus
from atlantis_py.queue.retry import RetryPolicy
from tests.e2e.conftest import World, running_world, tf_project
from tests.fakeforge.neutral import NeutralPull
from tests.support.tables import all_jobs

FORGES = pytest.mark.parametrize("world", ["github", "gitlab"], indirect=True)
FORGES_AND_POSTGRES = pytest.mark.parametrize(
    "world", ["github", "gitlab", "github-postgres"], indirect=True)


def files(world: World) -> dict[str, str]:
    return {"network/main.tf": tf_project(world.state_dir, "network")}


def extra(name: str) -> dict[str, str]:
    return {"network/extra.tf": f'\nresource "terraform_data" "{name}" {{\n  input = "x"\n}}\n'}


def open_unsettled(world: World, changes: dict[str, str]) -> NeutralPull:
    """Open a pull request without waiting for its jobs (open_pr settles)."""
    pull = world.fake.open_pull(world.repo(files(world)), changes=changes)
    status, _ = world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "opened"))
    assert status == 202
    return pull


def statuses_of(world: World, pull: NeutralPull, context: str) -> list[str]:
    """Every state posted for `context` on the head commit, oldest first."""
    return [s["state"] for s in world.fake.statuses(pull.repo, pull.head_sha)
            if s["context"] == context]


def plan_runs(world: World, pull: NeutralPull, command: str = "plan") -> int:
    return len(world.service.services.pulls.runs(world.record(pull).id, command))


@FORGES
def test_an_outage_during_autoplan_is_waited_out(world: World) -> None:
    """Every route answers 502 for a while: the job retries until the forge is
    back, then plans once and reports once."""
    outage = world.fake.outage(requests=7)
    pull = open_unsettled(world, extra("a"))
    world.settle()

    assert outage.hits == 7
    [job] = all_jobs(world.service.db)
    assert job.status is JobStatus.DONE and job.attempts > 1
    [plan] = world.bot_comments(pull)
    assert "Plan: 2 to add" in plan
    assert statuses_of(world, pull, "atlantis/plan") == ["pending", "success"]
    assert plan_runs(world, pull) == 1


@FORGES
def test_a_command_sent_during_an_outage_runs_when_the_forge_is_back(world: World) -> None:
    pull = open_unsettled(world, extra("a"))
    world.settle()
    outage = world.fake.outage(requests=6, only=("permission", "pull"))
    reply = world.comment(pull, "alice", "atlantis plan")

    assert outage.hits == 6
    assert "Plan: 2 to add" in reply
    assert len(world.bot_comments(pull)) == 2
    assert statuses_of(world, pull, "atlantis/plan") == ["pending", "success"] * 2
    assert plan_runs(world, pull) == 2


@FORGES_AND_POSTGRES
def test_a_comment_refused_by_the_rate_limit_is_sent_after_retry_after(world: World) -> None:
    """The plan is done once; only its report waits for the forge's Retry-After,
    and the status behind it keeps its place in line."""
    limit = world.fake.rate_limit(requests=2, retry_after=1, only=("comment",))
    pull = open_unsettled(world, extra("a"))
    world.settle()

    assert limit.hits == 2
    [plan] = world.bot_comments(pull)
    assert "Plan: 2 to add" in plan
    assert statuses_of(world, pull, "atlantis/plan") == ["pending", "success"]
    assert plan_runs(world, pull) == 1
    [job] = all_jobs(world.service.db)
    assert job.status is JobStatus.DONE and job.attempts == 3


@FORGES
def test_an_apply_whose_report_is_refused_is_never_applied_twice(world: World) -> None:
    pull = open_unsettled(world, extra("once"))
    world.settle()
    world.approve(pull, "bob")
    world.fake.rate_limit(requests=1, retry_after=1, only=("comment", "status"))
    reply = world.comment(pull, "alice", "atlantis apply")

    assert reply.count("Apply") >= 1 and "Error" not in reply
    assert len(world.bot_comments(pull)) == 2
    assert statuses_of(world, pull, "atlantis/apply") == ["pending", "success"]
    assert plan_runs(world, pull, "apply") == 1
    assert "once" in world.state_resources("network")
    assert world.record(pull).state.value == "DEPLOYED"


@FORGES
def test_a_permanent_error_fails_at_once_and_says_so(world: World) -> None:
    refused = world.fake.refuse(only=("files",), status=403)
    pull = open_unsettled(world, extra("a"))
    world.settle()

    assert refused.hits == 1
    [job] = all_jobs(world.service.db)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    [error] = world.bot_comments(pull)
    assert f"autoplan of `{pull.head_sha[:7]}` failed" in error
    assert "HTTP 403" in error and "Resource not accessible by integration" in error
    assert "`atlantis plan`" in error
    assert f"job {job.id}" in error and job.delivery_id in error
    assert statuses_of(world, pull, "atlantis/plan") == ["failure"]


@FORGES
def test_a_failing_api_call_behind_apply_answers_on_the_pull_request(world: World) -> None:
    pull = open_unsettled(world, extra("a"))
    world.settle()
    world.approve(pull, "bob")
    world.fake.refuse(only=("reviews",), status=404, message="404 Not Found")
    reply = world.comment(pull, "alice", "atlantis apply")

    assert "`atlantis apply` failed" in reply and "HTTP 404" in reply
    assert "Comment `atlantis apply` to try again." in reply
    assert statuses_of(world, pull, "atlantis/apply") == ["failure"]
    assert world.state_resources("network") == []


@FORGES
def test_an_invalid_ref_name_is_answered(world: World) -> None:
    pull = world.fake.open_pull(world.repo(files(world)), changes=extra("a"))
    pull.branch = "feature..two-dots"  # no git would take it; a forged payload might
    status, _ = world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "opened"))
    assert status == 202
    world.settle()

    [error] = world.bot_comments(pull)
    assert "invalid ref name 'feature..two-dots'" in error
    assert statuses_of(world, pull, "atlantis/plan") == ["failure"]


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_retries_give_up_at_the_limit_and_say_so(tmp_path: Path, forge: str) -> None:
    brief = RetryPolicy(limit=timedelta(seconds=2), first=0.2, longest=0.5)
    with running_world(tmp_path, forge, retry=brief) as world:
        outage = world.fake.outage(only=("files",))
        pull = open_unsettled(world, extra("a"))
        world.settle()

        [job] = all_jobs(world.service.db)
        assert job.status is JobStatus.FAILED and job.attempts > 1
        assert outage.hits >= job.attempts
        [error] = world.bot_comments(pull)
        assert f"gave up after {job.attempts} attempts" in error
        assert "HTTP 502" in error and "`atlantis plan`" in error
        assert statuses_of(world, pull, "atlantis/plan") == ["failure"]

        world.fake.heal()
        assert "Plan: 2 to add" in world.comment(pull, "alice", "atlantis plan")
        assert len(world.bot_comments(pull)) == 2
        assert statuses_of(world, pull, "atlantis/plan") == ["failure", "pending", "success"]
