"""Jobs' logs and the console's view of the queue, on both engines: lines after a
cursor, the last MAX lines kept, forgotten with the job; jobs by state with
their pull request and IPR; a waiting retry made due now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.jobs import JobQuery, JobState
from atlantis_py.domain.records import JobStatus
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.job_logs import MAX_LINE, JobLogStore
from atlantis_py.store.job_views import JobViews, pull_of
from atlantis_py.store.jobs import JobStore
from atlantis_py.store.pulls import PullStore

KEY = "github:acme/infra#4"


def test_lines_after_a_cursor_and_only_the_last_ones_kept(db: Database) -> None:
    jobs, logs = JobStore(db), JobLogStore(db, max_lines=5)
    job_id, other = jobs.enqueue("event", KEY, "{}"), jobs.enqueue("event", KEY, "{}")
    logs.append(job_id, ["one", "two", "three"])
    logs.append(other, ["elsewhere"])
    first = logs.lines_after(job_id, 0)
    assert [line.text for line in first] == ["one", "two", "three"]
    logs.append(job_id, ["four", "five", "six", "x" * (MAX_LINE + 5)])
    newer = logs.lines_after(job_id, first[-1].id)
    assert [line.text for line in newer][:3] == ["four", "five", "six"]
    assert newer[-1].text.endswith(" [line cut]") and len(newer[-1].text) < MAX_LINE + 20
    assert [line.text for line in logs.tail(job_id)] == [
        "three", "four", "five", "six", newer[-1].text]  # the last 5
    assert [line.text for line in logs.tail(job_id, 2)] == ["six", newer[-1].text]
    assert [line.text for line in logs.tail(other)] == ["elsewhere"]


def test_a_log_goes_when_housekeeping_forgets_its_job(db: Database) -> None:
    jobs, logs = JobStore(db), JobLogStore(db)
    done, running = jobs.enqueue("event", KEY, "{}"), jobs.enqueue("event", "other", "{}")
    logs.append(done, ["kept until pruned"])
    logs.append(running, ["still running"])
    jobs.finish(done, JobStatus.DONE)
    jobs.prune(timedelta(days=1))
    assert len(logs.tail(done)) == 1  # not old enough
    jobs.prune(timedelta(0))
    assert logs.tail(done) == [] and len(logs.tail(running)) == 1


def test_jobs_by_state_with_their_pull_request(open_db: Callable[[], Database]) -> None:
    db = open_db()
    jobs, views, logs = JobStore(db), JobViews(db), JobLogStore(db)
    record = PullStore(db).upsert(PullRequest(Repo("github", "acme/infra", ""), 4, "alice",
                                              "a" * 40, "feature", "main", "Bigger VPC"))
    versions = [views.version()]
    queued = jobs.enqueue("event", KEY, "{}")
    waiting = jobs.enqueue("plan", "github:acme/infra#5", "{}")
    done = jobs.enqueue("notify", "local:x/y#1", "{}")
    versions.append(views.version())
    jobs.finish(done, JobStatus.DONE)
    versions.append(views.version())
    now = utcnow()
    jobs.retry_later(waiting, now + timedelta(minutes=5), now, "TransientForgeError: 502")
    versions.append(views.version())
    assert len(set(versions)) == 4  # every move of the queue changes it, for live lists
    logs.set_projects(queued, ["network", "dns"])

    page = views.page(JobQuery())
    assert [j.id for j in page.jobs] == [done, waiting, queued] and page.total == 3
    assert page.counts == {"queued": 1, "retrying": 1, "done": 1}
    first = views.job(queued)
    assert first is not None and first.state is JobState.QUEUED
    assert (first.forge, first.repo, first.number, first.ipr_id) == (
        "github", "acme/infra", 4, record.id)
    assert first.projects == ("network", "dns")
    retrying = views.job(waiting)
    assert retrying is not None and retrying.state is JobState.RETRYING
    assert retrying.next_retry is not None and retrying.ipr_id is None
    assert retrying.error == "TransientForgeError: 502"
    active = views.page(JobQuery(states=(JobState.QUEUED, JobState.RETRYING)))
    assert [j.id for j in active.jobs] == [waiting, queued] and active.total == 2
    assert [j.id for j in views.of_pull("github", "acme/infra", 4)] == [queued]
    assert views.job(999) is None

    assert not views.retry_now(queued)  # not waiting to retry
    assert views.retry_now(waiting)
    claimer = JobStore(open_db())  # another replica's workers: it is due now
    claimed = [claimer.claim("w", timedelta(seconds=30)) for _ in range(2)]
    assert [j.id for j in claimed if j is not None] == [queued, waiting]
    assert views.job(waiting).state is JobState.RUNNING  # type: ignore[union-attr]


def test_serial_keys_of_pull_requests() -> None:
    assert pull_of("github:acme/infra#12") == ("github", "acme/infra", 12)
    assert pull_of("gitlab:group/sub/proj#3") == ("gitlab", "group/sub/proj", 3)
    for other in ("", "housekeeping", "github:acme#x", ":a#1", "github:#1"):
        assert pull_of(other) is None
