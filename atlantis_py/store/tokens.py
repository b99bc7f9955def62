"""API tokens: shown once at creation, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from atlantis_py.domain.records import Role, TokenOwner
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import TokenRow

PREFIX = "atl_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, user: str, role: Role) -> str:
        token = PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as s:
            s.add(TokenRow(user=user, role=role.value, token_hash=_hash(token),
                           created_at=utcnow(), revoked=False))
        return token

    def owner(self, token: str) -> TokenOwner | None:
        """Who a bearer token belongs to; a hash lookup, so timing reveals nothing
        about the stored value."""
        if not token.startswith(PREFIX):
            return None
        with self.db.session() as s:
            row = s.scalars(select(TokenRow).where(TokenRow.token_hash == _hash(token),
                                                   TokenRow.revoked.is_(False))).first()
            return None if row is None else TokenOwner(row.user, Role(row.role))
