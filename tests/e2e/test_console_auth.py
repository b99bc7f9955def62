"""Signing in to the review console: sessions, CSRF, rate limits and headers."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from atlantis_py.store.login_failures import LoginFailures
from tests.e2e.conftest import World, running_world
from tests.e2e.console_client import ConsoleClient


def test_a_token_signs_in_and_sign_out_ends_the_session(world: World) -> None:
    browser = ConsoleClient(world.url)
    assert browser.get("/").status == 303
    answer = browser.sign_in(world.token("bob", "reviewer"))
    cookie = answer.headers["Set-Cookie"]
    assert "atl_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP, no --web-secure-cookies
    page = browser.get("/")
    assert page.status == 200 and "bob" in page.body and "reviewer" in page.body
    assert browser.post("/logout", {"csrf": page.csrf}).status == 303
    assert browser.get("/").status == 303


def test_sign_in_refuses_bad_tokens_and_forged_forms(world: World) -> None:
    browser = ConsoleClient(world.url)
    form = browser.get("/login")
    answer = browser.post("/login", {"csrf": form.csrf, "token": "atl_wrong"})
    assert answer.status == 401 and "unknown or revoked" in answer.body
    stranger = ConsoleClient(world.url)  # no sign-in cookie: a form posted from elsewhere
    token = world.token("bob", "reviewer")
    assert stranger.post("/login", {"csrf": "guess", "token": token}).status == 403
    assert stranger.get("/").status == 303


def test_a_form_without_the_sessions_csrf_token_signs_nobody_out(world: World) -> None:
    browser = ConsoleClient(world.url)
    browser.sign_in(world.token("bob", "reviewer"))
    answer = browser.post("/logout", {})
    assert answer.status == 303  # back to sign-in, but the session stays
    assert browser.get("/").status == 200


def test_failed_sign_ins_are_rate_limited(world: World) -> None:
    browser = ConsoleClient(world.url)
    for _ in range(10):
        form = browser.get("/login")
        assert browser.post("/login", {"csrf": form.csrf, "token": "atl_x"}).status == 401
    form = browser.get("/login")
    answer = browser.post("/login", {"csrf": form.csrf,
                                     "token": world.token("bob", "reviewer")})
    assert answer.status == 429 and int(answer.headers["Retry-After"]) > 0
    # counted in the database: another web process or replica refuses this address too
    assert LoginFailures(world.service.db).retry_after("127.0.0.1") > 0


def test_pages_carry_a_strict_policy_and_assets_come_from_the_app(world: World) -> None:
    browser = ConsoleClient(world.url)
    page = browser.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in page.body and "style=" not in page.body
    css = browser.get("/assets/console.css")
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")


def test_secure_cookies_setting_marks_the_session_cookie_secure(tmp_path: Path) -> None:
    with running_world(tmp_path, web_secure_cookies=True) as world:
        token = world.token("bob", "reviewer")
        browser = ConsoleClient(world.url)
        form = browser.get("/login")
        assert "Secure" in form.headers["Set-Cookie"]
        # over plain HTTP the client keeps no Secure cookie, so post the form by hand
        req = urllib.request.Request(
            world.url + "/login", method="POST",
            data=urllib.parse.urlencode({"csrf": form.csrf, "token": token}).encode(),
            headers={"Cookie": form.headers["Set-Cookie"].split(";")[0]})
        status, cookie = _post_raw(req)
        assert status == 303 and "atl_session=" in cookie and "Secure" in cookie


def _post_raw(req: urllib.request.Request) -> tuple[int, str]:
    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    try:
        with urllib.request.build_opener(Keep()).open(req, timeout=60) as resp:
            return resp.status, resp.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Set-Cookie", "")


def test_the_live_stream_needs_a_session(world: World) -> None:
    assert ConsoleClient(world.url).get("/stream/iprs").status == 303
