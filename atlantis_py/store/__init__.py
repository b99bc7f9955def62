"""Persistence: SQLAlchemy tables, sessions and migrations. Only this package
imports sqlalchemy; callers get frozen records from atlantis_py.domain.records."""

from atlantis_py.store.db import Database

__all__ = ["Database"]
