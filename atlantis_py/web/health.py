"""Readiness and Prometheus metrics for whoever runs the server.

Queue and IPR figures come from the database, so they are the same whichever
process (web or worker, this replica or another) did the work; webhook counts
are this web process's own.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping

from flask import Blueprint, Response, jsonify


class WebhookCounts:
    """Deliveries seen by this process, by forge and outcome."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def add(self, forge: str, outcome: str) -> None:
        with self._lock:
            self._counts[(forge, outcome)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)


def _gauge(name: str, help: str, label: str, values: Mapping[str, int]) -> list[str]:
    lines = [f"# HELP {name} {help}", f"# TYPE {name} gauge"]
    lines += [f'{name}{{{label}="{key}"}} {n}' for key, n in sorted(values.items())]
    return lines


def health_blueprint(pending: Callable[[], int], database_ok: Callable[[], bool],
                     job_counts: Callable[[], Mapping[str, int]],
                     ipr_counts: Callable[[], Mapping[str, int]],
                     webhooks: WebhookCounts) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> tuple[Response, int]:
        """Ready only when the database answers: without it no webhook can be stored."""
        if not database_ok():
            return jsonify(status="database unavailable"), 503
        return jsonify(status="ok"), 200

    @bp.get("/metrics")
    def metrics() -> Response:
        lines = ["# HELP atlantis_jobs_pending Jobs queued or running.",
                 "# TYPE atlantis_jobs_pending gauge", f"atlantis_jobs_pending {pending()}"]
        lines += _gauge("atlantis_jobs", "Jobs in the queue table by status.", "status",
                        job_counts())
        lines += _gauge("atlantis_iprs", "Infrastructure pull requests by state.", "state",
                        ipr_counts())
        lines += ["# HELP atlantis_webhooks_total Webhook deliveries received by this process.",
                  "# TYPE atlantis_webhooks_total counter"]
        lines += [f'atlantis_webhooks_total{{forge="{forge}",outcome="{outcome}"}} {n}'
                  for (forge, outcome), n in sorted(webhooks.snapshot().items())]
        return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")

    return bp
