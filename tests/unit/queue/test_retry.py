"""The backoff schedule, with the jitter pinned so nothing is left to chance or sleep."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from atlantis_py.queue.retry import RetryPolicy

POLICY = RetryPolicy(limit=timedelta(minutes=30), first=5.0, longest=300.0)
START = datetime(2026, 1, 1, 12, 0, 0)


def pinned(jitter: float) -> RetryPolicy:
    return RetryPolicy(limit=POLICY.limit, first=POLICY.first, longest=POLICY.longest,
                       jitter=lambda: jitter)


# (attempt, jitter, retry_after, seconds): waits double from `first` up to `longest`,
# drawn from the upper half of each; never sooner than the forge asked
SCHEDULE = [
    pytest.param(1, 0.0, None, 2.5, id="first-least"),
    pytest.param(1, 0.999, None, 4.9975, id="first-most"),
    pytest.param(2, 0.0, None, 5.0, id="second"),
    pytest.param(3, 0.0, None, 10.0, id="third"),
    pytest.param(4, 0.5, None, 30.0, id="fourth-middle"),
    pytest.param(7, 0.0, None, 150.0, id="capped-least"),
    pytest.param(12, 0.999, None, 299.85, id="capped-most"),
    pytest.param(5000, 0.0, None, 150.0, id="huge-attempt-no-overflow"),
    pytest.param(1, 0.0, 60.0, 60.0, id="retry-after-longer-wins"),
    pytest.param(6, 0.0, 1.0, 80.0, id="retry-after-shorter-ignored"),
    pytest.param(1, 0.0, 0.0, 2.5, id="retry-after-zero"),
]


@pytest.mark.parametrize("attempt, jitter, after, seconds", SCHEDULE)
def test_backoff_schedule(attempt: int, jitter: float, after: float | None,
                          seconds: float) -> None:
    assert pinned(jitter).delay(attempt, after) == pytest.approx(seconds)


# (attempt, retry_after, minutes since the first failure, when (seconds from now) or None)
BUDGET = [
    pytest.param(1, None, 0, 2.5, id="fresh"),
    pytest.param(9, None, 20, 150.0, id="within"),
    pytest.param(9, None, 27.5, 150.0, id="ends-exactly-at-the-limit"),
    pytest.param(9, None, 28, None, id="would-end-past-the-limit"),
    pytest.param(1, 3600.0, 0, None, id="reset-beyond-the-limit"),
    pytest.param(2, 1500.0, 0, 1500.0, id="long-retry-after-within"),
]


@pytest.mark.parametrize("attempt, after, minutes, seconds", BUDGET)
def test_retries_stop_at_the_limit(attempt: int, after: float | None, minutes: float,
                                   seconds: float | None) -> None:
    now = START + timedelta(minutes=minutes)
    when = pinned(0.0).next_try(attempt, after, START, now)
    assert when == (None if seconds is None else now + timedelta(seconds=seconds))


def test_no_limit_means_no_retry() -> None:
    never = RetryPolicy(limit=timedelta(0), jitter=lambda: 0.0)
    assert never.next_try(1, None, START, START) is None
