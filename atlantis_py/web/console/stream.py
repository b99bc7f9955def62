"""Server-sent events that tell an open IPR list to refresh itself.

Each stream polls a cheap version of the IPR table (how many, the newest
change) once a second and says `changed` when it moves. A stream holds one of
the web server's threads, so streams are few (`max_streams` at once; more are
told to come back later) and short (`lifetime` seconds; the browser's
EventSource reconnects by itself, sending the last version it saw, so no
change between two streams is missed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, current_app, request

from atlantis_py.domain.records import Role
from atlantis_py.web.console.auth import Gate

STOPPING = "atlantis_py.stopping"


def stopping() -> threading.Event:
    """The app's stop signal, set when its web server closes: a stream ends at
    once instead of holding a request thread (which would write to the closed
    server when it ended) for the rest of its lifetime."""
    found: threading.Event = current_app.extensions.setdefault(STOPPING, threading.Event())
    return found


def add_stream_routes(bp: Blueprint, gate: Gate, version: Callable[[], str], *,
                      max_streams: int = 3, lifetime: float = 25.0,
                      every: float = 1.0) -> None:
    slots = threading.BoundedSemaphore(max_streams)

    @bp.get("/stream/iprs")
    def ipr_stream() -> Response:
        gate.require(Role.VIEWER)
        seen = request.headers.get("Last-Event-ID", "")
        return sse(in_slot(slots, version_events(version, seen, lifetime, every, stopping())))


def sse(events: Iterator[str]) -> Response:
    """A server-sent events answer that no cache or proxy holds back."""
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def in_slot(slots: threading.BoundedSemaphore, events: Iterator[str]) -> Iterator[str]:
    """`events` while holding one of `slots`; with none free the browser is told
    to come back later."""
    if not slots.acquire(blocking=False):
        yield "retry: 15000\n\n"  # busy: come back later
        return
    try:
        yield from events
    finally:
        slots.release()


def version_events(version: Callable[[], str], seen: str, lifetime: float,
                   every: float, stop: threading.Event) -> Iterator[str]:
    """`changed` whenever `version()` moves (and at once when it moved since
    `seen`, the last version the browser saw), for `lifetime` seconds or until
    `stop` is set."""
    last = version()
    yield f"retry: 2000\nid: {last}\n\n"
    if seen and seen != last:
        yield f"event: changed\nid: {last}\ndata: {last}\n\n"
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        if stop.wait(every):
            return
        now = version()
        if now != last:
            last = now
            yield f"event: changed\nid: {now}\ndata: {now}\n\n"
