"""The review console: server-rendered pages behind a sign-in, with the same
operations (flows/lifecycle.py) and roles as the API.

Pages carry a strict Content-Security-Policy (no inline script or style, assets
only from this app) and every form a CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from atlantis_py.domain.console import LockView
from atlantis_py.domain.drift import DriftResult
from atlantis_py.domain.jobs import JobView
from atlantis_py.domain.local import LocalComment
from atlantis_py.domain.records import PullRecord, RunRecord
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.unlocks import Unlocks
from atlantis_py.web.console.auth import Denied, Gate, Sessions, SignInLimiter, add_auth_routes
from atlantis_py.web.console.drift import add_drift_routes
from atlantis_py.web.console.iprs import IPRLister, add_ipr_routes
from atlantis_py.web.console.jobs import JobSources, add_job_routes
from atlantis_py.web.console.locks import add_lock_routes
from atlantis_py.web.console.stream import add_stream_routes

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}


def console_blueprint(lifecycle: Lifecycle, sessions: Sessions, lister: IPRLister,
                      plan_runs: Callable[[int], list[RunRecord]],
                      locks: Callable[[], list[LockView]], unlocks: Unlocks,
                      version: Callable[[], str], *,
                      secure_cookies: bool = False,
                      limiter: SignInLimiter | None = None,
                      comments: Callable[[int], list[LocalComment]] | None = None,
                      drift: Callable[[str | None], list[DriftResult]] | None = None,
                      jobs: JobSources | None = None,
                      jobs_of: Callable[[PullRecord], list[JobView]] | None = None
                      ) -> Blueprint:
    """`comments`: the IPR's comments when its forge keeps them here (the local forge);
    `drift`: the latest drift check per project (by repository, or all); `jobs`:
    the job queue and logs; `jobs_of`: an IPR's newest jobs."""
    bp = Blueprint("console", __name__, template_folder="../templates",
                   static_folder="../static", static_url_path="/assets")
    gate = Gate(sessions, secure_cookies=secure_cookies, limiter=limiter)

    @bp.after_request
    def headers(response: Response) -> BaseResponse:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "console.static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @bp.errorhandler(Denied)
    def denied(err: Denied) -> BaseResponse:
        if err.status == 401 and request.method == "GET":
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")),
                            303)
        return Response(render_template("denied.html", message=err.message,
                                        session=gate.session()), err.status)

    add_auth_routes(bp, gate)
    add_ipr_routes(bp, gate, lifecycle, lister, plan_runs, comments, jobs_of)
    add_lock_routes(bp, gate, locks, unlocks)
    add_stream_routes(bp, gate, version)
    add_drift_routes(bp, gate, drift or (lambda _repo: []))
    if jobs is not None:
        add_job_routes(bp, gate, jobs)
    return bp
