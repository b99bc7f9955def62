"""Deliveries the database could not take, kept on local disk until it can.

GitHub does not redeliver a webhook that was answered 5xx, so a delivery that
arrives while the database is down (a restart, a failover) would be lost. The web
process instead appends it, verified, parsed and routed, to a spool file under
the data dir (one JSON line per delivery, fsync'd before the 202), and a
background thread replays the spool into the database when it answers again.
A replay that stored a delivery but died before dropping its line replays it
again; the delivery id makes that a duplicate, not a second job. While anything
waits in the spool, new deliveries join it behind the older ones, so a pull
request's events still reach the queue in the order they arrived.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from atlantis_py.errors import DatabaseUnavailable
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import EventJob

log = logging.getLogger(__name__)

REPLAY_EVERY = 1.0  # seconds between tries while the database stays away


@dataclass(frozen=True)
class SpooledDelivery:
    forge: str
    delivery_id: str
    event_type: str
    serial_key: str
    job: EventJob

    def encode(self) -> bytes:
        return json.dumps({"forge": self.forge, "delivery_id": self.delivery_id,
                           "event_type": self.event_type, "serial_key": self.serial_key,
                           "event": self.job.encode()}, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def decode(cls, line: bytes) -> SpooledDelivery:
        data = json.loads(line)
        fields = [data.get(k) if isinstance(data, dict) else None
                  for k in ("forge", "delivery_id", "event_type", "serial_key", "event")]
        if not all(isinstance(f, str) for f in fields):
            raise ValueError("not a spooled delivery: a field is missing or not a string")
        forge, delivery_id, event_type, serial_key, event = (str(f) for f in fields)
        return cls(forge, delivery_id, event_type, serial_key, EventJob.decode(event))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """An append-only file of deliveries; only this process writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._count = 0
        try:
            self._count = len(self._repair())
        except OSError as err:
            log.error("webhook spool %s is unusable: %s", path, err)

    def _repair(self) -> list[bytes]:
        """The spool's lines, after dropping a last line a crash cut short (it was
        never acknowledged: the 202 comes after the fsync)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            log.warning("webhook spool %s: dropping a record cut short by a crash", self.path)
            data = data[:data.rfind(b"\n") + 1]
            self._rewrite(data)
        return data.splitlines()

    def _rewrite(self, data: bytes) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def append(self, delivery: SpooledDelivery) -> None:
        """On disk (fsync'd) when this returns; OSError when it could not be."""
        line = delivery.encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            with self.path.open("ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            if created:
                _fsync_dir(self.path.parent)
            self._count += 1

    def count(self) -> int:
        with self._lock:
            return self._count

    def lines(self) -> list[bytes]:
        with self._lock:
            return self._repair()

    def drop_first(self, n: int) -> None:
        """Forget the first `n` lines (replayed); lines appended since stay."""
        with self._lock:
            rest = self._repair()[n:]
            self._rewrite(b"".join(line + b"\n" for line in rest))
            self._count = len(rest)

    def problem(self) -> str | None:
        """Why a delivery could not be spooled now, or None when it could."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab"):
                pass
        except OSError as err:
            return f"{type(err).__name__}: {err.strerror or err}"
        return None


class SpoolReplayer:
    """The web process's thread that moves spooled deliveries into the queue."""

    def __init__(self, spool: Spool, queue: JobQueue, every: float = REPLAY_EVERY) -> None:
        self.spool = spool
        self.queue = queue
        self.every = every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="atlantis-spool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def nudge(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every)
            self._wake.clear()
            if self._stop.is_set() or self.spool.count() == 0:
                continue
            try:
                self.replay()
            except OSError as err:
                log.error("webhook spool %s could not be read or rewritten: %s",
                          self.spool.path, err)

    def replay(self) -> int:
        """Store spooled deliveries in order until the database refuses one; returns
        how many left the spool (stored, duplicates, or unreadable)."""
        lines = self.spool.lines()
        done = 0
        for line in lines:
            try:
                delivery = SpooledDelivery.decode(line)
            except ValueError as err:  # PayloadError, bad JSON or UTF-8
                log.error("webhook spool: dropping an unreadable record (%s): %.200r", err, line)
                done += 1
                continue
            try:
                fresh = self.queue.accept_delivery(delivery.forge, delivery.delivery_id,
                                                   delivery.event_type, delivery.job,
                                                   delivery.serial_key)
            except DatabaseUnavailable as err:
                log.info("webhook spool: %d waiting; the database is still away (%s)",
                         len(lines) - done, err)
                break
            log.info("delivery %s (%s) replayed from the spool%s", delivery.delivery_id,
                     delivery.event_type, "" if fresh else ": already stored")
            done += 1
        if done:
            self.spool.drop_first(done)
        return done
