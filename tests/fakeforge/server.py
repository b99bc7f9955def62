"""The loopback HTTP server a fake forge answers on.

Port 0 lets the OS pick a free port, so tests running in parallel never collide;
the server runs in a daemon thread so a test that forgets to close it cannot
hang the run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class QuietHandler(WSGIRequestHandler):
    """No access log: a run makes thousands of requests and pytest would show them all."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LoopbackServer:
    """A threaded WSGI server on 127.0.0.1, serving from the moment it is made."""

    def __init__(self, app: WSGIApplication, name: str) -> None:
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name,
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
