"""Fixtures shared by every test package."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
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


@contextmanager
def _root_logger_kept() -> Iterator[None]:
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


# A test that runs the CLI in-process (cli.main -> logs.configure) points the root
# logger at the sys.stderr of that moment: with capsys, a stream pytest closes when
# the phase ends (it opens a new one for the next). Server threads that outlive the
# phase (a worker finishing a job while the `world` fixture stops) then wrote to a
# closed file ("ValueError: I/O operation on closed file" logging errors). Each
# phase puts the root logger back before its capture closes: these wrappers are
# the innermost (trylast), inside pytest's capture and log-capture wrappers.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    with _root_logger_kept():
        return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    with _root_logger_kept():
        return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item,
                            nextitem: pytest.Item | None) -> Generator[None, object, object]:
    with _root_logger_kept():
        return (yield)
