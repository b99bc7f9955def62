"""A read-only web page: the IPR list and one IPR with its plans, approvals and trail.

Browsers can't send bearer tokens by themselves, so the page asks for HTTP Basic
credentials and takes the password as an API token (any user name); the same
roles apply as for the API.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from flask import Blueprint, Response, render_template, request

from atlantis_py.domain.local import LocalComment
from atlantis_py.domain.records import IPRState, Role, TokenOwner
from atlantis_py.errors import Invalid, NotFound
from atlantis_py.flows.lifecycle import Lifecycle

CHALLENGE = {"WWW-Authenticate": 'Basic realm="atlantis-py (password: an API token)"'}


def pages_blueprint(lifecycle: Lifecycle,
                    token_owner: Callable[[str], TokenOwner | None],
                    comments: Callable[[int], list[LocalComment]] | None = None) -> Blueprint:
    """`comments`: an IPR's comments, for forges that keep them with us."""
    bp = Blueprint("pages", __name__, template_folder="templates")

    def viewer() -> TokenOwner | None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            _, _, token = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        owner = token_owner(token)
        return owner if owner is not None and owner.role.allows(Role.VIEWER) else None

    def denied() -> Response:
        return Response("An API token is required (as the password).", 401, CHALLENGE)

    @bp.get("/")
    def index() -> Response | str:
        owner = viewer()
        if owner is None:
            return denied()
        state = request.args.get("state") or None
        repo = request.args.get("repo") or None
        try:
            page = max(1, int(request.args.get("page", "1")))
            records, total = lifecycle.search(state=state, repo=repo, page=page, per_page=50)
        except (ValueError, Invalid) as err:
            return Response(f"Bad filter: {err}", 400)
        return render_template("index.html", records=records, total=total, page=page,
                               state=state or "", repo=repo or "", owner=owner,
                               states=[s.value for s in IPRState])

    @bp.get("/ipr/<int:ipr_id>")
    def detail(ipr_id: int) -> Response | str:
        owner = viewer()
        if owner is None:
            return denied()
        try:
            view = lifecycle.view(ipr_id)
        except NotFound as err:
            return Response(str(err), 404)
        kept: list[LocalComment] | None = None
        if comments is not None:
            try:
                kept = comments(ipr_id)
            except Invalid:
                kept = None  # on the forge, where the IPR links to
        return render_template("ipr.html", ipr=view, events=lifecycle.events(ipr_id),
                               owner=owner, comments=kept)

    return bp
