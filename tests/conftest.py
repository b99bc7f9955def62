"""Fixtures shared by every test package."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.postgres import fresh_database, postgres_server

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One PostgreSQL server per test session (per xdist worker). Its directory is
    outside pytest's root-only tmp tree so the `postgres` user can reach it."""
    root = Path(tempfile.mkdtemp(prefix="atlantis-pg-"))
    try:
        with postgres_server(root) as url:
            yield url
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def make_postgres_db(postgres_url: str) -> Callable[[], str]:
    """A new, empty database on the session's server for each call."""
    return lambda: fresh_database(postgres_url, f"t{next(_names)}")


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that runs the CLI in-process points the root logger at the stderr
    pytest captured for it; put it back, so later threads' log lines (a worker
    finishing a job) are not written to a closed capture file."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
