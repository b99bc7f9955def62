"""The IPR list and one IPR's page, with the reviewer's actions."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from atlantis_py.domain.records import IPRState, Role
from atlantis_py.errors import Invalid, NotFound
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.web.console.auth import Gate


def add_ipr_routes(bp: Blueprint, gate: Gate, lifecycle: Lifecycle) -> None:
    @bp.get("/")
    def index() -> Response | str:
        session = gate.require(Role.VIEWER)
        state = request.args.get("state") or None
        repo = request.args.get("repo") or None
        try:
            page = max(1, int(request.args.get("page", "1")))
            records, total = lifecycle.search(state=state, repo=repo, page=page, per_page=50)
        except (ValueError, Invalid) as err:
            return Response(f"Bad filter: {err}", 400)
        return render_template("index.html", records=records, total=total, page=page,
                               state=state or "", repo=repo or "", session=session,
                               states=[s.value for s in IPRState])

    @bp.get("/ipr/<int:ipr_id>")
    def detail(ipr_id: int) -> Response | str:
        session = gate.require(Role.VIEWER)
        try:
            view = lifecycle.view(ipr_id)
        except NotFound as err:
            return Response(str(err), 404)
        return render_template("ipr.html", ipr=view, events=lifecycle.events(ipr_id),
                               session=session)
