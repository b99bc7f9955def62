"""When: review deadlines of pending requests and apply windows' next openings."""

from __future__ import annotations

from datetime import datetime

from atlantis_py.domain.projects import Environment
from atlantis_py.domain.rules import WEEKDAY_TITLES, ApplyWindow, format_duration

EXPIRED = "expired"


def next_window_opening(window: ApplyWindow, now: datetime) -> datetime:
    """The first moment at or after `now` that `window` is open, in its zone."""
    return window.next_opening(now)


def format_opening(moment: datetime) -> str:
    """'Mon 2026-11-23 09:00 CET': locale-free, with the zone's local name."""
    return f"{WEEKDAY_TITLES[moment.weekday()]} {moment:%Y-%m-%d %H:%M} {moment.tzname()}"


def review_deadline_at(env: Environment, pending_since: datetime) -> datetime | None:
    return None if env.review_deadline is None else pending_since + env.review_deadline


def deadline_passed(env: Environment, pending_since: datetime, now: datetime) -> bool:
    """Whether a request PENDING since `pending_since` is past its review deadline
    and should be rejected with reason EXPIRED by the background check."""
    deadline = review_deadline_at(env, pending_since)
    return deadline is not None and now > deadline


def expiry_notice(env: Environment) -> str:
    """What the author is told when the background check expires a request."""
    limit = f" of {format_duration(env.review_deadline)}" if env.review_deadline else ""
    return (f"No approval arrived within the review deadline{limit} for {env.name}, "
            f'so this request was rejected with reason "{EXPIRED}".')
