"""The worker pool survives a database outage instead of losing its threads, puts
a job that failed for now back to run later, and has every other failure told."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

import atlantis_py.queue.worker as worker_module
from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.errors import ForgeError, TransientForgeError
from atlantis_py.logs import ContextFilter
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.retry import RetryPolicy
from atlantis_py.queue.worker import WorkerPool

NOW = datetime(2026, 3, 1, 9, 0, 0)


class ScriptedTable:
    """A jobs table holding the given jobs; the first `failures` claims fail as if
    the database were down. Records how each job ended and signals it."""

    def __init__(self, *jobs: Job, failures: int = 0) -> None:
        self.failures = failures
        self.queued = list(jobs)
        self.finished: list[tuple[int, JobStatus, str]] = []
        self.retries: list[tuple[int, datetime, datetime, str]] = []
        self.ended = threading.Event()

    def claim(self, worker: str, lease: timedelta) -> Job | None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        return self.queued.pop(0) if self.queued else None

    def finish(self, job_id: int, status: JobStatus, error: str = "") -> None:
        self.finished.append((job_id, status, error))
        self.ended.set()

    def retry_later(self, job_id: int, not_before: datetime, since: datetime,
                    error: str = "") -> None:
        self.retries.append((job_id, not_before, since, error))
        self.ended.set()

    def next_due_in(self) -> float | None:
        return None

    def expired(self) -> list[Job]:
        return []

    def running(self) -> list[tuple[Job, str]]:
        return []

    def renew(self, job_ids: list[int], lease: timedelta) -> None: ...
    def requeue(self, job_id: int) -> None: ...

    def pending_count(self) -> int:
        return len(self.queued)


class Handler:
    """Runs `outcome` for each job; records what it was told about failures."""

    def __init__(self, outcome: Callable[[Job], None] = lambda job: None,
                 report: Callable[[], None] = lambda: None) -> None:
        self.outcome = outcome
        self.report = report
        self.ran = threading.Event()
        self.told: list[tuple[int, str, bool]] = []

    def run(self, job: Job) -> None:
        self.ran.set()
        self.outcome(job)

    def interrupted(self, job: Job) -> bool:
        return False

    def failed(self, job: Job, error: Exception, gave_up: bool) -> None:
        self.told.append((job.id, str(error), gave_up))
        self.report()


def job(attempts: int = 1, retry_since: datetime | None = None) -> Job:
    return Job(1, "webhook", "github:acme/infra#4", "payload", attempts, JobStatus.RUNNING,
               delivery_id="d-1", retry_since=retry_since)


def raising(error: Exception) -> Callable[[Job], None]:
    def run(_job: Job) -> None:
        raise error
    return run


POLICY = RetryPolicy(limit=timedelta(minutes=30), first=10.0, longest=300.0,
                     jitter=lambda: 0.0)


@pytest.fixture
def run_one() -> Iterator[Callable[[ScriptedTable, Handler], None]]:
    pools: list[WorkerPool] = []

    def run(table: ScriptedTable, handler: Handler) -> None:
        pool = WorkerPool(JobQueue(table), handler, threads=1,  # type: ignore[arg-type]
                          idle_check=0.05, retry=POLICY, clock=lambda: NOW)
        pools.append(pool)
        pool.start()
        assert table.ended.wait(60), "the job never ended"

    yield run
    for pool in pools:
        pool.stop()


def test_a_failing_claim_is_retried_not_fatal(monkeypatch: pytest.MonkeyPatch,
                                              run_one: Callable[[ScriptedTable, Handler],
                                                                None]) -> None:
    monkeypatch.setattr(worker_module, "CLAIM_RETRY", 0.01)
    table = ScriptedTable(job(), failures=3)
    handler = Handler()
    run_one(table, handler)
    assert handler.ran.is_set(), "the worker thread died on the failed claims"
    assert table.finished == [(1, JobStatus.DONE, "")]


# (attempt, retry_after the forge gave, seconds until the retry)
RETRIES = [
    pytest.param(1, None, 5.0, id="first-backoff"),
    pytest.param(3, None, 20.0, id="third-backoff"),
    pytest.param(1, 60.0, 60.0, id="retry-after-honoured"),
]


@pytest.mark.parametrize("attempt, after, seconds", RETRIES)
def test_a_transient_failure_is_put_back_to_run_later(
        attempt: int, after: float | None, seconds: float,
        run_one: Callable[[ScriptedTable, Handler], None]) -> None:
    since = NOW - timedelta(minutes=1)
    table = ScriptedTable(job(attempt, retry_since=since if attempt > 1 else None))
    handler = Handler(raising(TransientForgeError("GitHub: HTTP 502", retry_after=after)))
    run_one(table, handler)
    assert table.finished == [] and handler.told == []
    [(job_id, not_before, first, error)] = table.retries
    assert (job_id, not_before) == (1, NOW + timedelta(seconds=seconds))
    assert first == (since if attempt > 1 else NOW)
    assert error == "TransientForgeError: GitHub: HTTP 502"


def test_retries_give_up_at_the_limit_and_the_handler_is_told(
        run_one: Callable[[ScriptedTable, Handler], None]) -> None:
    table = ScriptedTable(job(8, retry_since=NOW - timedelta(minutes=29)))
    handler = Handler(raising(TransientForgeError("GitHub: HTTP 502")))
    run_one(table, handler)
    assert table.retries == []
    assert table.finished == [(1, JobStatus.FAILED, "TransientForgeError: GitHub: HTTP 502")]
    assert handler.told == [(1, "GitHub: HTTP 502", True)]


@pytest.mark.parametrize("error", [ForgeError("GitHub: HTTP 404: Not Found"),
                                   ValueError("a bug")], ids=["permanent", "unexpected"])
def test_any_other_failure_fails_at_once_and_the_handler_is_told(
        error: Exception, run_one: Callable[[ScriptedTable, Handler], None]) -> None:
    table = ScriptedTable(job())
    handler = Handler(raising(error))
    run_one(table, handler)
    assert table.retries == []
    assert [(i, s) for i, s, _ in table.finished] == [(1, JobStatus.FAILED)]
    assert handler.told == [(1, str(error), False)]


def test_a_failure_to_tell_is_logged_not_raised(
        caplog: pytest.LogCaptureFixture,
        run_one: Callable[[ScriptedTable, Handler], None]) -> None:
    def report() -> None:
        raise ForgeError("GitHub: commenting failed: HTTP 403")

    table = ScriptedTable(job(), job_two())
    handler = Handler(raising(ValueError("a bug")), report=report)
    with caplog.at_level(logging.ERROR, logger="atlantis_py.queue.worker"):
        run_one(table, handler)
        assert wait_for(lambda: len(table.finished) == 2), "the pool stopped after a bad report"
    assert [s for _, s, _ in table.finished] == [JobStatus.FAILED, JobStatus.FAILED]
    assert "telling the pull request about the failure failed" in caplog.text


def job_two() -> Job:
    return Job(2, "webhook", "github:acme/infra#5", "payload", 1, JobStatus.RUNNING)


def wait_for(check: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_start_failed_and_finished_lines_carry_the_job_and_delivery(
        run_one: Callable[[ScriptedTable, Handler], None]) -> None:
    stream = io.StringIO()
    handler_ = logging.StreamHandler(stream)
    handler_.addFilter(ContextFilter())
    handler_.setFormatter(logging.Formatter("[%(ctx)s] %(message)s"))
    logger = logging.getLogger("atlantis_py.queue.worker")
    logger.addHandler(handler_)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        run_one(ScriptedTable(job()), Handler(raising(ValueError("a bug"))))
        assert wait_for(lambda: "finished" in stream.getvalue())
    finally:
        logger.removeHandler(handler_)
        logger.setLevel(old)
    lines = [line for line in stream.getvalue().splitlines() if line.startswith("[")]
    assert any(line.startswith("[job=1 delivery=d-1] job 1 (webhook) started") for line in lines)
    assert "[job=1 delivery=d-1] job 1 (webhook) failed" in lines
    assert "[job=1 delivery=d-1] job 1 finished: failed" in lines
