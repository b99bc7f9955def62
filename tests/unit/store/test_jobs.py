"""The durable job queue on SQLite and PostgreSQL: dedupe, claim order, serial keys,
leases, and claims racing from threads and from separate Database instances."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from atlantis_py.domain.records import JobStatus
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.jobs import JobStore
from tests.support.tables import all_jobs, count_deliveries

LEASE = timedelta(minutes=5)


@pytest.fixture
def jobs(db: Database) -> JobStore:
    return JobStore(db)


def test_accept_delivery_stores_delivery_and_job(jobs: JobStore) -> None:
    assert jobs.accept_delivery("github", "d-1", "pull_request", "event", "acme/infra#7",
                                '{"n": 7}') is True
    [job] = all_jobs(jobs.db)
    assert (job.kind, job.serial_key, job.payload, job.delivery_id) == (
        "event", "acme/infra#7", '{"n": 7}', "d-1")
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)
    assert count_deliveries(jobs.db) == 1


@pytest.mark.parametrize("kind", [pytest.param("event", id="with-job"),
                                  pytest.param(None, id="ignored")])
def test_redelivery_is_deduplicated(jobs: JobStore, kind: str | None) -> None:
    assert jobs.accept_delivery("github", "d-1", "pull_request", kind, "k", "{}") is True
    assert jobs.accept_delivery("github", "d-1", "pull_request", kind, "k", "{}") is False
    assert count_deliveries(jobs.db) == 1
    assert len(all_jobs(jobs.db)) == (0 if kind is None else 1)


def test_ignored_delivery_stores_no_job(jobs: JobStore) -> None:
    assert jobs.accept_delivery("github", "d-1", "ping", None, "", "{}") is True
    assert all_jobs(jobs.db) == []
    assert jobs.pending_count() == 0
    assert jobs.claim("w", LEASE) is None


@pytest.mark.parametrize("first, second, accepted", [
    pytest.param(("github", "d-1"), ("github", "d-2"), True, id="other-id"),
    pytest.param(("github", "d-1"), ("gitlab", "d-1"), True, id="same-id-other-forge"),
    pytest.param(("github", "d-1"), ("github", "d-1"), False, id="same-forge-and-id"),
])
def test_delivery_identity_is_forge_and_id(jobs: JobStore, first: tuple[str, str],
                                           second: tuple[str, str], accepted: bool) -> None:
    assert jobs.accept_delivery(first[0], first[1], "e", "event", "a", "{}")
    assert jobs.accept_delivery(second[0], second[1], "e", "event", "b", "{}") is accepted
    assert len(all_jobs(jobs.db)) == (2 if accepted else 1)


def test_claim_oldest_first(jobs: JobStore) -> None:
    ids = [jobs.enqueue("event", f"key-{i}", str(i)) for i in range(3)]
    claimed = [jobs.claim("w", LEASE) for _ in range(3)]
    assert [j.id for j in claimed if j is not None] == ids
    assert all(j is not None and j.status is JobStatus.RUNNING and j.attempts == 1
               for j in claimed)
    assert jobs.claim("w", LEASE) is None
    assert jobs.pending_count() == 3


def test_serial_key_waits_for_the_running_job(jobs: JobStore) -> None:
    a = jobs.enqueue("event", "acme/infra#1", "a")
    b = jobs.enqueue("event", "acme/infra#1", "b")
    c = jobs.enqueue("event", "acme/infra#2", "c")
    first = jobs.claim("w1", LEASE)
    second = jobs.claim("w2", LEASE)
    assert (first and first.id, second and second.id) == (a, c)
    assert jobs.claim("w3", LEASE) is None, "b shares a's serial key while a runs"
    jobs.finish(a, JobStatus.DONE)
    third = jobs.claim("w3", LEASE)
    assert third is not None and third.id == b


@pytest.mark.parametrize("status", [JobStatus.DONE, JobStatus.FAILED, JobStatus.INTERRUPTED],
                         ids=lambda s: s.value)
def test_any_finish_frees_the_serial_key(jobs: JobStore, status: JobStatus) -> None:
    a = jobs.enqueue("event", "k", "a")
    b = jobs.enqueue("event", "k", "b")
    assert (jobs.claim("w", LEASE) or pytest.fail("nothing claimed")).id == a
    jobs.finish(a, status, error="boom" if status is not JobStatus.DONE else "")
    claimed = jobs.claim("w", LEASE)
    assert claimed is not None and claimed.id == b
    statuses = {j.id: j.status for j in all_jobs(jobs.db)}
    assert statuses == {a: status, b: JobStatus.RUNNING}


@pytest.mark.parametrize("lease, expired", [
    pytest.param(timedelta(seconds=-1), True, id="lease-passed"),
    pytest.param(timedelta(0), True, id="zero-lease"),
    pytest.param(timedelta(hours=1), False, id="lease-running"),
])
def test_expired_after_the_lease(jobs: JobStore, lease: timedelta, expired: bool) -> None:
    job_id = jobs.enqueue("event", "k", "{}")
    assert jobs.claim("w", lease) is not None
    time.sleep(0.01)
    assert [j.id for j in jobs.expired()] == ([job_id] if expired else [])


def test_finished_jobs_never_expire(jobs: JobStore) -> None:
    job_id = jobs.enqueue("event", "k", "{}")
    assert jobs.claim("w", timedelta(seconds=-1)) is not None
    jobs.finish(job_id, JobStatus.DONE)
    assert jobs.expired() == []


def test_renew_extends_the_lease(jobs: JobStore) -> None:
    job_id = jobs.enqueue("event", "k", "{}")
    assert jobs.claim("w", timedelta(seconds=-1)) is not None
    assert [j.id for j in jobs.expired()] == [job_id]
    jobs.renew([job_id], timedelta(hours=1))
    assert jobs.expired() == []


def test_requeue_makes_an_expired_job_claimable_again(jobs: JobStore) -> None:
    job_id = jobs.enqueue("event", "k", "{}")
    other = jobs.enqueue("event", "k", "{}")
    assert jobs.claim("dead-worker", timedelta(seconds=-1)) is not None
    [stale] = jobs.expired()
    jobs.requeue(stale.id)
    assert jobs.expired() == []
    assert {j.id: j.status for j in all_jobs(jobs.db)}[job_id] is JobStatus.QUEUED
    again = jobs.claim("new-worker", LEASE)
    assert again is not None
    assert (again.id, again.attempts, again.status) == (job_id, 2, JobStatus.RUNNING)
    assert jobs.claim("new-worker", LEASE) is None, f"job {other} shares the serial key"


JOBS, KEYS = 48, 6


def _drain(stores: list[JobStore], threads_per_store: int) -> tuple[Counter[int], list[str]]:
    """Run workers until every job is done. Returns how often each job was claimed and
    any serial-key overlaps seen (two jobs of one key running at once)."""
    claims: Counter[int] = Counter()
    overlaps: list[str] = []
    running: set[str] = set()
    guard = threading.Lock()
    deadline = time.monotonic() + 60

    def work(store: JobStore, name: str) -> None:
        while time.monotonic() < deadline:
            job = store.claim(name, LEASE)
            if job is None:
                if store.pending_count() == 0:
                    return
                time.sleep(0.002)
                continue
            with guard:
                claims[job.id] += 1
                if job.serial_key in running:
                    overlaps.append(f"{job.serial_key} (job {job.id})")
                running.add(job.serial_key)
            time.sleep(0.003)
            with guard:
                running.discard(job.serial_key)
            store.finish(job.id, JobStatus.DONE)

    workers = [(store, f"w{i}-{t}") for i, store in enumerate(stores)
               for t in range(threads_per_store)]
    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        futures = [pool.submit(work, store, name) for store, name in workers]
        for future in futures:
            future.result(timeout=90)  # re-raises a worker's error here
    return claims, overlaps


@pytest.mark.parametrize("replicas, threads_each", [
    pytest.param(1, 4, id="4-threads-one-database"),
    pytest.param(2, 2, id="2-databases-2-threads-each"),
])
def test_concurrent_claims(open_db: Callable[[], Database], replicas: int,
                           threads_each: int) -> None:
    stores = [JobStore(open_db()) for _ in range(replicas)]
    ids = [stores[0].enqueue("event", f"key-{i % KEYS}", str(i)) for i in range(JOBS)]
    claims, overlaps = _drain(stores, threads_each)
    assert overlaps == []
    assert sorted(claims) == ids, "every job claimed"
    assert [job_id for job_id, n in claims.items() if n != 1] == [], "no job claimed twice"
    done = all_jobs(stores[-1].db)
    assert all(j.status is JobStatus.DONE and j.attempts == 1 for j in done)


@pytest.mark.parametrize("replicas", [1, 2], ids=["one-database", "two-databases"])
def test_racing_claimers_split_one_batch(open_db: Callable[[], Database],
                                         replicas: int) -> None:
    """All claimers start together on distinct keys: each job goes to exactly one."""
    stores = [JobStore(open_db()) for _ in range(replicas)]
    ids = [stores[0].enqueue("event", f"key-{i}", str(i)) for i in range(8)]
    barrier = threading.Barrier(8)

    def claim(store: JobStore, name: str) -> int | None:
        barrier.wait()
        job = store.claim(name, LEASE)
        return None if job is None else job.id

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(claim, stores[i % replicas], f"w{i}") for i in range(8)]
        got = [job_id for f in futures if (job_id := f.result(timeout=60)) is not None]
    assert len(got) == len(set(got)), f"a job was handed out twice: {sorted(got)}"
    # a claimer that lost every race may find nothing left; a second pass gets the rest
    while (job := stores[0].claim("late", LEASE)) is not None:
        got.append(job.id)
    assert sorted(got) == ids


def test_prune_forgets_old_finished_jobs_and_delivery_ids_only(db: Database) -> None:
    from sqlalchemy import text

    jobs = JobStore(db)
    for n in range(4):
        assert jobs.accept_delivery("github", f"d{n}", "pull_request", "webhook", f"k{n}", "p")
    done = jobs.claim("w", timedelta(minutes=1))
    assert done is not None
    jobs.finish(done.id, JobStatus.DONE)
    running = jobs.claim("w", timedelta(minutes=1))
    assert running is not None
    with db.engine.begin() as conn:  # everything happened 40 days ago
        conn.execute(text("UPDATE jobs SET created_at = created_at - INTERVAL '40 days', "
                          "finished_at = finished_at - INTERVAL '40 days'")
                     if not db.is_sqlite else
                     text("UPDATE jobs SET finished_at = datetime(finished_at, '-40 days')"))
        conn.execute(text("UPDATE deliveries SET received_at = received_at - INTERVAL '40 days'")
                     if not db.is_sqlite else
                     text("UPDATE deliveries SET received_at = datetime(received_at, "
                          "'-40 days')"))
    assert jobs.accept_delivery("github", "fresh", "pull_request", "webhook", "k9", "p")

    assert jobs.prune(timedelta(days=30)) == 1 + 4  # the finished job; the 4 old ids
    left = {j.id: j.status for j in all_jobs(jobs.db)}
    assert done.id not in left
    assert left[running.id] is JobStatus.RUNNING and len(left) == 4  # running + 2 queued + fresh
    assert not jobs.accept_delivery("github", "fresh", "pull_request", "webhook", "k9", "p")
    assert jobs.prune(timedelta(days=30)) == 0


def _later(seconds: float) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


def test_a_job_waiting_to_retry_is_not_claimed_before_its_time(jobs: JobStore) -> None:
    job_id = jobs.enqueue("event", "k", "{}")
    first = jobs.claim("w", LEASE)
    assert first is not None and first.retry_since is None
    since = utcnow()
    jobs.retry_later(job_id, _later(3600), since, "TransientForgeError: HTTP 502")
    [waiting] = all_jobs(jobs.db)
    assert waiting.status is JobStatus.QUEUED
    assert jobs.claim("w", LEASE) is None
    assert jobs.pending_count() == 1, "a waiting job still counts as pending"
    due = jobs.next_due_in()
    assert due is not None and 3500 < due <= 3600


def test_a_due_retry_is_claimed_with_its_attempts_and_first_failure(jobs: JobStore) -> None:
    job_id = jobs.enqueue("event", "k", "{}")
    assert jobs.claim("w", LEASE) is not None
    since = utcnow() - timedelta(minutes=5)
    jobs.retry_later(job_id, _later(-1), since)
    assert jobs.next_due_in() is None, "nothing waits: it is due"
    again = jobs.claim("w", LEASE)
    assert again is not None
    assert (again.id, again.attempts, again.retry_since) == (job_id, 2, since)
    jobs.retry_later(job_id, _later(-1), utcnow(), "again")
    third = jobs.claim("w", LEASE)
    assert third is not None and third.retry_since == since, "the first failure is kept"


def test_a_waiting_retry_holds_back_its_pull_requests_later_jobs_only(jobs: JobStore) -> None:
    a = jobs.enqueue("event", "acme/infra#1", "a")
    b = jobs.enqueue("event", "acme/infra#1", "b")
    c = jobs.enqueue("event", "acme/infra#2", "c")
    assert (jobs.claim("w", LEASE) or pytest.fail("nothing claimed")).id == a
    jobs.retry_later(a, _later(3600), utcnow())
    other = jobs.claim("w", LEASE)
    assert other is not None and other.id == c, "another pull request's job goes ahead"
    assert jobs.claim("w", LEASE) is None, f"job {b} waits behind job {a}'s retry"


def test_pruning_forgets_the_journal_of_forgotten_jobs(db: Database) -> None:
    from atlantis_py.domain.writes import ForgeWrite, WriteKind
    from atlantis_py.store.journal import JournalStore

    jobs, journal = JobStore(db), JournalStore(db)
    old, kept = jobs.enqueue("event", "a", "{}"), jobs.enqueue("event", "b", "{}")
    for job_id in (old, kept):
        journal.record(job_id, ForgeWrite(WriteKind.COMMENT, "github", "acme/infra", number=1,
                                          body=f"hello {job_id}"), posted=True)
    assert jobs.claim("w", LEASE) is not None
    jobs.finish(old, JobStatus.DONE)
    assert jobs.prune(timedelta(seconds=-1)) == 1
    assert journal.posted(old) == set()
    assert len(journal.posted(kept)) == 1


def _freeze_claims(store: JobStore) -> tuple[threading.Event, threading.Event]:
    """Make `store`'s next claim stop inside its transaction (its job marked running,
    its key's lock held, nothing committed): `frozen` is set once it is there, and it
    carries on when `thaw` is set, as a replica would after SIGSTOP and SIGCONT."""
    frozen, thaw = threading.Event(), threading.Event()

    def hold(_key: str) -> None:
        frozen.set()
        thaw.wait(60)

    store.inside_claim = hold
    return frozen, thaw


@pytest.fixture
def pg_stores(make_postgres_db: Callable[[], str]) -> Iterator[Callable[..., JobStore]]:
    url = make_postgres_db()
    opened: list[Database] = []

    def open_store(hold_limit: timedelta = timedelta(seconds=30)) -> JobStore:
        db = Database(url)
        if not opened:
            db.migrate()
        opened.append(db)
        return JobStore(db, hold_limit=hold_limit)

    yield open_store
    for db in opened:
        db.dispose()


def test_a_claim_frozen_mid_transaction_holds_back_only_its_pull_request(
        pg_stores: Callable[..., JobStore]) -> None:
    """PostgreSQL: claims lock one serial key, not the queue. While replica A sits
    inside its claim of #1's first job, replica B claims #2's job, and still not #1's
    second one; once A goes on, A has #1's first job, and #1's second waits for it."""
    a, b = pg_stores(), pg_stores()
    one_a = a.enqueue("event", "acme/infra#1", "1a")
    one_b = a.enqueue("event", "acme/infra#1", "1b")
    two = a.enqueue("event", "acme/infra#2", "2")
    frozen, thaw = _freeze_claims(a)
    with ThreadPoolExecutor(max_workers=1) as pool:
        stuck = pool.submit(a.claim, "replica-a", LEASE)
        assert frozen.wait(30)
        other = b.claim("replica-b", LEASE)
        assert other is not None and other.id == two
        assert b.claim("replica-b", LEASE) is None, "#1's jobs wait for A's claim"
        due = b.next_due_in()
        assert due is not None and due <= 1.0, "B looks again soon, should A's claim fail"
        assert b.next_due_in() is None, "once"
        thaw.set()
        claimed = stuck.result(timeout=30)
    assert claimed is not None and claimed.id == one_a
    assert b.claim("replica-b", LEASE) is None, f"job {one_b} waits behind job {one_a}"
    statuses = {j.id: j.status for j in all_jobs(b.db)}
    assert statuses == {one_a: JobStatus.RUNNING, one_b: JobStatus.QUEUED,
                        two: JobStatus.RUNNING}


def test_a_claim_frozen_past_its_hold_limit_is_rolled_back_and_taken_over(
        pg_stores: Callable[..., JobStore]) -> None:
    """PostgreSQL ends a claim transaction left idle past the hold limit: its key's
    lock and its half-made claim go, and another replica claims the job once."""
    a = pg_stores(hold_limit=timedelta(milliseconds=300))
    b = pg_stores()
    job_id = a.enqueue("event", "acme/infra#1", "1")
    frozen, thaw = _freeze_claims(a)
    with ThreadPoolExecutor(max_workers=1) as pool:
        stuck = pool.submit(a.claim, "replica-a", LEASE)
        assert frozen.wait(30)
        taken = None
        deadline = time.monotonic() + 60
        while taken is None and time.monotonic() < deadline:
            taken = b.claim("replica-b", LEASE)
            if taken is None:
                time.sleep(0.05)
        thaw.set()
        with pytest.raises(DBAPIError):
            stuck.result(timeout=30)
    assert taken is not None and (taken.id, taken.attempts) == (job_id, 1)
    [job] = all_jobs(b.db)
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
