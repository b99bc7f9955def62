"""A migrated database per test, on SQLite and on PostgreSQL: one code path, both engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from atlantis_py.store.db import Database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "atlantis.db")
    make_postgres_db: Callable[[], str] = request.getfixturevalue("make_postgres_db")
    return make_postgres_db()


@pytest.fixture
def open_db(db_url: str) -> Iterator[Callable[[], Database]]:
    """Opens Database instances on one URL, as separate replicas would; the first migrates."""
    opened: list[Database] = []

    def open_one() -> Database:
        db = Database(db_url)
        if not opened:
            db.migrate()
        opened.append(db)
        return db

    yield open_one
    for db in opened:
        db.dispose()


@pytest.fixture
def db(open_db: Callable[[], Database]) -> Database:
    return open_db()
