"""Migrations are the schema's only source: they must produce exactly the tables
the code declares, on both engines, and be safe to run again."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from atlantis_py.store.db import MIGRATIONS, Database, head_revision
from atlantis_py.store.tables import Base


def test_migrated_schema_matches_the_declared_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"tables.py and the migrations disagree: {diff}"


def test_migrate_is_idempotent_and_reaches_head(db: Database) -> None:
    db.migrate()
    db.migrate()
    assert db.schema_version() == head_revision()


def test_head_revision_is_the_newest_migration() -> None:
    """Files are numbered in order; the head is the last one's revision id."""
    newest = max((MIGRATIONS / "versions").glob("[0-9]*.py"))
    assert f'revision = "{head_revision()}"' in newest.read_text()


def test_an_empty_database_has_no_version(tmp_path: Path) -> None:
    fresh = Database("sqlite:///" + str(tmp_path / "fresh.db"))
    try:
        assert fresh.schema_version() is None
    finally:
        fresh.dispose()
