"""REST API /api/v1: the IPR lifecycle for tools and people without the forge open.

Bearer tokens identify the caller; the reviewer is the token's user, never a
field in the body. Errors are JSON `{"error": message}` with the status code
that says what kind of problem it is.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from atlantis_py.domain.local import LocalComment
from atlantis_py.domain.records import AuditEvent, PullRecord, Role, TokenOwner
from atlantis_py.domain.views import IPRView
from atlantis_py.errors import AtlantisError, Conflict, Forbidden, ForgeError, Invalid, NotFound
from atlantis_py.flows.drift_schedule import DriftScheduler
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.web.openapi import OPENAPI

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403, Invalid: 422}
PREFIX = "/api/v1"
MAX_BODY = 1024 * 1024
# the forge refused what the caller asked for (no such repo or branch, a pull
# request that exists already): the caller's to fix, not a failure of the forge
CALLERS_FAULT = frozenset({400, 404, 409, 422})


def plain(value: Any) -> Any:
    """Dataclasses, enums and datetimes as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def summary(record: PullRecord) -> dict[str, Any]:
    return {"id": record.id, "forge": record.forge, "repo": record.repo,
            "pull_number": record.number, "title": record.title, "author": record.author,
            "state": record.state.value, "open": record.open, "head_sha": record.head_sha,
            "updated_at": plain(record.updated_at)}


def ipr_json(view: IPRView) -> dict[str, Any]:
    data: dict[str, Any] = plain(view)
    data["pull_number"] = view.pull_number
    return data


def event_json(event: AuditEvent) -> dict[str, Any]:
    data: dict[str, Any] = plain(event)
    data["ipr_id"] = data.pop("pull_id")
    return data


def error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def http_error(err: HTTPException) -> HTTPException | tuple[Response, int]:
    """Routing and protocol errors (404, 405, 413 …) as JSON under /api/v1; the
    pages and webhooks keep Flask's own answers."""
    if not (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        return err
    status = err.code or 500
    messages = {404: f"no such endpoint: {request.method} {request.path}",
                405: f"{request.method} is not allowed on {request.path}",
                413: f"the request body is larger than {MAX_BODY} bytes",
                500: "internal error; the server's log has the details"}
    response, _ = error(status, messages.get(status, err.description or err.name))
    if isinstance(err, MethodNotAllowed) and err.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(err.valid_methods))
    return response, status


def api_blueprint(lifecycle: Lifecycle,
                  token_owner: Callable[[str], TokenOwner | None],
                  comments: Callable[[int], list[LocalComment]] | None = None,
                  post_comment: Callable[[int, str, str], bool] | None = None,
                  drift: DriftScheduler | None = None) -> Blueprint:
    """`comments`: the comments of an IPR, for forges that keep them with us;
    `post_comment(ipr, user, body)` adds one (True: it asks for work);
    `drift`: the drift checks' results and requests (web/drift_api.py)."""
    bp = Blueprint("api", __name__, url_prefix=PREFIX)
    bp.app_errorhandler(HTTPException)(http_error)

    @bp.before_request
    def limit_body() -> None:
        request.max_content_length = MAX_BODY
        if (request.content_length or 0) > MAX_BODY:
            raise RequestEntityTooLarge()

    def requires(role: Role) -> Callable[[F], F]:
        def wrap(fn: F) -> F:
            @wraps(fn)
            def inner(*args: Any, **kwargs: Any) -> Any:
                scheme, _, token = request.headers.get("Authorization", "").partition(" ")
                owner = token_owner(token.strip()) if scheme.lower() == "bearer" else None
                if owner is None:
                    return error(401, "a valid bearer token is required "
                                      "(create one with `atlantis-py token create`)")
                if not owner.role.allows(role):
                    return error(403, f"{owner.user} has role {owner.role.value}; "
                                      f"this needs {role.value}")
                g.owner = owner
                return fn(*args, **kwargs)
            return inner  # type: ignore[return-value]
        return wrap

    def body() -> dict[str, Any]:
        raw = request.get_data()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            raise BadJSON("the request body is not valid JSON") from None
        except RecursionError:
            raise BadJSON("the request body is nested too deeply") from None
        if not isinstance(data, dict):
            raise BadJSON("the request body must be a JSON object")
        return data

    def arg(name: str) -> str | None:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise Invalid(f"give {name} once, not {len(values)} times")
        return values[0] if values else None

    def text(data: dict[str, Any], key: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if value is None:
            raise Invalid(f"{key} is required")
        if not isinstance(value, str):
            raise Invalid(f"{key} must be a string")
        if "\x00" in value or not _encodable(value):
            raise Invalid(f"{key} must be UTF-8 text without NUL characters")
        return value

    @bp.errorhandler(AtlantisError)
    def on_error(err: AtlantisError) -> tuple[Response, int]:
        for kind, status in STATUS.items():
            if isinstance(err, kind):
                return error(status, str(err))
        if isinstance(err, ForgeError) and err.status in CALLERS_FAULT:
            return error(422, str(err))
        log.warning("API request failed: %s", err)
        return error(502, str(err))

    @bp.errorhandler(BadJSON)
    def on_bad_json(err: BadJSON) -> tuple[Response, int]:
        return error(400, str(err))

    @bp.get("/openapi.json")
    def openapi() -> Response:
        return jsonify(OPENAPI)

    @bp.get("/ipr")
    @requires(Role.VIEWER)
    def list_iprs() -> Response:
        page_arg, per_page_arg = arg("page"), arg("per_page")
        try:
            page = 1 if page_arg is None else int(page_arg)
            per_page = 50 if per_page_arg is None else int(per_page_arg)
        except ValueError:
            raise Invalid("page and per_page must be whole numbers") from None
        records, total = lifecycle.search(state=arg("state"), repo=arg("repo"), page=page,
                                          per_page=per_page)
        return jsonify(items=[summary(r) for r in records], page=page, per_page=per_page,
                       total=total)

    @bp.post("/ipr")
    @requires(Role.REVIEWER)
    def create_ipr() -> tuple[Response, int]:
        data = body()
        forges = list(lifecycle.svc.forges)
        default = forges[0] if len(forges) == 1 else "github"
        view = lifecycle.create(forge=text(data, "forge", default), repo=text(data, "repo"),
                                head=text(data, "head"), base=text(data, "base", "main"),
                                title=text(data, "title"),
                                description=text(data, "description", ""),
                                actor=g.owner.user)
        return jsonify(ipr_json(view)), 201

    @bp.get("/ipr/<int(signed=True):ipr_id>")
    @requires(Role.VIEWER)
    def get_ipr(ipr_id: int) -> Response:
        return jsonify(ipr_json(lifecycle.view(ipr_id)))

    @bp.post("/ipr/<int(signed=True):ipr_id>/review")
    @requires(Role.REVIEWER)
    def review_ipr(ipr_id: int) -> Response:
        data = body()
        decision = text(data, "decision")
        if decision not in ("approve", "reject"):
            raise Invalid("decision must be 'approve' or 'reject'")
        view = lifecycle.review(ipr_id, g.owner.user, approve=decision == "approve",
                                comment=text(data, "comment", ""))
        return jsonify(ipr_json(view))

    @bp.post("/ipr/<int(signed=True):ipr_id>/deploy")
    @requires(Role.REVIEWER)
    def deploy_ipr(ipr_id: int) -> tuple[Response, int]:
        job = lifecycle.deploy(ipr_id, g.owner.user)
        return jsonify(ipr=ipr_id, job=job, status="queued"), 202

    @bp.post("/ipr/<int(signed=True):ipr_id>/cancel")
    @requires(Role.REVIEWER)
    def cancel_ipr(ipr_id: int) -> Response:
        data = body()
        view = lifecycle.cancel(ipr_id, g.owner.user, text(data, "reason", ""))
        return jsonify(ipr_json(view))

    @bp.get("/ipr/<int(signed=True):ipr_id>/events")
    @requires(Role.VIEWER)
    def ipr_events(ipr_id: int) -> Response:
        events = [event_json(e) for e in lifecycle.events(ipr_id)]
        fmt = arg("format")
        if fmt not in (None, "json", "jsonl"):
            raise Invalid("format must be json or jsonl")
        if fmt == "jsonl":
            lines = "".join(json.dumps(e, sort_keys=True) + "\n" for e in events)
            return Response(lines, mimetype="application/x-ndjson")
        return jsonify(items=events)

    # one rule for both methods: two rules with a number converter answer a number
    # too long to convert with 405 instead of 404 (werkzeug's matcher)
    @bp.route("/ipr/<int(signed=True):ipr_id>/comments", methods=["GET", "POST"])
    def ipr_comments(ipr_id: int) -> Any:
        if request.method == "POST":
            return add_ipr_comment(ipr_id)
        return read_ipr_comments(ipr_id)

    @requires(Role.VIEWER)
    def read_ipr_comments(ipr_id: int) -> Response:
        record = lifecycle.record(ipr_id)
        if comments is None:
            raise Invalid(f"the comments of IPR {ipr_id} are on {record.forge}, "
                          "not kept by this server")
        return jsonify(items=[{"author": c.author, "body": c.body,
                               "at": c.created_at.isoformat() + "Z"}
                              for c in comments(ipr_id)])

    @requires(Role.REVIEWER)
    def add_ipr_comment(ipr_id: int) -> tuple[Response, int]:
        data = body()
        record = lifecycle.record(ipr_id)
        if post_comment is None:
            raise Invalid(f"IPR {ipr_id} is on {record.forge}: comment there, not through "
                          "this server")
        queued = post_comment(ipr_id, g.owner.user, text(data, "body"))
        return jsonify(ipr=ipr_id, status="queued" if queued else "posted"), 201

    if drift is not None:
        from atlantis_py.web.drift_api import drift_routes

        drift_routes(bp, drift, requires, arg, body, text)
    return bp


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


class BadJSON(Exception):
    pass
