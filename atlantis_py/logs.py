"""Logging: the job and delivery id on every line, and secrets masked.

Workers set the context with `job_context`; `configure` (called only by cli.py)
installs the filter that stamps it on each record.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterable, Iterator
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


def configure(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(secrets))
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(ctx)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
