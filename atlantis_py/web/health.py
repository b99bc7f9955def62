"""Liveness and a few counters for whoever runs the server."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify


def health_blueprint(pending: Callable[[], int], database_ok: Callable[[], bool]) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> tuple[Response, int]:
        """Ready only when the database answers: without it no webhook can be stored."""
        if not database_ok():
            return jsonify(status="database unavailable"), 503
        return jsonify(status="ok"), 200

    @bp.get("/metrics")
    def metrics() -> Response:
        body = f"atlantis_jobs_pending {pending()}\n"
        return Response(body, mimetype="text/plain; version=0.0.4")

    return bp
