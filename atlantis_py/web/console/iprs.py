"""The IPR list (tabs, filters, pages, per-state counts) and one IPR's page with
the reviewer's actions, which go through flows/lifecycle.py like the API's, so
the same rules, refusals and audit apply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from atlantis_py.domain.console import IPRPage, IPRQuery, Tab
from atlantis_py.domain.jobs import JobView
from atlantis_py.domain.local import LocalComment
from atlantis_py.domain.records import IPRState, PullRecord, Role, RunRecord, WebSession
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.domain.views import IPRView
from atlantis_py.errors import AtlantisError, Conflict, Forbidden, ForgeError, Invalid, NotFound
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.web.console.auth import Gate
from atlantis_py.web.console.jobs import what

PER_PAGE = 50
MAX_PAGE = 1_000_000
STATUS = {NotFound: 404, Conflict: 409, Forbidden: 403, Invalid: 422}
REVIEWABLE = frozenset({IPRState.PENDING, IPRState.APPROVED, IPRState.REJECTED,
                        IPRState.FAILED})
CANCELLABLE = REVIEWABLE
DONE = {"approved": "Your approval is recorded.", "rejected": "Your rejection is recorded.",
        "cancelled": "The IPR is cancelled and its locks are released.",
        "deploy": "Deploy queued."}


class IPRLister(Protocol):
    def iprs(self, query: IPRQuery) -> IPRPage: ...


def status_of(err: AtlantisError) -> int:
    """The API's status for a refusal: the caller's fault, or the forge's (502)."""
    if isinstance(err, ForgeError):
        return 422 if err.status in (400, 404, 409, 422) else 502
    return next((code for kind, code in STATUS.items() if isinstance(err, kind)), 502)


def forge_link(record: PullRecord) -> str:
    """The pull request's page, from the repository's clone URL."""
    base = record.clone_url.removesuffix(".git")
    if not base.startswith(("https://", "http://")):
        return ""
    if record.forge == "gitlab":
        return f"{base}/-/merge_requests/{record.number}"
    return f"{base}/pull/{record.number}"


def deploy_refusal(view: IPRView) -> str:
    """Why the deploy button is disabled; empty when it is not."""
    if view.blocking:
        return "; ".join(view.blocking)
    if view.state is not IPRState.APPROVED:
        return f"the IPR is {view.state.value}, not APPROVED"
    return ""


def add_ipr_routes(bp: Blueprint, gate: Gate, lifecycle: Lifecycle, lister: IPRLister,
                   plan_runs: Callable[[int], list[RunRecord]],
                   comments: Callable[[int], list[LocalComment]] | None = None,
                   jobs_of: Callable[[PullRecord], list[JobView]] | None = None) -> None:
    def listing_query(session: WebSession) -> IPRQuery:
        args = request.args
        try:
            tab = Tab(args.get("tab") or Tab.ALL.value)
        except ValueError:
            raise Invalid("tab must be awaiting, mine or all") from None
        try:
            state = IPRState(args["state"].upper()) if args.get("state") else None
        except ValueError:
            raise Invalid("state must be one of " + ", ".join(s.value for s in IPRState)) \
                from None
        repo = args.get("repo") or None
        if repo is not None and (problem := repo_name_problem(repo)) is not None:
            raise Invalid(f"repo: {problem}")
        environment = args.get("environment") or None
        if environment is not None and len(environment) > 255:
            raise Invalid("environment: at most 255 characters")
        try:
            page = int(args.get("page", "1"))
        except ValueError:
            raise Invalid("page must be a whole number") from None
        if not 1 <= page <= MAX_PAGE:
            raise Invalid(f"page must be between 1 and {MAX_PAGE}")
        return IPRQuery(user=session.owner.user, tab=tab, state=state, repo=repo,
                        environment=environment, offset=(page - 1) * PER_PAGE,
                        limit=PER_PAGE)

    @bp.get("/")
    def index() -> Response | str:
        session = gate.require(Role.VIEWER)
        try:
            query = listing_query(session)
        except Invalid as err:
            return Response(render_template("denied.html", message=f"Bad filter: {err}",
                                            session=session), 400)
        found = lister.iprs(query)
        page = query.offset // PER_PAGE + 1
        params = {"tab": query.tab.value, "state": query.state.value if query.state else "",
                  "repo": query.repo or "", "environment": query.environment or ""}

        def link(**changes: str | int) -> str:
            merged = {**params, **changes}
            return url_for("console.index") + "?" + urlencode(
                {k: v for k, v in merged.items() if v})

        return render_template("index.html", found=found, query=query, page=page,
                               pages=max(1, -(-found.total // PER_PAGE)), params=params,
                               link=link, session=session, tabs=list(Tab),
                               states=[s.value for s in IPRState])

    def detail_page(ipr_id: int, session: WebSession, *, status: int = 200,
                    error: str = "") -> Response:
        try:
            record = lifecycle.record(ipr_id)
            view = lifecycle.view(ipr_id)
        except NotFound as err:
            return Response(render_template("denied.html", message=str(err),
                                            session=session), 404)
        outputs = {(r.dir, r.workspace): r for r in plan_runs(ipr_id)}
        notice = DONE.get(request.args.get("done", ""), "")
        if notice and request.args.get("job"):
            notice += f" (job {request.args['job']})"
        reviewer = session.owner.role.allows(Role.REVIEWER)
        html = render_template(
            "ipr.html", ipr=view, events=lifecycle.events(ipr_id), session=session,
            forge_url=forge_link(record), outputs=outputs, error=error, notice=notice,
            can_review=reviewer and view.open and view.state in REVIEWABLE,
            can_cancel=reviewer and view.state in CANCELLABLE,
            can_deploy=reviewer, deploy_refusal=deploy_refusal(view),
            jobs=jobs_of(record) if jobs_of is not None else None, what=what,
            comments=comments(ipr_id) if comments is not None and view.forge == "local"
            else None)
        return Response(html, status)

    @bp.get("/ipr/<int:ipr_id>")
    def detail(ipr_id: int) -> Response:
        return detail_page(ipr_id, gate.require(Role.VIEWER))

    def act(ipr_id: int, session: WebSession, action: Callable[[], str]) -> BaseResponse:
        try:
            done = action()
        except AtlantisError as err:
            return detail_page(ipr_id, session, status=status_of(err), error=str(err))
        return redirect(url_for("console.detail", ipr_id=ipr_id) + "?" + done, 303)

    @bp.post("/ipr/<int:ipr_id>/approve")
    def approve(ipr_id: int) -> BaseResponse:
        session = gate.require(Role.REVIEWER)

        def run() -> str:
            lifecycle.review(ipr_id, session.owner.user, approve=True,
                             comment=request.form.get("comment", "").strip())
            return "done=approved"
        return act(ipr_id, session, run)

    @bp.post("/ipr/<int:ipr_id>/reject")
    def reject(ipr_id: int) -> BaseResponse:
        session = gate.require(Role.REVIEWER)

        def run() -> str:
            reason = request.form.get("reason", "").strip()
            if not reason:
                raise Invalid("a rejection needs a reason: say what must change")
            lifecycle.review(ipr_id, session.owner.user, approve=False, comment=reason)
            return "done=rejected"
        return act(ipr_id, session, run)

    @bp.post("/ipr/<int:ipr_id>/deploy")
    def deploy(ipr_id: int) -> BaseResponse:
        session = gate.require(Role.REVIEWER)
        return act(ipr_id, session,
                   lambda: f"done=deploy&job={lifecycle.deploy(ipr_id, session.owner.user)}")

    @bp.post("/ipr/<int:ipr_id>/cancel")
    def cancel(ipr_id: int) -> BaseResponse:
        session = gate.require(Role.REVIEWER)

        def run() -> str:
            lifecycle.cancel(ipr_id, session.owner.user,
                             request.form.get("reason", "").strip() or
                             f"cancelled in the console by {session.owner.user}")
            return "done=cancelled"
        return act(ipr_id, session, run)
