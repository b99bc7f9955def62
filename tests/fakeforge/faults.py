"""Failures on demand: a fake forge answers some or all of its routes with an
error for a while (N seconds or N requests), or for good.

Routes are named forge-neutrally ("files", "comment", …); each fake maps the
names onto its own endpoints, so one test drives both forges' outages.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field


@dataclass
class Fault:
    status: int
    message: str
    endpoints: frozenset[str] | None  # None: every route
    requests: int | None = None  # answers left; None: until `until` (or for good)
    until: float | None = None  # time.monotonic() deadline
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0  # requests it answered
    lands: bool = False  # the request takes effect, only its answer is the error

    def applies(self, endpoint: str, now: float) -> bool:
        if self.endpoints is not None and endpoint not in self.endpoints:
            return False
        if self.until is not None and now >= self.until:
            return False
        return self.requests is None or self.requests > 0


class Faults:
    """The fake's pending faults; called under the fake's lock."""

    def __init__(self, routes: Mapping[str, frozenset[str]]) -> None:
        self.routes = routes
        self.active: list[Fault] = []

    def endpoints(self, only: Collection[str]) -> frozenset[str] | None:
        if not only:
            return None
        unknown = set(only) - set(self.routes)
        if unknown:
            raise ValueError(f"no such fault route {sorted(unknown)}; known: {sorted(self.routes)}")
        return frozenset(e for name in only for e in self.routes[name])

    def add(self, status: int, message: str, *, only: Collection[str] = (),
            seconds: float | None = None, requests: int | None = None,
            headers: Mapping[str, str] | None = None, lands: bool = False) -> Fault:
        fault = Fault(status, message, self.endpoints(only), requests,
                      None if seconds is None else time.monotonic() + seconds,
                      dict(headers or {}), lands=lands)
        self.active.append(fault)
        return fault

    def take(self, endpoint: str) -> Fault | None:
        """The fault that answers this request, counted; None: answer normally."""
        now = time.monotonic()
        for fault in self.active:
            if fault.applies(endpoint, now):
                fault.hits += 1
                if fault.requests is not None:
                    fault.requests -= 1
                return fault
        return None

    def clear(self) -> None:
        self.active.clear()
