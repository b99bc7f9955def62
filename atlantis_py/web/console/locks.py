"""Every project lock with the pull request holding it; admins release one,
giving a reason (audited and commented on the pull request)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from atlantis_py.domain.console import LockView
from atlantis_py.domain.records import Role, WebSession
from atlantis_py.errors import AtlantisError
from atlantis_py.flows.unlocks import Unlocks
from atlantis_py.web.console.auth import Gate
from atlantis_py.web.console.iprs import status_of


def add_lock_routes(bp: Blueprint, gate: Gate, locks: Callable[[], list[LockView]],
                    unlocks: Unlocks) -> None:
    def page(session: WebSession, *, status: int = 200, error: str = "",
             notice: str = "") -> Response:
        return Response(render_template(
            "locks.html", locks=locks(), session=session, error=error, notice=notice,
            can_unlock=session.owner.role.allows(Role.ADMIN)), status)

    @bp.get("/locks")
    def lock_list() -> Response:
        session = gate.require(Role.VIEWER)
        released = request.args.get("released", "")
        return page(session, notice=f"Released the lock on {released}." if released else "")

    @bp.post("/locks/<int:lock_id>/unlock")
    def unlock(lock_id: int) -> BaseResponse:
        session = gate.require(Role.ADMIN)
        try:
            lock = unlocks.unlock(lock_id, session.owner.user, request.form.get("reason", ""))
        except AtlantisError as err:
            return page(session, status=status_of(err), error=str(err))
        return redirect(url_for("console.lock_list",
                                released=f"{lock.repo} {lock.dir} ({lock.workspace})"), 303)
