"""Logging: the job and delivery id on every line, and secrets masked.

Workers set the context with `job_context`; `configure` (called only by cli.py)
installs the filter that stamps it on each record. `SECRETS` is the process's
one list of values never to show: forge tokens and webhook secrets at start,
terraform credentials as they are read. The log filter masks with it, and so do
the flows before a result is stored or a comment is posted.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

MASK = "****"
# A credential shorter than this is a setting (`true`, `1`, `eu-west`), not a secret;
# masking it would blank every `true` in a plan.
CREDENTIAL_MIN_LENGTH = 8

_context: contextvars.ContextVar[str] = contextvars.ContextVar("atlantis_log_context",
                                                               default="-")


@contextmanager
def job_context(label: str) -> Iterator[None]:
    token = _context.set(label)
    try:
        yield
    finally:
        _context.reset(token)


class Secrets:
    """Values to mask wherever text leaves the process. It only grows: a rotated
    credential file adds its new value and keeps masking the old one."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self.add(values)

    def add(self, values: Iterable[str], min_length: int = 4) -> None:
        found = set()
        for value in values:
            for candidate in (value, value.strip()):
                if len(candidate) >= min_length:
                    found.add(candidate)
        if not found:
            return
        with self._lock:
            merged = found | set(self._values)
            # longest first, so a secret containing another is masked whole
            self._values = tuple(sorted(merged, key=lambda s: (-len(s), s)))

    def __bool__(self) -> bool:
        return bool(self._values)

    def mask(self, text: str) -> str:
        for secret in self._values:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


SECRETS = Secrets()


class ContextFilter(logging.Filter):
    """Adds `%(ctx)s` (e.g. "job=12 delivery=abc") and masks known secrets, in the
    message and in a logged exception's traceback."""

    def __init__(self, secrets: Secrets | Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = secrets if isinstance(secrets, Secrets) else Secrets(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.ctx = _context.get()
        if self.secrets:
            message = record.getMessage()
            masked = self.secrets.mask(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self.secrets.mask(record.exc_text)
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


LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object a line (Atlantis's `--log-format json`), for log
    collectors that parse fields instead of lines. It formats what the
    ContextFilter left, so secrets are masked in it as in text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = getattr(record, "ctx", None)
        if ctx and ctx != "-":
            line["context"] = str(ctx)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, secrets: Iterable[str] = (), log_format: str = "text") -> None:
    SECRETS.add(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(SECRETS))
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s [%(ctx)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
