"""Console sessions: started only by a live token, never stored as the cookie's
value, ended by sign-out, expiry or revoking the token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from atlantis_py.domain.records import Role
from atlantis_py.store.db import Database
from atlantis_py.store.tables import TokenRow, WebSessionRow
from atlantis_py.store.tokens import TokenStore
from atlantis_py.store.web_sessions import WebSessionStore


def test_a_token_starts_a_session_that_ends_on_sign_out(db: Database) -> None:
    token = TokenStore(db).create("bob", Role.REVIEWER)
    sessions = WebSessionStore(db)
    started = sessions.start(token)
    assert started is not None
    value, session = started
    assert session.owner.user == "bob" and session.owner.role is Role.REVIEWER
    assert sessions.get(value) == session
    with db.session() as s:
        stored = s.scalars(select(WebSessionRow.session_hash)).all()
    assert value not in stored and len(stored) == 1
    sessions.end(value)
    assert sessions.get(value) is None


def test_unknown_tokens_and_cookies_start_nothing(db: Database) -> None:
    sessions = WebSessionStore(db)
    assert sessions.start("atl_nope") is None
    assert sessions.start("not-a-token") is None
    assert sessions.get("") is None and sessions.get("forged") is None


def test_revoking_the_token_or_expiry_ends_the_session(db: Database) -> None:
    token = TokenStore(db).create("carol", Role.ADMIN)
    started = WebSessionStore(db).start(token)
    assert started is not None
    with db.session() as s:
        s.execute(update(TokenRow).values(revoked=True))
    assert WebSessionStore(db).get(started[0]) is None

    token = TokenStore(db).create("dave", Role.VIEWER)
    expired = WebSessionStore(db, lifetime=timedelta(seconds=-1)).start(token)
    assert expired is not None
    assert WebSessionStore(db).get(expired[0]) is None
