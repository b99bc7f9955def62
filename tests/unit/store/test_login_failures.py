"""Failed console sign-ins counted in the database: one count for every web
process and replica, expiring with the window, bounded per address and in all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from atlantis_py.store.db import Database
from atlantis_py.store.login_failures import LoginFailures

START = datetime(2026, 11, 26, 12, 0, 0)


def test_replicas_share_one_count_and_it_expires(open_db: Callable[[], Database]) -> None:
    now = [START]
    one, two = (LoginFailures(open_db(), attempts=3, window=timedelta(seconds=60),
                              clock=lambda: now[0]) for _ in range(2))
    for limiter in (one, two, one):  # three processes' worth of tries, one budget
        assert limiter.retry_after("10.0.0.1") == 0
        limiter.failed("10.0.0.1")
        now[0] += timedelta(seconds=1)
    assert two.retry_after("10.0.0.1") == 58  # the first try leaves the window at 60 s
    assert one.retry_after("10.0.0.1") == 58
    assert one.retry_after("10.0.0.2") == 0
    now[0] = START + timedelta(seconds=60)
    assert two.retry_after("10.0.0.1") == 0  # the first failure expired: one try again
    two.failed("10.0.0.1")
    assert one.retry_after("10.0.0.1") > 0
    now[0] = START + timedelta(seconds=200)
    assert one.retry_after("10.0.0.1") == 0
    one.failed("10.0.0.3")
    assert one.count() == 1  # expired rows are gone


def test_rows_are_bounded_per_address_and_in_all(db: Database) -> None:
    now = [START]
    limiter = LoginFailures(db, attempts=3, window=timedelta(minutes=5), max_rows=10,
                            clock=lambda: now[0])
    for _ in range(8):
        limiter.failed("10.0.0.1")
        now[0] += timedelta(seconds=1)
    assert limiter.count() == 3
    assert limiter.retry_after("10.0.0.1") > 0
    for n in range(7):
        limiter.failed(f"10.0.1.{n}")
        now[0] += timedelta(seconds=1)
    assert limiter.count() == 10
    limiter.failed("f" * 200)  # one too many: trimmed to 9, the oldest first
    assert limiter.count() == 9
    assert limiter.retry_after("10.0.0.1") == 0  # 10.0.0.1 kept only its newest failure
    assert limiter.retry_after("f" * 200) == 0
