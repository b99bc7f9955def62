"""Cross-replica wake-ups through PostgreSQL's LISTEN/NOTIFY.

Within one server the web process wakes its worker children through a pipe;
replicas on other machines share only the database, so a new job is announced
with NOTIFY and every replica's workers LISTEN, claiming it at once instead of
on their next idle check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text

from atlantis_py.store.db import Database

log = logging.getLogger(__name__)

CHANNEL = "atlantis_jobs"
RECONNECT_MIN = 0.2
RECONNECT_MAX = 5.0


NOTIFY = text(f"NOTIFY {CHANNEL}")  # sent inside the transaction that stores the job


class PgWakeups:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def listen(self, wake: Callable[[], None]) -> threading.Thread:
        """A thread that calls `wake` for every NOTIFY until `stop()`. When the
        connection drops (a database restart, a network cut) it reconnects with
        backoff and LISTENs again, waking the workers once on reconnect so work
        announced while it was away is not left for the idle check."""
        ready = threading.Event()

        def run() -> None:
            delay = RECONNECT_MIN
            first = True
            while not self._stop.is_set():
                try:
                    self._listen_once(wake, ready, announce=not first)
                    delay = RECONNECT_MIN
                except Exception as err:  # noqa: BLE001 - any loss of the session means reconnect
                    if self._stop.is_set():
                        break
                    log.warning("LISTEN %s lost (%s); reconnecting in %.1f s",
                                CHANNEL, err, delay)
                    ready.set()
                    self._stop.wait(delay)
                    delay = min(delay * 2, RECONNECT_MAX)
                first = False
            ready.set()

        thread = threading.Thread(target=run, name="atlantis-listen", daemon=True)
        self._thread = thread
        thread.start()
        ready.wait(10)
        return thread

    def _listen_once(self, wake: Callable[[], None], ready: threading.Event, *,
                     announce: bool) -> None:
        raw = self.db.engine.raw_connection()
        conn = raw.driver_connection
        raw.detach()  # a dedicated session, never handed back to the pool
        try:
            conn.autocommit = True  # type: ignore[union-attr]
            conn.execute(f"LISTEN {CHANNEL}")  # type: ignore[union-attr]
            if announce:
                log.info("LISTEN %s restored", CHANNEL)
                wake()
            ready.set()
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=1.0):  # type: ignore[union-attr]
                    wake()
        finally:
            raw.close()

    def stop(self, timeout: float = 10) -> None:
        """Returns once the listener has closed its session (it looks at the stop
        flag each second), so nothing outlives the service that started it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
