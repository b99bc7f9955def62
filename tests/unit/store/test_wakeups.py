"""PostgreSQL LISTEN/NOTIFY wake-ups: a NOTIFY wakes the listener, and stop()
returns once the listener has let go of its session (a server stopping, or a
test ending, leaves no thread behind that logs a lost connection later)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from atlantis_py.store.db import Database
from atlantis_py.store.wakeups import NOTIFY, PgWakeups


@pytest.fixture
def pg(make_postgres_db: Callable[[], str]) -> Iterator[Database]:
    db = Database(make_postgres_db())
    db.migrate()
    yield db
    db.dispose()


def test_a_notify_wakes_and_stop_ends_the_listener(pg: Database) -> None:
    woken = threading.Event()
    wakeups = PgWakeups(pg)
    thread = wakeups.listen(woken.set)
    try:
        with pg.engine.begin() as conn:
            conn.execute(NOTIFY)
        assert woken.wait(60), "the NOTIFY never woke the listener"
    finally:
        wakeups.stop()
    assert not thread.is_alive(), "stop() returned with the listener still running"
