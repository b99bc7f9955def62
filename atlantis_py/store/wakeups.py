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


NOTIFY = text(f"NOTIFY {CHANNEL}")  # sent inside the transaction that stores the job


class PgWakeups:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._stop = threading.Event()

    def listen(self, wake: Callable[[], None]) -> threading.Thread:
        """A thread that calls `wake` for every NOTIFY until `stop()`."""
        ready = threading.Event()

        def run() -> None:
            raw = self.db.engine.raw_connection()
            conn = raw.driver_connection
            raw.detach()  # a dedicated session, never handed back to the pool
            try:
                conn.autocommit = True  # type: ignore[union-attr]
                conn.execute(f"LISTEN {CHANNEL}")  # type: ignore[union-attr]
                ready.set()
                while not self._stop.is_set():
                    for _ in conn.notifies(timeout=1.0):  # type: ignore[union-attr]
                        wake()
            except Exception:
                if not self._stop.is_set():
                    log.exception("LISTEN %s stopped; workers fall back to idle checks",
                                  CHANNEL)
            finally:
                ready.set()
                raw.close()

        thread = threading.Thread(target=run, name="atlantis-listen", daemon=True)
        thread.start()
        ready.wait(10)
        return thread

    def stop(self) -> None:
        self._stop.set()
