"""The job queue in the console: queued, running, retrying, failed and done jobs
with their pull requests, and each job's log, kept after it ends and followed
live (server-sent events) while it runs. Anyone signed in may look; an admin
may make a job that waits to retry try again now.

The log stream polls the job's stored lines after a cursor (the last line id it
sent, which the browser hands back when it reconnects), so a console on one
replica follows a job running on another; the jobs list refreshes itself as
the IPR list does. Streams are few and short, as the IPR list's (stream.py):
each holds one of the web server's 8 threads; log and list streams share 2
slots, so with the IPR list's 3 at most 5 threads are held by streams.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers.response import Response as BaseResponse

from atlantis_py.domain.events import CommentEvent, PullRequestEvent
from atlantis_py.domain.jobs import ACTIVE, JobPage, JobQuery, JobState, JobView, LogLine
from atlantis_py.domain.records import Role, WebSession
from atlantis_py.errors import Invalid
from atlantis_py.queue.payloads import ApplyJob, EventJob, NotifyJob, PayloadError, PlanJob
from atlantis_py.web.console.auth import Gate
from atlantis_py.web.console.stream import in_slot, sse, stopping, version_events

PER_PAGE = 50
MAX_PAGE = 100_000
BATCH = 500  # lines per poll of a stream
HEARTBEAT = 5.0  # seconds without lines before a stream writes a comment
SHOWN = {"active": ACTIVE, "failed": (JobState.FAILED, JobState.INTERRUPTED),
         "done": (JobState.DONE,), "all": ()}
SHOWN_NAMES = {"active": "Queued, running and retrying", "failed": "Failed",
               "done": "Done", "all": "All"}


@dataclass(frozen=True)
class JobSources:
    """What the jobs pages read, and the one thing they change."""

    page: Callable[[JobQuery], JobPage]
    job: Callable[[int], JobView | None]
    tail: Callable[[int], list[LogLine]]
    lines_after: Callable[[int, int, int], list[LogLine]]
    retry_now: Callable[[int], bool]
    version: Callable[[], str] = lambda: ""


def what(job: JobView) -> str:
    """What the job was asked to do, in a few words."""
    try:
        if job.kind == EventJob.KIND:
            event = EventJob.decode(job.payload).event
            if isinstance(event, CommentEvent):
                first = (event.body.strip().splitlines() or [""])[0]
                return f"comment by {event.author}: {first[:60]}"
            if isinstance(event, PullRequestEvent):
                return f"pull request {event.action.value} by {event.sender}"
            return f"review by {event.reviewer}: {event.state}"
    except PayloadError:
        return job.kind
    named = {PlanJob.KIND: "plan (API)", ApplyJob.KIND: "deploy (API)",
             NotifyJob.KIND: "comment or status to post", "webhook": "webhook"}
    return named.get(job.kind, job.kind)


def _cursor(value: str | None) -> int:
    try:
        return max(0, int(value or "0"))
    except ValueError:
        return 0


def add_job_routes(bp: Blueprint, gate: Gate, sources: JobSources, *, max_streams: int = 2,
                   lifetime: float = 25.0, every: float = 0.5) -> None:
    slots = threading.BoundedSemaphore(max_streams)

    @bp.get("/jobs")
    def job_list() -> Response:
        session = gate.require(Role.VIEWER)
        shown = request.args.get("show") or "active"
        try:
            if shown not in SHOWN:
                raise Invalid("show must be one of " + ", ".join(SHOWN))
            page = int(request.args.get("page", "1"))
            if not 1 <= page <= MAX_PAGE:
                raise Invalid(f"page must be between 1 and {MAX_PAGE}")
        except ValueError:
            return _refused(session, "page must be a whole number")
        except Invalid as err:
            return _refused(session, str(err))
        found = sources.page(JobQuery(states=SHOWN[shown], offset=(page - 1) * PER_PAGE,
                                      limit=PER_PAGE))

        def link(**changes: str | int) -> str:
            merged = {"show": shown, "page": page, **changes}
            return url_for("console.job_list") + "?" + urlencode(
                {k: v for k, v in merged.items() if v and v != 1})

        counts = {name: sum(found.counts.get(s.value, 0) for s in states) if states
                  else sum(found.counts.values()) for name, states in SHOWN.items()}
        return Response(render_template(
            "jobs.html", found=found, shown=shown, names=SHOWN_NAMES, counts=counts, what=what,
            page=page, pages=max(1, -(-found.total // PER_PAGE)), link=link,
            session=session))

    def detail_page(job_id: int, session: WebSession, *, status: int = 200,
                    error: str = "", notice: str = "") -> Response:
        job = sources.job(job_id)
        if job is None:
            return Response(render_template(
                "denied.html", message=f"job {job_id} is not kept (finished jobs are "
                                       "forgotten after 30 days)", session=session), 404)
        lines = sources.tail(job_id)
        return Response(render_template(
            "job.html", job=job, what=what(job), log="".join(f"{line.text}\n" for line in lines),
            after=lines[-1].id if lines else 0,
            live=not job.state.finished, session=session, error=error, notice=notice,
            can_retry=session.owner.role.allows(Role.ADMIN)
            and job.state is JobState.RETRYING), status)

    @bp.get("/jobs/<int:job_id>")
    def job_detail(job_id: int) -> Response:
        session = gate.require(Role.VIEWER)
        notice = "It will be tried again now." if request.args.get("retried") else ""
        return detail_page(job_id, session, notice=notice)

    @bp.post("/jobs/<int:job_id>/retry")
    def job_retry(job_id: int) -> BaseResponse:
        session = gate.require(Role.ADMIN)
        if not sources.retry_now(job_id):
            return detail_page(job_id, session, status=409,
                               error="this job is not waiting to retry")
        return redirect(url_for("console.job_detail", job_id=job_id, retried=1), 303)

    @bp.get("/stream/joblist")
    def job_list_stream() -> Response:
        """Says `changed` when the job table moves, as /stream/iprs does for IPRs
        (the browser reconnects with the last version it saw)."""
        gate.require(Role.VIEWER)
        seen = request.headers.get("Last-Event-ID", "")
        return sse(in_slot(slots, version_events(sources.version, seen, lifetime, 1.0,
                                                 stopping())))

    @bp.get("/stream/jobs/<int:job_id>")
    def job_stream(job_id: int) -> Response:
        gate.require(Role.VIEWER)
        after = _cursor(request.headers.get("Last-Event-ID") or request.args.get("after"))
        stop = stopping()

        def events() -> Iterator[str]:
            cursor = after
            yield "retry: 1000\n\n"
            deadline = time.monotonic() + lifetime
            quiet_until = time.monotonic() + HEARTBEAT
            while True:
                lines = sources.lines_after(job_id, cursor, BATCH)
                for line in lines:
                    cursor = line.id
                    yield f"id: {line.id}\ndata: {line.text}\n\n"
                if len(lines) == BATCH:
                    continue
                job = sources.job(job_id)
                if job is None or job.state.finished:
                    # lines written before it finished may have come after the read
                    while rest := sources.lines_after(job_id, cursor, BATCH):
                        for line in rest:
                            cursor = line.id
                            yield f"id: {line.id}\ndata: {line.text}\n\n"
                    state = job.state.value if job is not None else "forgotten"
                    yield f"event: end\nid: {cursor}\ndata: {state}\n\n"
                    return
                now = time.monotonic()
                if now >= deadline:
                    return
                if not lines and now >= quiet_until:
                    yield ": waiting\n\n"  # a browser that left frees its slot here
                    quiet_until = now + HEARTBEAT
                if stop.wait(every):
                    return

        return sse(in_slot(slots, events()))


def _refused(session: WebSession, message: str) -> Response:
    return Response(render_template("denied.html", message=f"Bad filter: {message}",
                                    session=session), 400)
