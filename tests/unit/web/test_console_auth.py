"""Sign-in limits and redirects of the review console."""

from __future__ import annotations

from atlantis_py.web.console.auth import LoginLimiter, safe_next


def test_failed_sign_ins_are_limited_per_address_within_the_window() -> None:
    now = [1000.0]
    limiter = LoginLimiter(attempts=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("10.0.0.1") == 0
        limiter.failed("10.0.0.1")
    assert 0 < limiter.retry_after("10.0.0.1") <= 61
    assert limiter.retry_after("10.0.0.2") == 0
    now[0] += 61
    assert limiter.retry_after("10.0.0.1") == 0


def test_only_local_paths_are_followed_after_sign_in() -> None:
    assert safe_next("/ipr/3?x=1") == "/ipr/3?x=1"
    for target in (None, "", "https://evil.example", "//evil.example", "/\\evil.example"):
        assert safe_next(target) == "/"
