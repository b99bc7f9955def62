"""Value types of an environment's approval policy, and their text forms.

The text forms ("1h30m", "mon-fri", "09:00-17:00") are parsed here rather than in
the workflows.yaml reader so that the server settings, the API and the config
file all accept and print exactly the same spelling. Parsers raise ValueError
with a message that says what is allowed; callers add the key and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_TITLES = tuple(name.title() for name in WEEKDAY_NAMES)
DURATION_FORMAT = 'a duration like "30m", "4h", "2d" or "1h30m" (days, hours, minutes)'
DAYS_FORMAT = 'day names like [mon, tue] or a range like "mon-fri"'
HOURS_FORMAT = '"HH:MM-HH:MM" in 24-hour time, e.g. "09:00-17:00"'

_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_HOURS_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclass(frozen=True)
class ApplyWindow:
    """When applies may run. `weekdays` are 0-6 (Mon=0) and name the day a
    window *opens*: with start 22:00 and end 02:00 (end <= start crosses
    midnight) a Friday window runs into Saturday morning. start == end means
    the whole 24 hours from start. Times are wall-clock times in `timezone`
    (an IANA name), so a window keeps its local hours across DST changes."""

    weekdays: tuple[int, ...] = tuple(range(7))
    start: time = time(0, 0)
    end: time = time(0, 0)
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def is_open(self, now: datetime) -> bool:
        moment = now.astimezone(UTC)
        return any(start <= moment < end for start, end in self._occurrences(now))

    def next_opening(self, now: datetime) -> datetime:
        """The first moment at or after `now` (aware) when applies may run, in
        the window's zone so its name (CET, CEST) is the local one."""
        if self.is_open(now):
            return now.astimezone(self.zone)
        moment = now.astimezone(UTC)
        return min(s for s, _ in self._occurrences(now) if s > moment).astimezone(self.zone)

    def _occurrences(self, now: datetime) -> list[tuple[datetime, datetime]]:
        """(open, close) UTC instants of the windows opening from yesterday to a week
        ahead: yesterday's may still run past midnight, and a week always holds
        one more opening since `weekdays` is never empty."""
        zone = self.zone
        today = now.astimezone(zone).date()
        spans: list[tuple[datetime, datetime]] = []
        for offset in range(-1, 8):
            day = today + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            close_day = day + timedelta(days=1) if self.crosses_midnight else day
            spans.append((_instant(day, self.start, zone), _instant(close_day, self.end, zone)))
        return spans

    def describe(self) -> str:
        """'Mon-Fri 09:00-17:00 Europe/Berlin', the form refusals quote."""
        hours = ("all day" if self.start == self.end == time(0, 0)
                 else f"{self.start:%H:%M}-{self.end:%H:%M}")
        return f"{describe_days(self.weekdays)} {hours} {self.timezone}"


@dataclass(frozen=True)
class DestroyRule:
    """Stricter approval when any plan deletes or replaces resources.
    `required_approvals` replaces the environment's count when higher (it is a
    total, not an addition); `approvers`, when given, means at least one
    approval must come from one of them (users or "org/team")."""

    required_approvals: int | None = None
    approvers: tuple[str, ...] = ()


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The moment the wall clock in `zone` first shows `at` on `day`, in UTC
    (aware datetimes sharing one zone compare by wall clock, wrong around DST).
    A time skipped by a DST change (02:30 on a spring-forward night) resolves
    to the end of the gap, when the clock jumps past it; a repeated time
    (autumn) resolves to its first occurrence."""
    early = datetime.combine(day, at, zone).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, at):
        return early
    low = datetime.combine(day, at, zone).replace(fold=1).astimezone(UTC)
    while early - low > timedelta(seconds=1):
        middle = low + (early - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= datetime.combine(day, at):
            early = middle
        else:
            low = middle
    return early.replace(microsecond=0)


def parse_duration(text: str) -> timedelta:
    """'1h30m' → 1:30:00. Zero is refused: an approval that expires at once or
    a deadline already passed is a mistake, not a policy."""
    match = _DURATION_RE.match(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not {DURATION_FORMAT}")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes)
    if not value:
        raise ValueError(f"{text!r} is zero; give {DURATION_FORMAT}")
    return value


def format_duration(value: timedelta) -> str:
    """The inverse of parse_duration (seconds dropped): 1:30:00 → '1h30m'."""
    minutes = int(value.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "")
    return text + (f"{mins}m" if mins or not text else "")


def parse_days(value: str | list[str] | tuple[str, ...]) -> tuple[int, ...]:
    """'mon-fri', 'sat,sun', ['mon', 'wed-fri'] → sorted weekday numbers. A
    range may wrap ('fri-mon' is Fri, Sat, Sun, Mon)."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    days: set[int] = set()
    for part in parts:
        ends = [_weekday(end) for end in part.split("-")] if part.strip() else []
        if len(ends) == 1:
            days.add(ends[0])
        elif len(ends) == 2:
            first, last = ends
            days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
        else:
            raise ValueError(f"{part!r} is not {DAYS_FORMAT}")
    if not days:
        raise ValueError(f"no days given; use {DAYS_FORMAT}")
    return tuple(sorted(days))


def _weekday(name: str) -> int:
    key = name.strip().lower()
    for number, full in enumerate(_FULL_NAMES):
        if key in (full, full[:3]):
            return number
    raise ValueError(f"{name.strip()!r} is not a day; use {DAYS_FORMAT}")


def parse_hours(text: str) -> tuple[time, time]:
    """'09:00-17:00' → (09:00, 17:00). An end at or before the start crosses
    midnight; '00:00-24:00' is the whole day."""
    match = _HOURS_RE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not {HOURS_FORMAT}")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if (h2, m2) == (24, 0):
        h2 = 0
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{text!r} is not a valid time range; use {HOURS_FORMAT}")
    return time(h1, m1), time(h2, m2)


def check_timezone(name: str) -> str:
    """The name back if zoneinfo knows it; 'CET'-style abbreviations that are
    not IANA names are refused by zoneinfo itself."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as "
                         "'Europe/Berlin' or 'UTC'") from e
    return name


def describe_days(days: tuple[int, ...]) -> str:
    """(0, 1, 2, 3, 4) → 'Mon-Fri'; runs of three or more days become ranges."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    words: list[str] = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{WEEKDAY_TITLES[run[0]]}-{WEEKDAY_TITLES[run[-1]]}")
        else:
            words.extend(WEEKDAY_TITLES[d] for d in run)
    return ", ".join(words)
