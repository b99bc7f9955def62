"""Review-console sessions: a random cookie value, stored only as its SHA-256,
tied to the API token it was started with (revoking the token ends it)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from atlantis_py.domain.records import Role, TokenOwner, WebSession
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import TokenRow, WebSessionRow
from atlantis_py.store.tokens import PREFIX
from atlantis_py.store.tokens import _hash as token_hash

LIFETIME = timedelta(hours=12)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class WebSessionStore:
    def __init__(self, db: Database, lifetime: timedelta = LIFETIME) -> None:
        self.db = db
        self.lifetime = lifetime

    def start(self, token: str) -> tuple[str, WebSession] | None:
        """A new session for the holder of this API token, as (cookie value,
        session); None when the token is unknown or revoked."""
        if not token.startswith(PREFIX):
            return None
        now = utcnow()
        with self.db.session() as s:
            row = s.scalars(select(TokenRow).where(TokenRow.token_hash == token_hash(token),
                                                   TokenRow.revoked.is_(False))).first()
            if row is None:
                return None
            s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now))
            value, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            session = WebSessionRow(session_hash=_hash(value), token_id=row.id, csrf=csrf,
                                    created_at=now, expires_at=now + self.lifetime)
            s.add(session)
            return value, WebSession(TokenOwner(row.user, Role(row.role)), csrf,
                                     session.expires_at)

    def get(self, value: str) -> WebSession | None:
        """The live session behind a cookie value, if any."""
        if not value:
            return None
        with self.db.session() as s:
            found = s.execute(
                select(WebSessionRow, TokenRow)
                .join(TokenRow, TokenRow.id == WebSessionRow.token_id)
                .where(WebSessionRow.session_hash == _hash(value),
                       WebSessionRow.expires_at > utcnow(), TokenRow.revoked.is_(False))
            ).first()
            if found is None:
                return None
            session, token = found
            return WebSession(TokenOwner(token.user, Role(token.role)), session.csrf,
                              session.expires_at)

    def end(self, value: str) -> None:
        with self.db.session() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.session_hash == _hash(value)))
