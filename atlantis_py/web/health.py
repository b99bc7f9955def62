"""Liveness and a few counters for whoever runs the server."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify


def health_blueprint(pending: Callable[[], int]) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @bp.get("/metrics")
    def metrics() -> Response:
        body = f"atlantis_jobs_pending {pending()}\n"
        return Response(body, mimetype="text/plain; version=0.0.4")

    return bp
