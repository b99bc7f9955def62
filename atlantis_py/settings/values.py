"""Raw setting values (flag, ATLANTIS_* variable or default) read into Python
values; every parser names the flag in its error, so a bad value fails at start
saying which setting to fix."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from atlantis_py.domain.rules import parse_duration
from atlantis_py.errors import ConfigError


def env_name(flag: str) -> str:
    return "ATLANTIS_" + flag.replace("-", "_").upper()


class RawValues:
    """The raw values by flag name, with one reader per kind of value."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        self._raw = raw

    def get(self, flag: str) -> object:
        return self._raw.get(flag)

    def text(self, flag: str) -> str:
        value = self._raw.get(flag)
        return "" if value is None else str(value)

    def flag(self, flag: str) -> bool:
        value = self._raw.get(flag)
        return value if isinstance(value, bool) else boolean(flag, str(value))

    def whole(self, flag: str, minimum: int, maximum: int) -> int:
        return whole(flag, self._raw.get(flag), minimum, maximum)

    def items(self, flag: str) -> tuple[str, ...]:
        return comma_list(self.text(flag))


def boolean(flag: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"--{flag}: expected true or false, got {raw!r}")


def number(flag: str, raw: object) -> int:
    try:
        return int(str(raw))
    except ValueError:
        raise ConfigError(f"--{flag}: expected a whole number, got {raw!r}") from None


def whole(flag: str, raw: object, minimum: int, maximum: int) -> int:
    value = number(flag, raw)
    if not minimum <= value <= maximum:
        raise ConfigError(f"--{flag}: must be between {minimum} and {maximum}, got {value}")
    return value


def comma_list(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def choice(flag: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"--{flag}: expected {' or '.join(allowed)}, got {value!r}")
    return value


def http_url(flag: str, url: str) -> str:
    url = url.rstrip("/")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"--{flag}: expected an http(s) URL, got {url!r}")
    return url


def folder(flag: str, raw: str) -> Path | None:
    if not raw:
        return None
    found = Path(raw).expanduser()
    if not found.is_dir():
        raise ConfigError(f"--{flag}: {raw!r} is not a folder")
    return found.resolve()


def duration(flag: str, raw: str) -> timedelta | None:
    if not raw:
        return None
    try:
        return parse_duration(raw)
    except ValueError as err:
        raise ConfigError(f"--{flag}: {err}") from None


def read_text(flag: str, file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"--{flag}: cannot read {file!r}: {err}") from None
