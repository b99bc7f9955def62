"""Failed console sign-ins, counted in the database so that every web process
and replica sees the same attempts: N processes must not give an attacker N
times the tries. Rows older than the window are deleted as new ones come, each
address keeps at most `attempts` rows, and the table at most `max_rows`
(the oldest go first), so a flood of addresses cannot grow it without bound."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.tables import LoginFailureRow

ATTEMPTS = 10  # failed sign-ins per address within WINDOW (no setting yet)
WINDOW = timedelta(minutes=5)
MAX_ROWS = 100_000
CLIENT_CHARS = 64  # an IPv6 address with its zone fits


class LoginFailures:
    """The console's sign-in limiter (web/console/auth.py's SignInLimiter)."""

    def __init__(self, db: Database, attempts: int = ATTEMPTS, window: timedelta = WINDOW,
                 *, max_rows: int = MAX_ROWS, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.attempts = attempts
        self.window = window
        self.max_rows = max_rows
        self.clock = clock

    def retry_after(self, client: str) -> int:
        """Seconds until `client` may try again; 0 when it may now."""
        now = self.clock()
        with self.db.session() as s:
            newest = s.scalars(select(LoginFailureRow.at).where(
                LoginFailureRow.client == client[:CLIENT_CHARS],
                LoginFailureRow.at > now - self.window)
                .order_by(LoginFailureRow.at.desc()).limit(self.attempts)).all()
        if len(newest) < self.attempts:
            return 0
        # once the attempts-th newest failure leaves the window, one try is free again
        return max(1, int((newest[-1] + self.window - now).total_seconds()) + 1)

    def failed(self, client: str) -> None:
        now = self.clock()
        client = client[:CLIENT_CHARS]
        with self.db.session() as s:
            s.execute(delete(LoginFailureRow).where(LoginFailureRow.at <= now - self.window))
            s.add(LoginFailureRow(client=client, at=now))
            s.flush()
            _keep_newest(s, LoginFailureRow.client == client, self.attempts)
            if int(s.scalar(select(func.count(LoginFailureRow.id))) or 0) > self.max_rows:
                _keep_newest(s, None, self.max_rows * 9 // 10)  # room for a while

    def count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count(LoginFailureRow.id))) or 0)


def _keep_newest(s: Session, where: ColumnElement[bool] | None, keep: int) -> None:
    """Delete all but the `keep` newest rows (of those `where` selects)."""
    q = select(LoginFailureRow.id)
    if where is not None:
        q = q.where(where)
    old = s.scalars(q.order_by(LoginFailureRow.at.desc(), LoginFailureRow.id.desc())
                    .offset(keep)).all()
    if old:
        s.execute(delete(LoginFailureRow).where(LoginFailureRow.id.in_(old)))
