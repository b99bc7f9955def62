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

from atlantis_py.web.spool import Spool


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
                     webhooks: WebhookCounts, spool: Spool,
                     policy_problems: Callable[[], Mapping[str, str]] | None = None,
                     drift_counts: Callable[[], Mapping[str, int]] | None = None,
                     policy_counts: Callable[[], Mapping[str, int]] | None = None
                     ) -> Blueprint:
    """`policy_problems`: broken policy sets (--policies), name → error;
    `policy_counts`: every policy set verdict kept, by result."""
    bp = Blueprint("health", __name__)

    def policies() -> dict[str, object]:
        if policy_problems is None:
            return {}
        broken = dict(policy_problems())
        if not broken:
            return {"policies": {"status": "ok"}}
        return {"policies": {
            "status": "broken", "problems": broken,
            "detail": "these policy sets fail every plan (fail closed) until fixed"}}

    @bp.get("/healthz")
    def healthz() -> tuple[Response, int]:
        """Ready while webhooks can be accepted: stored in the database, or, while it
        is away, spooled to local disk (200, status `spooling`). 503 only when
        neither can take them, so a balancer keeps sending deliveries to a replica
        that can keep them."""
        spooled = spool.count()
        if database_ok():
            return jsonify(status="ok", database="ok", spooled=spooled, **policies()), 200
        problem = spool.problem()
        if problem is None:
            return jsonify(status="spooling", database="unavailable", spooled=spooled,
                           **policies(),
                           detail="database unavailable; webhooks are spooled to disk "
                                  "and stored when it is back"), 200
        return jsonify(status="unavailable", database="unavailable", spooled=spooled,
                       **policies(),
                       detail=f"database unavailable and the webhook spool cannot be "
                              f"written ({problem}): webhooks are refused with 503"), 503

    @bp.get("/metrics")
    def metrics() -> Response:
        lines = ["# HELP atlantis_jobs_pending Jobs queued or running.",
                 "# TYPE atlantis_jobs_pending gauge", f"atlantis_jobs_pending {pending()}"]
        lines += [("# HELP atlantis_webhooks_spooled Deliveries waiting in this web process's "
                   "spool for the database."), "# TYPE atlantis_webhooks_spooled gauge",
                  f"atlantis_webhooks_spooled {spool.count()}"]
        lines += _gauge("atlantis_jobs", "Jobs in the queue table by status.", "status",
                        job_counts())
        lines += _gauge("atlantis_iprs", "Infrastructure pull requests by state.", "state",
                        ipr_counts())
        if drift_counts is not None:
            lines += _gauge("atlantis_drift_projects", "Projects by the state of their "
                            "latest drift check.", "state", drift_counts())
        if policy_counts is not None:
            lines += [("# HELP atlantis_policy_checks_total Policy set verdicts on plans, by "
                       "result (passed, failed: a deny, error: not evaluable)."),
                      "# TYPE atlantis_policy_checks_total counter"]
            lines += [f'atlantis_policy_checks_total{{result="{key}"}} {n}'
                      for key, n in sorted(policy_counts().items())]
        lines += ["# HELP atlantis_webhooks_total Webhook deliveries received by this process.",
                  "# TYPE atlantis_webhooks_total counter"]
        lines += [f'atlantis_webhooks_total{{forge="{forge}",outcome="{outcome}"}} {n}'
                  for (forge, outcome), n in sorted(webhooks.snapshot().items())]
        return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")

    return bp
