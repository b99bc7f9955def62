"""The webhook spool: durable lines, replayed in order into the queue once the
database answers, duplicates dropped, a record cut short by a crash forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from atlantis_py.domain.events import PullAction, PullRequest, PullRequestEvent, Repo
from atlantis_py.domain.records import Job, JobStatus
from atlantis_py.errors import DatabaseUnavailable
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import EventJob
from atlantis_py.web.spool import Spool, SpooledDelivery, SpoolReplayer

REPO = Repo("github", "acme/infra", "https://github.example/acme/infra.git")


def delivery(n: int, number: int = 1) -> SpooledDelivery:
    pull = PullRequest(REPO, number, "alice", f"{n:040x}", "feature", "main")
    return SpooledDelivery("github", f"d-{n}", "pull_request", f"github:acme/infra#{number}",
                           EventJob(PullRequestEvent(pull, PullAction.OPENED, "alice")))


class Table:
    """The jobs table as far as accepting deliveries goes; `down` refuses like a
    database that is away."""

    def __init__(self) -> None:
        self.down = False
        self.stored: list[tuple[str, str, str]] = []

    def accept_delivery(self, forge: str, delivery_id: str, event_type: str,
                        job_kind: str | None, serial_key: str, payload: str) -> bool:
        if self.down:
            raise DatabaseUnavailable("connection refused")
        if any(d == delivery_id for d, _, _ in self.stored):
            return False
        self.stored.append((delivery_id, serial_key, payload))
        return True

    def enqueue(self, kind: str, serial_key: str, payload: str) -> int: raise AssertionError
    def claim(self, worker: str, lease: timedelta) -> Job | None: raise AssertionError
    def renew(self, job_ids: list[int], lease: timedelta) -> None: raise AssertionError
    def finish(self, job_id: int, status: JobStatus, error: str = "") -> None:
        raise AssertionError
    def expired(self) -> list[Job]: raise AssertionError
    def running(self) -> list[tuple[Job, str]]: raise AssertionError
    def requeue(self, job_id: int) -> None: raise AssertionError
    def retry_later(self, job_id: int, not_before: datetime, since: datetime,
                    error: str = "") -> None: raise AssertionError
    def next_due_in(self) -> float | None: raise AssertionError
    def pending_count(self) -> int: return 0


def test_spooled_deliveries_survive_a_restart_and_replay_in_order(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "webhooks.jsonl"
    spool = Spool(path)
    for n in range(3):
        spool.append(delivery(n, number=n % 2))
    assert spool.count() == 3
    reopened = Spool(path)  # the web process restarted
    assert reopened.count() == 3
    table = Table()
    assert SpoolReplayer(reopened, JobQueue(table)).replay() == 3
    assert [d for d, _, _ in table.stored] == ["d-0", "d-1", "d-2"]
    assert [k for _, k, _ in table.stored] == ["github:acme/infra#0", "github:acme/infra#1",
                                               "github:acme/infra#0"]
    assert EventJob.decode(table.stored[1][2]) == delivery(1, number=1).job
    assert reopened.count() == 0 and path.read_bytes() == b""


def test_replay_stops_while_the_database_is_away_and_keeps_the_rest(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "webhooks.jsonl")
    table = Table()
    replayer = SpoolReplayer(spool, JobQueue(table))
    spool.append(delivery(1))
    spool.append(delivery(2))
    table.down = True
    assert replayer.replay() == 0
    assert spool.count() == 2
    table.down = False
    table.stored.append(("d-1", "", ""))  # stored before a crash cut the last replay short
    assert replayer.replay() == 2
    assert [d for d, _, _ in table.stored] == ["d-1", "d-2"], "d-1 is a duplicate, once"
    assert spool.count() == 0


def test_a_record_cut_short_by_a_crash_is_dropped_and_later_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.jsonl"
    spool = Spool(path)
    spool.append(delivery(1))
    with path.open("ab") as f:
        f.write(delivery(2).encode()[:25])  # the crash came mid-write, before any 202
    reopened = Spool(path)
    assert reopened.count() == 1
    reopened.append(delivery(3))
    table = Table()
    assert SpoolReplayer(reopened, JobQueue(table)).replay() == 2
    assert [d for d, _, _ in table.stored] == ["d-1", "d-3"]


def test_an_unreadable_record_is_dropped_not_replayed_forever(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.jsonl"
    path.write_bytes(b'{"forge": "github"}\n' + delivery(1).encode())
    spool = Spool(path)
    table = Table()
    assert SpoolReplayer(spool, JobQueue(table)).replay() == 2
    assert [d for d, _, _ in table.stored] == ["d-1"]


def test_a_spool_that_cannot_be_written_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the spool's folder should be")
    spool = Spool(blocker / "webhooks.jsonl")
    assert spool.problem() is not None
    assert Spool(tmp_path / "ok" / "webhooks.jsonl").problem() is None
