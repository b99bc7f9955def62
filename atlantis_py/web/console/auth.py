"""Signing in to the review console: an API token starts a server-side session
(an HttpOnly, SameSite=Lax cookie), every form carries the session's CSRF token,
and failed sign-ins are rate-limited per client address, counted in the
database (store/login_failures.py) so every web process and replica shares
the count.

The API keeps its bearer tokens; a browser can't send those by itself, so the
console trades one for a session once, at /login.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from atlantis_py.domain.records import Role, WebSession

SESSION_COOKIE = "atl_session"
LOGIN_COOKIE = "atl_login"  # double-submit CSRF token of the sign-in form
CSRF_FIELD = "csrf"


class Sessions(Protocol):
    def start(self, token: str) -> tuple[str, WebSession] | None: ...
    def get(self, value: str) -> WebSession | None: ...
    def end(self, value: str) -> None: ...


class SignInLimiter(Protocol):
    """At most so many failed sign-ins per client address within a window."""

    def retry_after(self, client: str) -> int:
        """Seconds until this client may try again; 0 when it may now."""

    def failed(self, client: str) -> None: ...


class LoginLimiter:
    """At most `attempts` failed sign-ins per client address within `window`
    seconds, kept in this process's memory: only for a console with no shared
    store (each process would count its own), e.g. in tests."""

    def __init__(self, attempts: int = 10, window: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds until this client may try again; 0 when it may now."""
        with self._lock:
            failures = self._recent(client)
            if len(failures) < self.attempts:
                return 0
            return max(1, int(failures[0] + self.window - self.clock()) + 1)

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client).append(self.clock())
            if len(self._failures) > 10_000:  # forget the quietest addresses
                for key in [k for k, v in self._failures.items() if not v][:5_000]:
                    del self._failures[key]

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures


@dataclass(frozen=True)
class Denied(Exception):
    status: int
    message: str


def safe_next(target: str | None) -> str:
    """Only a path on this site, never another host (`//evil`, `/\\evil`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


class Gate:
    """Who is signed in, and whether this request may do what it asks."""

    def __init__(self, sessions: Sessions, *, secure_cookies: bool,
                 limiter: SignInLimiter | None = None) -> None:
        self.sessions = sessions
        self.secure_cookies = secure_cookies
        self.limiter: SignInLimiter = limiter or LoginLimiter()

    def session(self) -> WebSession | None:
        if "web_session" not in g:
            g.web_session = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        found: WebSession | None = g.web_session
        return found

    def require(self, role: Role) -> WebSession:
        """The signed-in session, allowed `role`; for a POST also carrying the
        session's CSRF token. Raises Denied otherwise."""
        session = self.session()
        if session is None:
            raise Denied(401, "sign in first")
        if request.method == "POST" and not hmac.compare_digest(
                request.form.get(CSRF_FIELD, ""), session.csrf):
            raise Denied(403, "this form's CSRF token is missing or wrong: reload the page "
                              "and try again")
        if not session.owner.role.allows(role):
            raise Denied(403, f"{session.owner.user} has role {session.owner.role.value}; "
                              f"this needs {role.value}")
        return session

    def secure(self) -> bool:
        return self.secure_cookies or request.is_secure


def add_auth_routes(bp: Blueprint, gate: Gate) -> None:
    def login_form(status: int = 200, error: str = "") -> Response:
        nonce = secrets.token_urlsafe(24)
        html = render_template("login.html", nonce=nonce, error=error,
                               next=safe_next(request.values.get("next")))
        response = Response(html, status)
        response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="Strict",
                            secure=gate.secure(), path="/login")
        return response

    @bp.get("/login")
    def login() -> BaseResponse:
        if gate.session() is not None:
            return redirect(safe_next(request.args.get("next")), 303)
        return login_form()

    @bp.post("/login")
    def login_post() -> BaseResponse:
        client = request.remote_addr or "unknown"
        wait = gate.limiter.retry_after(client)
        if wait:
            refused = login_form(429, f"Too many failed sign-ins from this address; try "
                                       f"again in {wait} seconds.")
            refused.headers["Retry-After"] = str(wait)
            return refused
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not hmac.compare_digest(request.form.get(CSRF_FIELD, ""), cookie):
            return login_form(403, "This sign-in form is stale or was not sent by this "
                                   "page: try again.")
        started = gate.sessions.start(request.form.get("token", "").strip())
        if started is None:
            gate.limiter.failed(client)
            return login_form(401, "That token is unknown or revoked. Create one with "
                                   "`atlantis-py token create`.")
        value, session = started
        response = redirect(safe_next(request.form.get("next")), 303)
        response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="Lax",
                            secure=gate.secure(), path="/", expires=session.expires_at)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @bp.post("/logout")
    def logout() -> BaseResponse:
        try:
            gate.require(Role.VIEWER)
        except Denied:
            return redirect(url_for("console.login"), 303)
        gate.sessions.end(request.cookies.get(SESSION_COOKIE, ""))
        response = redirect(url_for("console.login"), 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
