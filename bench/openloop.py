"""An open-loop HTTP load generator: requests go out on a wall-clock schedule.

Request i is due at start + i / rate whatever happened to the ones before it, and
its latency is measured from that due time, not from when a sender got round to
it. A stalled server therefore shows up as latency instead of silently slowing
the client down (coordinated omission). Several threads with keep-alive
connections share the schedule so the client is rarely the bottleneck; `lag`
says how late sends actually started, which tells you when it was.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Request = tuple[bytes, dict[str, str]]
MakeRequest = Callable[[int], Request]


@dataclass(frozen=True)
class Outcome:
    index: int
    status: int  # 0: no HTTP response (connection error or timeout)
    latency: float  # seconds from the due time to the whole response read
    lag: float  # seconds the send started after its due time


@dataclass(frozen=True)
class LoadResult:
    outcomes: list[Outcome]
    started: float  # perf_counter of the first due time
    finished: float  # perf_counter when the last response arrived

    @property
    def acked(self) -> list[Outcome]:
        return [o for o in self.outcomes if 200 <= o.status < 300]

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not 200 <= o.status < 300]

    @property
    def wall(self) -> float:
        return self.finished - self.started


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class _Schedule:
    def __init__(self, count: int, rate: float, start: float) -> None:
        self.count, self.rate, self.start = count, rate, start
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> int | None:
        with self._lock:
            if self._next >= self.count:
                return None
            index = self._next
            self._next += 1
            return index

    def due(self, index: int) -> float:
        return self.start + index / self.rate


def _sender(host: str, port: int, path: str, make: MakeRequest, schedule: _Schedule,
            keepalive: bool, timeout: float, out: list[Outcome]) -> None:
    conn: http.client.HTTPConnection | None = None
    while (index := schedule.take()) is not None:
        body, headers = make(index)
        if not keepalive:
            headers = {**headers, "Connection": "close"}
        due = schedule.due(index)
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent = time.perf_counter()
        status = 0
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=timeout)
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            if not keepalive or response.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
        done = time.perf_counter()
        out.append(Outcome(index, status, done - due, sent - due))
    if conn is not None:
        conn.close()


def run(host: str, port: int, path: str, make: MakeRequest, *, rate: float, count: int,
        senders: int = 32, keepalive: bool = True, timeout: float = 30.0) -> LoadResult:
    """Send `count` requests at `rate` per second; returns when all have answered."""
    schedule = _Schedule(count, rate, time.perf_counter() + 0.2)
    results: list[list[Outcome]] = [[] for _ in range(senders)]
    threads = [threading.Thread(target=_sender, name=f"bench-sender-{n}", daemon=True,
                                args=(host, port, path, make, schedule, keepalive, timeout,
                                      results[n]))
               for n in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted((o for chunk in results for o in chunk), key=lambda o: o.index)
    finished = max((schedule.due(o.index) + o.latency for o in outcomes),
                   default=schedule.start)
    return LoadResult(outcomes, schedule.start, finished)
