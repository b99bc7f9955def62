"""A job's journal of forge writes on SQLite and PostgreSQL: what arrived, what
waits (in order), and whether the job's work is done."""

from __future__ import annotations

from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.writes import ForgeWrite, WriteKind
from atlantis_py.store.db import Database
from atlantis_py.store.journal import JournalStore

COMMENT = ForgeWrite(WriteKind.COMMENT, "github", "acme/infra", number=4, body="Ran Plan …")
STATUS = ForgeWrite(WriteKind.STATUS, "gitlab", "acme/platform/infra", sha="a" * 40,
                    context="atlantis/plan", state=StatusState.SUCCESS,
                    body="1/1 projects planned")


def test_writes_round_trip_in_order_and_by_job(db: Database) -> None:
    journal = JournalStore(db)
    journal.record(7, COMMENT, posted=True)
    journal.record(7, STATUS, posted=False)
    journal.record(7, ForgeWrite(WriteKind.COMMENT, "github", "acme/infra", number=4,
                                 body="second"), posted=False)
    journal.record(8, STATUS, posted=False)

    assert journal.posted(7) == {COMMENT.digest}
    pending = journal.pending(7)
    assert [w for _, w in pending] == [STATUS, ForgeWrite(WriteKind.COMMENT, "github",
                                                          "acme/infra", number=4, body="second")]
    journal.mark_posted(pending[0][0])
    assert journal.posted(7) == {COMMENT.digest, STATUS.digest}
    assert [w.body for _, w in journal.pending(7)] == ["second"]
    assert [w for _, w in journal.pending(8)] == [STATUS]


def test_work_done_is_remembered_per_job(db: Database) -> None:
    journal = JournalStore(db)
    assert journal.work_done(7) is False
    journal.set_work_done(7)
    assert (journal.work_done(7), journal.work_done(8)) == (True, False)
    assert journal.pending(7) == [] and journal.posted(7) == set()


def test_the_digest_tells_writes_apart() -> None:
    assert COMMENT.digest == ForgeWrite(WriteKind.COMMENT, "github", "acme/infra", number=4,
                                        body="Ran Plan …").digest
    others = [ForgeWrite(WriteKind.COMMENT, "github", "acme/infra", number=5, body="Ran Plan …"),
              ForgeWrite(WriteKind.COMMENT, "gitlab", "acme/infra", number=4, body="Ran Plan …"),
              ForgeWrite(WriteKind.COMMENT, "github", "acme/infra", number=4, body="Ran Plan"),
              ForgeWrite(WriteKind.STATUS, "gitlab", "acme/platform/infra", sha="a" * 40,
                         context="atlantis/plan", state=StatusState.FAILURE,
                         body="1/1 projects planned")]
    assert len({COMMENT.digest, STATUS.digest, *(w.digest for w in others)}) == 6
