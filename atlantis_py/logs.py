"""Logging: the job and delivery id on every line, and secrets masked.

Workers set the context with `job_context`; `configure` (called only by cli.py)
installs the filter that stamps it on each record.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

_context: contextvars.ContextVar[str] = contextvars.ContextVar("atlantis_log_context",
                                                               default="-")


@contextmanager
def job_context(label: str) -> Iterator[None]:
    token = _context.set(label)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Adds `%(ctx)s` (e.g. "job=12 delivery=abc") and masks known secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = _context.get()
        if self.secrets:
            message = record.getMessage()
            masked = message
            for secret in self.secrets:
                masked = masked.replace(secret, "****")
            if masked != message:
                record.msg, record.args = masked, None
        return True


class Throttle(logging.Filter):
    """Lets one record of each message through per `interval` seconds and counts
    the rest. Under overload waitress warns of its task queue on every request
    that has to wait and of its connection limit every time it is reached: tens
    of thousands of lines a minute, each written while the server is busiest."""

    def __init__(self, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._seen: dict[object, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = self.clock()
        with self._lock:
            last, held = self._seen.get(record.msg, (None, 0))
            if last is not None and now - last < self.interval:
                self._seen[record.msg] = (last, held + 1)
                return False
            self._seen[record.msg] = (now, 0)
        if held and isinstance(record.msg, str):
            record.msg = f"{record.msg} (and {held} more like it in {self.interval:g} s)"
        return True


NOISY_UNDER_LOAD = ("waitress", "waitress.queue")


def throttle_noisy_loggers(interval: float = 60.0) -> None:
    """Install a Throttle on the loggers that speak once a request under overload."""
    for name in NOISY_UNDER_LOAD:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Throttle) for f in logger.filters):
            logger.addFilter(Throttle(interval))


def configure(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(secrets))
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(ctx)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
