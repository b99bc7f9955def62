"""One deploy job per IPR, decided in the database: on SQLite and PostgreSQL, from
threads and from separate Database instances as separate replicas would be."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.forge import ReviewState
from atlantis_py.domain.records import DeployRequest, IPRState, JobStatus
from atlantis_py.store.audit import AuditLog
from atlantis_py.store.db import Database
from atlantis_py.store.jobs import JobStore
from atlantis_py.store.pulls import PullStore
from atlantis_py.store.reviews import ReviewStore
from tests.support.tables import all_jobs

S = IPRState
KEY = "github:acme/infra#7"
APPROVED = frozenset({S.APPROVED})
LEASE = timedelta(minutes=5)


def ipr(db: Database, state: IPRState) -> int:
    pulls = PullStore(db)
    record = pulls.upsert(PullRequest(
        repo=Repo(forge="github", full_name="acme/infra", clone_url="https://x.invalid/x.git"),
        number=7, author="alice", head_sha="c0ffee" + "0" * 34, head_ref="feature",
        base_ref="main", title="add vpc"))
    pulls.set_state(record.id, state)
    return record.id


def deploy(db: Database, pull_id: int, actor: str = "bob",
           deployable: frozenset[IPRState] = APPROVED) -> DeployRequest:
    return PullStore(db).request_deploy(pull_id, actor=actor, kind="apply", serial_key=KEY,
                                        payload=f'{{"actor": "{actor}"}}', deployable=deployable)


def requested(db: Database, pull_id: int) -> list[str]:
    return [e.detail for e in AuditLog(db).events(pull_id) if e.action == "deploy:requested"]


def test_second_request_gets_the_queued_job_and_stores_nothing(db: Database) -> None:
    pull_id = ipr(db, S.APPROVED)
    first = deploy(db, pull_id, "bob")
    assert first.created and first.job_id is not None and first.state is S.APPROVED
    again = deploy(db, pull_id, "carol")
    assert again == DeployRequest(job_id=first.job_id, created=False, state=S.APPROVED)
    [job] = all_jobs(db)
    assert (job.id, job.kind, job.serial_key, job.status) == (
        first.job_id, "apply", KEY, JobStatus.QUEUED)
    assert '"bob"' in job.payload
    assert requested(db, pull_id) == [f"job {first.job_id}"]
    [event] = [e for e in AuditLog(db).events(pull_id) if e.action == "deploy:requested"]
    assert (event.actor, event.pull_number) == ("bob", 7)


def test_a_state_that_allows_no_deploy_stores_nothing(db: Database) -> None:
    pull_id = ipr(db, S.PENDING)
    assert deploy(db, pull_id) == DeployRequest(job_id=None, created=False, state=S.PENDING)
    assert all_jobs(db) == [] and requested(db, pull_id) == []


def test_only_asking_for_the_existing_job_creates_none(db: Database) -> None:
    pull_id = ipr(db, S.APPROVED)
    assert deploy(db, pull_id, deployable=frozenset()).job_id is None
    assert all_jobs(db) == []


def test_the_running_job_is_returned_while_applying_and_a_finished_one_is_not(
        db: Database) -> None:
    pull_id = ipr(db, S.APPROVED)
    jobs = JobStore(db)
    first = deploy(db, pull_id)
    claimed = jobs.claim("w", LEASE)
    assert claimed is not None and claimed.id == first.job_id
    PullStore(db).set_state(pull_id, S.APPLYING)
    assert deploy(db, pull_id) == DeployRequest(job_id=first.job_id, created=False,
                                                state=S.APPLYING)
    jobs.finish(claimed.id, JobStatus.DONE)
    PullStore(db).set_state(pull_id, S.APPROVED)  # e.g. the apply was refused by the window
    second = deploy(db, pull_id)
    assert second.created and second.job_id != first.job_id
    assert len(requested(db, pull_id)) == 2


def test_an_apply_started_by_a_comment_is_the_job_returned(db: Database) -> None:
    """`atlantis apply` runs in the webhook's job: that job is the one applying."""
    pull_id = ipr(db, S.APPROVED)
    jobs = JobStore(db)
    jobs.enqueue("webhook", KEY, "github\nissue_comment\n{}")
    running = jobs.claim("w", LEASE)
    assert running is not None
    assert deploy(db, pull_id, deployable=frozenset()).job_id is None  # not applying yet
    PullStore(db).set_state(pull_id, S.APPLYING)
    assert deploy(db, pull_id) == DeployRequest(job_id=running.id, created=False,
                                                state=S.APPLYING)
    assert len(all_jobs(db)) == 1 and requested(db, pull_id) == []


def test_twelve_concurrent_requests_from_three_replicas_make_one_job(
        open_db: Callable[[], Database]) -> None:
    replicas = [open_db() for _ in range(3)]
    pull_id = ipr(replicas[0], S.APPROVED)
    start = threading.Barrier(12)

    def ask(i: int) -> DeployRequest:
        start.wait()
        return deploy(replicas[i % 3], pull_id, f"user{i}")

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(ask, range(12)))
    assert len({a.job_id for a in answers}) == 1
    assert sum(a.created for a in answers) == 1
    assert len(all_jobs(replicas[0])) == 1
    assert len(requested(replicas[0], pull_id)) == 1


def test_a_review_is_refused_while_applying_and_stored_otherwise(db: Database) -> None:
    pull_id = ipr(db, S.APPLYING)
    reviews = ReviewStore(db)
    applying = frozenset({S.APPLYING})
    assert reviews.add(pull_id, "carol", ReviewState.CHANGES_REQUESTED, "c0ffee", "no",
                       unless=applying) is S.APPLYING
    assert reviews.list(pull_id) == []
    PullStore(db).set_state(pull_id, S.DEPLOYED)
    assert reviews.add(pull_id, "carol", ReviewState.APPROVED, "c0ffee", "ok",
                       unless=applying) is None
    assert [(r.user, r.state) for r in reviews.list(pull_id)] == [
        ("carol", ReviewState.APPROVED)]
