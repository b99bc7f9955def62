"""The Drift page: the latest drift check of each project, filterable by
repository, for everyone signed in."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, render_template, request

from atlantis_py.domain.drift import DriftResult
from atlantis_py.domain.records import Role
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.web.console.auth import Gate


def add_drift_routes(bp: Blueprint, gate: Gate,
                     latest: Callable[[str | None], list[DriftResult]]) -> None:
    @bp.get("/drift")
    def drift_list() -> Response:
        session = gate.require(Role.VIEWER)
        repo = request.args.get("repo", "").strip() or None
        problem = repo_name_problem(repo) if repo is not None else None
        results = [] if problem else latest(repo)
        return Response(render_template("drift.html", results=results, repo=repo or "",
                                        error=problem or "", session=session),
                        422 if problem else 200)
