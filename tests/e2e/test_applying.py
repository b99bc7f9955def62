"""While terraform applies, the IPR is APPLYING: rejects, cancels and reviews wait,
deploys share the running job, a close is cleaned up after, and the outcome is
recorded as it happened. terraform is a wrapper that holds `apply` until the
test releases it."""

from __future__ import annotations

import stat
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from atlantis_py.domain.records import IPRState, Job, JobStatus
from atlantis_py.flows import recovery
from atlantis_py.queue.payloads import ApplyJob
from tests.e2e.conftest import World, running_world
from tests.e2e.console_client import ConsoleClient
from tests.e2e.test_flow import base_files, tf_extra
from tests.fakeforge.neutral import NeutralPull
from tests.support.tables import all_jobs

HOLD_APPLY = """#!{python}
import os, pathlib, sys, time
gate = pathlib.Path({gate!r})
if sys.argv[1:2] == ["apply"]:
    with open(gate / "applies", "a") as started:
        started.write("apply\\n")
    deadline = time.monotonic() + 300
    while not (gate / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
os.execvp("terraform", ["terraform", *sys.argv[1:]])
"""


class HeldApply:
    """A terraform whose `apply` waits for `release()`; counts the applies begun."""

    def __init__(self, gate: Path) -> None:
        gate.mkdir()
        self.gate = gate
        self.bin = gate / "terraform"
        self.bin.write_text(HOLD_APPLY.format(python=sys.executable, gate=str(gate)))
        self.bin.chmod(self.bin.stat().st_mode | stat.S_IEXEC)

    def applies(self) -> int:
        path = self.gate / "applies"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def wait_started(self) -> None:
        deadline = time.monotonic() + 120
        while self.applies() == 0:
            assert time.monotonic() < deadline, "terraform apply never started"
            time.sleep(0.05)

    def release(self) -> None:
        (self.gate / "release").touch()


@pytest.fixture
def held(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, HeldApply]]:
    """Like the `world` fixture ("FORGE[-postgres]"), with terraform held at apply."""
    forge, _, db = str(getattr(request, "param", "github")).partition("-")
    terraform = HeldApply(tmp_path / "gate")
    database_url = request.getfixturevalue("make_postgres_db")() if db == "postgres" else ""
    with running_world(tmp_path, forge, database_url, terraform_bin=str(terraform.bin)) as w:
        try:
            yield w, terraform
        finally:
            terraform.release()


FORGES = pytest.mark.parametrize("held", ["github", "gitlab"], indirect=True)
FORGES_AND_POSTGRES = pytest.mark.parametrize(
    "held", ["github", "gitlab", "github-postgres", "gitlab-postgres"], indirect=True)


def approved_ipr(world: World) -> tuple[int, NeutralPull, str]:
    """A planned IPR approved through the API by bob; returns (id, pull, bob's token)."""
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    ipr_id = world.record(pull).id
    bob = world.token("bob", "reviewer")
    status, ipr = world.api("POST", f"/ipr/{ipr_id}/review", bob, {"decision": "approve"})
    assert status == 200 and ipr["state"] == "APPROVED", ipr
    world.settle()  # the approval's notice is a job: posted before callers count comments
    return ipr_id, pull, bob


def actions(world: World, ipr_id: int) -> list[tuple[str, str]]:
    return [(e.action, e.detail) for e in world.service.services.audit.events(ipr_id)]


def state_changes(world: World, ipr_id: int) -> list[str]:
    return [a for a, _ in actions(world, ipr_id) if a.startswith("state:")]


def applied_comments(comments: list[str]) -> list[str]:
    return [c for c in comments if c.startswith("Ran Apply")]


@FORGES_AND_POSTGRES
def test_reject_cancel_and_reviews_during_an_apply_leave_its_outcome(
        held: tuple[World, HeldApply]) -> None:
    world, terraform = held
    ipr_id, pull, bob = approved_ipr(world)
    carol, root = world.token("carol", "reviewer"), world.token("root", "admin")
    status, _ = world.api("POST", f"/ipr/{ipr_id}/deploy", bob)
    assert status == 202
    terraform.wait_started()
    before = list(world.bot_comments(pull))

    status, ipr = world.api("GET", f"/ipr/{ipr_id}", bob)
    assert ipr["state"] == "APPLYING"
    browser = ConsoleClient(world.url)
    browser.sign_in(bob)
    page = browser.get(f"/ipr/{ipr_id}")
    assert page.status == 200 and 'class="state APPLYING"' in page.body
    for who, body in ((carol, {"decision": "reject", "comment": "stop"}),
                      (carol, {"decision": "approve"})):
        status, refused = world.api("POST", f"/ipr/{ipr_id}/review", who, body)
        assert status == 409 and "APPLYING" in refused["error"], refused
    status, refused = world.api("POST", f"/ipr/{ipr_id}/cancel", root, {"reason": "stop"})
    assert status == 409 and "cannot be cancelled while terraform applies" in refused["error"]
    world.fake.review(pull, "carol", "CHANGES_REQUESTED")
    status, _ = world.fake.deliver("pull_request_review",
                                   world.fake.review_payload(pull, "carol", "changes_requested"))
    assert status == 202
    status, page = world.api("GET", "/ipr?state=APPLYING", bob)
    assert [i["id"] for i in page["items"]] == [ipr_id]
    assert world.service.services.locks.held_by(ipr_id), "the lock is kept while applying"
    assert world.bot_comments(pull) == before, "nothing is posted for refused calls"

    terraform.release()
    world.settle()
    status, ipr = world.api("GET", f"/ipr/{ipr_id}", bob)
    assert ipr["state"] == "DEPLOYED" and ipr["projects"][0]["applied"] is True
    assert terraform.applies() == 1 and "x" in world.state_resources("network")
    assert state_changes(world, ipr_id)[-3:] == ["state:APPROVED", "state:APPLYING",
                                                 "state:DEPLOYED"]
    assert not {"state:REJECTED", "state:CANCELLED"} & set(state_changes(world, ipr_id))
    trail = [a for a, _ in actions(world, ipr_id)]
    assert trail.count("deploy:requested") == 1
    assert any(a.startswith("review:") for a in trail[trail.index("state:DEPLOYED"):]), \
        "the forge's review is audited"
    assert [r.user for r in world.service.services.reviews.list(ipr_id)] == ["bob"]
    new = world.bot_comments(pull)[len(before):]
    assert len(applied_comments(new)) == 1 and len(new) == 1, new
    assert world.service.services.locks.held_by(ipr_id)


@FORGES_AND_POSTGRES
def test_twelve_concurrent_deploys_make_one_job_and_one_apply(
        held: tuple[World, HeldApply]) -> None:
    world, terraform = held
    ipr_id, pull, bob = approved_ipr(world)
    before = list(world.bot_comments(pull))
    start = threading.Barrier(12)

    def deploy(_: int) -> tuple[int, Any]:
        start.wait()
        return world.api("POST", f"/ipr/{ipr_id}/deploy", bob)

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(deploy, range(12)))
    assert [status for status, _ in answers] == [202] * 12, answers
    [job_id] = {body["job"] for _, body in answers}
    terraform.wait_started()
    status, again = world.api("POST", f"/ipr/{ipr_id}/deploy", bob)  # while APPLYING
    assert (status, again["job"]) == (202, job_id)

    terraform.release()
    world.settle()
    assert [j.id for j in all_jobs(world.service.db) if j.kind == "apply"] == [job_id]
    assert [a for a, _ in actions(world, ipr_id)].count("deploy:requested") == 1
    assert terraform.applies() == 1 and "x" in world.state_resources("network")
    new = world.bot_comments(pull)[len(before):]
    assert len(new) == 1 and len(applied_comments(new)) == 1, new
    assert world.record(pull).state.value == "DEPLOYED"
    status, late = world.api("POST", f"/ipr/{ipr_id}/deploy", bob)
    assert status == 409 and "DEPLOYED" in late["error"]


@FORGES
def test_a_close_during_an_apply_is_cleaned_up_after_its_outcome(
        held: tuple[World, HeldApply]) -> None:
    world, terraform = held
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    ipr_id = world.record(pull).id
    world.approve(pull, "bob")
    before = list(world.bot_comments(pull))
    status, _ = world.fake.deliver("issue_comment",
                                   world.fake.comment_payload(pull, "alice", "atlantis apply"))
    assert status == 202
    terraform.wait_started()
    [applying] = [j for j in all_jobs(world.service.db) if j.status is JobStatus.RUNNING]
    bob = world.token("bob", "reviewer")
    status, queued = world.api("POST", f"/ipr/{ipr_id}/deploy", bob)
    assert (status, queued["job"]) == (202, applying.id), "the comment's apply is the job"

    world.fake.close_pull(pull, merged=False)
    status, _ = world.fake.deliver("pull_request", world.fake.pull_request_payload(pull, "closed"))
    assert status == 202
    assert world.record(pull).state.value == "APPLYING"
    assert world.service.services.locks.held_by(ipr_id), "clean-up waits for the apply"

    terraform.release()
    world.settle()
    record = world.record(pull)
    assert (record.state.value, record.open) == ("DEPLOYED", False)
    assert world.service.services.locks.held_by(ipr_id) == []
    assert terraform.applies() == 1 and "x" in world.state_resources("network")
    trail = actions(world, ipr_id)
    assert [a for a, _ in trail].count("deploy:requested") == 0
    assert state_changes(world, ipr_id)[-2:] == ["state:APPLYING", "state:DEPLOYED"]
    assert trail[-1] == ("closed", ("closed without merging; it stays DEPLOYED, "
                                    "as its apply is not undone"))
    new = world.bot_comments(pull)[len(before):]
    assert len(applied_comments(new)) == 1 and applied_comments(new) == new[:1], new
    assert "released its lock" in new[-1], "the clean-up's comment comes after the result"


def test_recovery_fails_an_apply_cut_short_while_no_project_ran(world: World) -> None:
    """The worker died while APPLYING but between projects' runs (before the first,
    or after the last and before the outcome): FAILED, said once, never run again."""
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    record = world.record(pull)
    svc = world.service.services
    job = Job(id=0, kind=ApplyJob.KIND, serial_key="", attempts=1, status=JobStatus.RUNNING,
              payload=ApplyJob(record.forge, record.repo, record.number, "bob").encode())
    queue = world.service.queue
    assert recovery.interrupted(svc, queue, job) is True, "nothing was applying: run it again"
    before = len(world.bot_comments(pull))
    svc.pulls.set_state(record.id, IPRState.APPLYING)
    assert recovery.interrupted(svc, queue, job) is False
    assert world.record(pull).state is IPRState.FAILED
    world.settle()  # the notice is a queued job
    assert actions(world, record.id)[-1] == (
        "state:FAILED", "APPLYING -> FAILED: apply interrupted: before its outcome was recorded")
    [said] = world.bot_comments(pull)[before:]
    assert said.startswith("**Apply interrupted**")
    assert world.statuses(pull)["atlantis/apply"][0] == "failure"


def test_an_apply_of_a_cancelled_ipr_is_refused_and_applies_nothing(world: World) -> None:
    """Cancelled through the API while the pull request stays open: a later
    `atlantis apply`, approvals or not, says why and leaves the record as it is."""
    repo = world.repo(base_files(world, "network"))
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    ipr_id = world.record(pull).id
    world.approve(pull, "bob")
    status, _ = world.api("POST", f"/ipr/{ipr_id}/cancel", world.token("root", "admin"))
    assert status == 200
    reply = world.comment(pull, "alice", "atlantis apply")
    assert reply.startswith("**Apply refused**") and "`CANCELLED`" in reply
    assert world.record(pull).state is IPRState.CANCELLED
    assert world.state_resources("network") == []
    assert actions(world, ipr_id)[-1][0] == "apply:refused"
