"""Engine, sessions and migrations, plus the stores built on them."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def utcnow() -> datetime:
    """Naive UTC: stored the same way in SQLite and PostgreSQL."""
    return datetime.now(UTC).replace(tzinfo=None)


_REVISION = re.compile(r'^(down_revision|revision) = "?([\w]+)"?$', re.MULTILINE)


def head_revision() -> str:
    """The newest migration: the one no other migration names as its parent."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for key, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {sorted(heads)}")
    return heads.pop()


MIGRATION_LOCK = 0x61746C6D  # "atlm": the advisory lock migrations run under


def _version_in(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if found is None else str(found)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # transactions are begun by _sqlite_begin
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=0")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _no_checkpoints(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()


SQLITE_LOCK_WAIT = 30.0
CONNECT_TIMEOUT = 5  # seconds, PostgreSQL


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN IMMEDIATE, retried every half millisecond while another connection
    (the web process, a worker) writes. SQLite's own busy handler sleeps 1, 2, 5,
    10 … 100 ms between tries, which put tens of milliseconds on webhook
    acknowledgements; and taking the write lock up front means a transaction that
    reads and then writes can never fail on a snapshot another writer moved."""
    deadline = time.monotonic() + SQLITE_LOCK_WAIT
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.0005)


class Database:
    """One engine per process. `session()` is the only way to get a Session."""

    def __init__(self, url: str, *, checkpoints: bool = True) -> None:
        """`checkpoints=False` leaves SQLite's WAL checkpoints to other processes:
        the web process then never copies the log into the database file while a
        webhook waits for its answer (the worker processes do it instead)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.checkpoints = checkpoints
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 0}
            path = url.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_size"] = 10
            kwargs["pool_pre_ping"] = True
            # an unreachable host fails within seconds, not after TCP's minutes,
            # so a webhook waiting on it is spooled while the sender still listens
            kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
            if not checkpoints:
                event.listen(self.engine, "connect", _no_checkpoints)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time: this process's threads queue here, so
        # only one of them at a time retries BEGIN IMMEDIATE against other processes
        self._turn: AbstractContextManager[object] = (
            threading.RLock() if self.is_sqlite else nullcontext())

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        with self._turn, self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core transaction without an ORM Session, for the hot path (webhook
        acknowledgements): committed on success, rolled back on any error."""
        with self._turn, self.engine.begin() as conn:
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent). When it already is
        there, Alembic (and the 10 MB it loads) is not even imported.

        Replicas starting together on an empty database take turns: on PostgreSQL
        under a transaction-scoped advisory lock, on SQLite under its write lock
        (BEGIN IMMEDIATE); whoever comes second finds the schema current and
        leaves it alone."""
        head = head_revision()
        if self.schema_version() == head:
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            if _version_in(conn) == head:
                log.info("another process brought the schema to %s", head)
                return
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def schema_version(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:
            return None  # no schema yet

    def dispose(self) -> None:
        self.engine.dispose()
