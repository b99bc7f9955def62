"""/api/v1/drift: the latest drift check of each project, and checks on request.

Registered on the API blueprint (web/api.py), so it shares its tokens, body
limits and JSON errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify

from atlantis_py.domain.drift import DriftResult
from atlantis_py.domain.records import Role
from atlantis_py.errors import Invalid
from atlantis_py.flows.drift_schedule import DriftRun, DriftScheduler

RUN_KEYS = ("repo", "project", "at")


def drift_json(result: DriftResult) -> dict[str, Any]:
    return {"forge": result.forge, "repo": result.repo, "project": result.project,
            "dir": result.dir, "workspace": result.workspace,
            "environment": result.environment, "state": result.state.value,
            "head_sha": result.head_sha, "add": result.add, "change": result.change,
            "destroy": result.destroy,
            "resources": [{"address": r.address, "actions": list(r.actions)}
                          for r in result.resources],
            "detail": result.detail, "trigger": result.trigger,
            "checked_at": (result.checked_at.isoformat() + "Z") if result.checked_at else None}


def run_json(run: DriftRun) -> dict[str, Any]:
    return {"queued": [{"job": q.job, "forge": q.forge, "repo": q.repo,
                        "environment": q.environment, "project": q.project, "slot": q.slot}
                       for q in run.queued],
            "problems": list(run.problems)}


def drift_routes(bp: Blueprint, drift: DriftScheduler,
                 requires: Callable[[Role], Callable[[Any], Any]],
                 arg: Callable[[str], str | None],
                 body: Callable[[], dict[str, Any]],
                 text: Callable[[dict[str, Any], str, str | None], str]) -> None:
    @bp.get("/drift")
    @requires(Role.VIEWER)
    def list_drift() -> Response:
        return jsonify(items=[drift_json(r) for r in drift.latest(arg("repo"))])

    @bp.post("/drift/run")
    @requires(Role.REVIEWER)
    def run_drift() -> tuple[Response, int]:
        data = body()
        unknown = sorted(set(data) - set(RUN_KEYS))
        if unknown:
            raise Invalid(f"unknown field {unknown[0]!r}; allowed: {', '.join(RUN_KEYS)}")
        repo = text(data, "repo", None) if "repo" in data else None
        project = text(data, "project", "") or None
        at_text = text(data, "at", "")
        at = None
        if at_text:
            try:
                at = datetime.fromisoformat(at_text)
            except ValueError:
                raise Invalid("at must be an ISO 8601 time such as "
                              "2026-03-29T06:00:00+02:00") from None
        run = drift.run(repo, project, g.owner.user, at)
        return jsonify(run_json(run)), 202
