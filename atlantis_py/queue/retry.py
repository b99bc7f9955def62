"""When a job that failed for now runs again: exponential backoff with jitter,
never sooner than the forge asked (`Retry-After`, a rate limit's reset), and
not at all once the retries would outlast `limit` since the first failure."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DEFAULT_LIMIT = timedelta(minutes=30)


@dataclass(frozen=True)
class RetryPolicy:
    """`first` seconds before the first retry, doubling up to `longest` per wait;
    each wait is drawn from its upper half (`jitter` in [0, 1)), so workers that
    failed together do not come back together."""

    limit: timedelta = DEFAULT_LIMIT
    first: float = 5.0
    longest: float = 300.0
    jitter: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after the `attempt`-th try (1-based) failed."""
        ceiling = min(self.longest, self.first * 2.0 ** min(max(0, attempt - 1), 30))
        wait = ceiling / 2 + ceiling / 2 * self.jitter()
        return max(wait, retry_after or 0.0)

    def next_try(self, attempt: int, retry_after: float | None, since: datetime,
                 now: datetime) -> datetime | None:
        """When to try again, or None to give up: the wait would end more than
        `limit` after `since`, the first failure."""
        when = now + timedelta(seconds=self.delay(attempt, retry_after))
        return None if when - since > self.limit else when
