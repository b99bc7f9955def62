"""Which forge answers are worth trying again, and after how long.

Both forges answer outages with 5xx, rate limits with 429 (GitHub's secondary
limit also with 403) plus `Retry-After`, and an exhausted quota with a
remaining count of 0 and the time it resets. Everything else (401, a plain
403, 404, 422, …) will answer the same next time: the job fails at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import requests

from atlantis_py.errors import ForgeError, TransientForgeError

# connection refused or reset, DNS, TLS, read/connect timeouts, a body cut short,
# and urllib3 giving up after its own quick retries
TRANSIENT_REQUEST_ERRORS: tuple[type[requests.RequestException], ...] = (
    requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
    requests.exceptions.RetryError)
_ALWAYS = frozenset({408, 425, 429})
_REMAINING = ("x-ratelimit-remaining", "ratelimit-remaining")
_RESET = ("x-ratelimit-reset", "ratelimit-reset")


def uncertain(status: int | None, error: BaseException | None = None) -> bool:
    """Whether a failed request may have taken effect: the forge answered 5xx
    (a gateway may time out after the forge did the work), or the connection
    broke after the request was sent. A refusal (429, a 403 rate limit) or a
    connection never made did nothing."""
    if error is not None:
        return not isinstance(error, requests.exceptions.ConnectTimeout) and not (
            isinstance(error, requests.ConnectionError)
            and "refused" in str(error).lower())
    return status is not None and (status >= 500 or status == 408)


def request_failure(forge: str, action: str, error: requests.RequestException) -> ForgeError:
    """A request that got no answer from `forge` ("GitHub"): transient when the
    network or the forge may be back later, permanent otherwise."""
    message = f"{forge}: {action} failed: {type(error).__name__}"
    if isinstance(error, TRANSIENT_REQUEST_ERRORS):
        return TransientForgeError(message, uncertain=uncertain(None, error))
    return ForgeError(message)


def lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def quota_exhausted(headers: Mapping[str, str]) -> bool:
    """`headers` lower-cased. A primary rate limit: nothing left until the reset."""
    return any(headers.get(name, "").strip() == "0" for name in _REMAINING)


def is_transient(status: int | None, headers: Mapping[str, str]) -> bool:
    """`headers` lower-cased."""
    if status is None:
        return False
    if status >= 500 or status in _ALWAYS:
        return True
    return status == 403 and ("retry-after" in headers or quota_exhausted(headers))


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the forge asked us to wait: `Retry-After` (seconds or an HTTP
    date), else, when the quota is exhausted, until its reset (epoch seconds).
    `headers` lower-cased; `now` is the epoch time the answer came."""
    value = headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    if quota_exhausted(headers):
        for name in _RESET:
            reset = headers.get(name, "").strip()
            if reset.isdigit():
                return max(0.0, int(reset) - now + 1)  # +1: the reset's second has begun
    return None
