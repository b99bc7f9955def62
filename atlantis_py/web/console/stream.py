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

from flask import Blueprint, Response, request

from atlantis_py.domain.records import Role
from atlantis_py.web.console.auth import Gate


def add_stream_routes(bp: Blueprint, gate: Gate, version: Callable[[], str], *,
                      max_streams: int = 3, lifetime: float = 25.0,
                      every: float = 1.0) -> None:
    slots = threading.BoundedSemaphore(max_streams)

    @bp.get("/stream/iprs")
    def ipr_stream() -> Response:
        gate.require(Role.VIEWER)
        seen = request.headers.get("Last-Event-ID", "")

        def events() -> Iterator[str]:
            if not slots.acquire(blocking=False):
                yield "retry: 15000\n\n"  # busy: come back later
                return
            try:
                last = version()
                yield f"retry: 2000\nid: {last}\n\n"
                if seen and seen != last:
                    yield f"event: changed\nid: {last}\ndata: {last}\n\n"
                deadline = time.monotonic() + lifetime
                while time.monotonic() < deadline:
                    time.sleep(every)
                    now = version()
                    if now != last:
                        last = now
                        yield f"event: changed\nid: {now}\ndata: {now}\n\n"
            finally:
                slots.release()

        return Response(events(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
