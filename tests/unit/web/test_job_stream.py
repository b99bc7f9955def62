"""A job's log stream: it resumes after the browser's last line (Last-Event-ID
beats ?after=), ends once the job has finished and every line is out, and holds
at most `max_streams` of the web server's threads. And what a job was asked to
do, in a few words."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from flask import Blueprint, Flask

from atlantis_py.domain.events import CommentEvent, Repo
from atlantis_py.domain.jobs import JobPage, JobQuery, JobState, JobView, LogLine
from atlantis_py.domain.records import Role, TokenOwner, WebSession
from atlantis_py.queue.payloads import EventJob, NotifyJob
from atlantis_py.web.console.auth import SESSION_COOKIE, Gate
from atlantis_py.web.console.jobs import JobSources, add_job_routes, what

SESSION = WebSession(TokenOwner("vera", Role.VIEWER), "csrf", datetime(2100, 1, 1))


class Sessions:
    def start(self, token: str) -> tuple[str, WebSession] | None:
        return None

    def get(self, value: str) -> WebSession | None:
        return SESSION if value == "good" else None

    def end(self, value: str) -> None:
        pass


class Queue:
    def __init__(self, state: JobState, lines: list[str]) -> None:
        self.state = state
        self.lines = [LogLine(n + 1, text) for n, text in enumerate(lines)]

    def job(self, job_id: int) -> JobView | None:
        return JobView(id=job_id, kind="event", state=self.state, attempts=1,
                       created_at=datetime(2026, 1, 1), started_at=None, finished_at=None,
                       next_retry=None, error="", projects=())

    def lines_after(self, job_id: int, after: int, limit: int) -> list[LogLine]:
        return [line for line in self.lines if line.id > after][:limit]

    def sources(self) -> JobSources:
        def page(query: JobQuery) -> JobPage:
            return JobPage((), 0, {})

        return JobSources(page=page, job=self.job, tail=lambda _: self.lines,
                          lines_after=self.lines_after, retry_now=lambda _: False)


def app_for(queue: Queue, max_streams: int = 2, lifetime: float = 25.0,
            every: float = 0.5) -> Flask:
    app = Flask(__name__)
    bp = Blueprint("console", __name__)
    add_job_routes(bp, Gate(Sessions(), secure_cookies=False), queue.sources(),
                   max_streams=max_streams, lifetime=lifetime, every=every)
    app.register_blueprint(bp)
    return app


def test_a_stream_resumes_after_the_last_line_seen_and_ends_with_the_job() -> None:
    queue = Queue(JobState.DONE, ["one", "two", "<three>"])
    client = app_for(queue).test_client()
    client.set_cookie(SESSION_COOKIE, "good")
    body = client.get("/stream/jobs/4?after=0", headers={"Last-Event-ID": "1"}).text
    assert body == ("retry: 1000\n\nid: 2\ndata: two\n\nid: 3\ndata: <three>\n\n"
                    "event: end\nid: 3\ndata: done\n\n")
    assert client.get("/stream/jobs/4?after=3").text.endswith("event: end\nid: 3\ndata: done\n\n")
    assert "data: one" in client.get("/stream/jobs/4?after=junk").text


def test_streams_are_few() -> None:
    queue = Queue(JobState.RUNNING, ["one"])
    client = app_for(queue, max_streams=1, lifetime=60, every=0.01).test_client()
    client.set_cookie(SESSION_COOKIE, "good")
    first = client.get("/stream/jobs/4", buffered=False)
    chunks = iter(first.response)
    assert next(chunks) == b"retry: 1000\n\n"  # it holds the only slot now
    busy = client.get("/stream/jobs/4").text
    assert busy == "retry: 15000\n\n"
    first.close()  # the browser went away: the slot is free again
    again = client.get("/stream/jobs/4", buffered=False)
    assert next(iter(again.response)) == b"retry: 1000\n\n"
    again.close()


def test_what_a_job_was_asked_to_do() -> None:
    job = Queue(JobState.DONE, []).job(1)
    assert job is not None
    comment = EventJob(CommentEvent(Repo("github", "a/b", ""), 1, 9,
                                    "atlantis plan -p network\nplease", "bob"))
    assert what(dataclasses.replace(job, payload=comment.encode())) == \
        "comment by bob: atlantis plan -p network"
    notice = NotifyJob("github", "a/b", 1, "hello")
    assert what(dataclasses.replace(job, kind="notify", payload=notice.encode())) == \
        "comment or status to post"
    assert what(dataclasses.replace(job, payload="not json")) == "event"
    assert what(dataclasses.replace(job, kind="something-new")) == "something-new"
