"""The IPR state machine over the real stores: legal moves are written and audited,
illegal ones change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from atlantis_py.core.ipr import ALLOWED, IllegalTransition, IPRMachine, Transition
from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.store.audit import AuditLog
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.pulls import PullStore

S = IPRState
REPO = Repo(forge="github", full_name="acme/infra", clone_url="https://example.invalid/x.git")
HEAD = "c0ffee" + "0" * 34


def pull_request(number: int = 7, head_sha: str = HEAD) -> PullRequest:
    return PullRequest(repo=REPO, number=number, author="alice", head_sha=head_sha,
                       head_ref="feature", base_ref="main", title="add vpc")


class Stores:
    def __init__(self, db: Database) -> None:
        self.pulls = PullStore(db)
        self.audit = AuditLog(db)
        self.ipr = IPRMachine(self.pulls, self.audit)

    def pull_in(self, state: IPRState, number: int = 7) -> PullRecord:
        """A pull request already in `state`, arranged through the store directly."""
        record = self.pulls.upsert(pull_request(number))
        self.pulls.set_state(record.id, state)
        fresh = self.pulls.by_id(record.id)
        assert fresh is not None and fresh.state is state
        return fresh


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    db = Database("sqlite:///" + str(tmp_path / "atlantis.db"))
    db.migrate()
    yield Stores(db)
    db.dispose()


# Moves the design and the job handlers make.
LEGAL = [
    pytest.param(S.PENDING, S.APPROVED, "review approved", id="pending-approved"),
    pytest.param(S.APPROVED, S.APPLYING, "applying 2 projects", id="approved-applying"),
    pytest.param(S.PENDING, S.APPLYING, "approvals satisfied at apply: applying 1 project",
                 id="pending-applying"),
    pytest.param(S.FAILED, S.APPLYING, "applying 1 project", id="failed-applying"),
    pytest.param(S.DEPLOYED, S.APPLYING, "applying 1 project", id="deployed-applying"),
    pytest.param(S.APPLYING, S.DEPLOYED, "2/2 projects applied", id="applying-deployed"),
    pytest.param(S.APPLYING, S.FAILED, "1/2 projects applied", id="applying-failed"),
    pytest.param(S.APPLYING, S.FAILED, "apply interrupted: network", id="applying-interrupted"),
    pytest.param(S.PENDING, S.REJECTED, "review changes_requested", id="pending-rejected"),
    pytest.param(S.APPROVED, S.REJECTED, "review changes_requested", id="approved-rejected"),
    pytest.param(S.APPROVED, S.PENDING, "new commits pushed", id="push-voids-approval"),
    pytest.param(S.REJECTED, S.PENDING, "review approved", id="rejected-pending"),
    pytest.param(S.FAILED, S.PENDING, "new commits pushed", id="failed-pending"),
    pytest.param(S.DEPLOYED, S.PENDING, "new commits pushed", id="deployed-pending"),
    pytest.param(S.PENDING, S.CANCELLED, "closed without merging", id="pending-cancelled"),
    pytest.param(S.APPROVED, S.CANCELLED, "closed without merging", id="approved-cancelled"),
    pytest.param(S.REJECTED, S.CANCELLED, "closed without merging", id="rejected-cancelled"),
    pytest.param(S.FAILED, S.CANCELLED, "closed without merging", id="failed-cancelled"),
    pytest.param(S.CANCELLED, S.PENDING, "reopened", id="reopened"),
]


@pytest.mark.parametrize("start, target, reason", LEGAL)
def test_legal_transition_is_stored_and_audited(stores: Stores, start: IPRState,
                                                target: IPRState, reason: str) -> None:
    record = stores.pull_in(start)
    before = utcnow()
    stores.ipr.move(Transition(record, target, "bob", reason, project="network"))
    after = stores.pulls.by_id(record.id)
    assert after is not None and after.state is target
    [event] = stores.audit.events(record.id)
    assert (event.actor, event.action, event.head_sha) == ("bob", f"state:{target.value}", HEAD)
    assert (event.repo, event.pull_number, event.project) == ("acme/infra", 7, "network")
    assert event.detail == f"{start.value} -> {target.value}: {reason}"
    assert before - timedelta(seconds=1) <= event.at <= utcnow() + timedelta(seconds=1)


ILLEGAL = [
    pytest.param(S.CANCELLED, S.DEPLOYED, id="cancelled-deployed"),
    pytest.param(S.CANCELLED, S.APPROVED, id="cancelled-approved"),
    pytest.param(S.CANCELLED, S.FAILED, id="cancelled-failed"),
    pytest.param(S.CANCELLED, S.REJECTED, id="cancelled-rejected"),
    pytest.param(S.REJECTED, S.DEPLOYED, id="rejected-deployed"),
    pytest.param(S.REJECTED, S.FAILED, id="rejected-failed"),
    pytest.param(S.DEPLOYED, S.APPROVED, id="deployed-approved"),
    pytest.param(S.DEPLOYED, S.REJECTED, id="deployed-rejected"),
    pytest.param(S.DEPLOYED, S.FAILED, id="deployed-failed"),
    pytest.param(S.FAILED, S.APPROVED, id="failed-approved"),
    # only an apply's outcome ends APPLYING, and only APPLYING ends in an outcome
    pytest.param(S.APPLYING, S.REJECTED, id="applying-rejected"),
    pytest.param(S.APPLYING, S.CANCELLED, id="applying-cancelled"),
    pytest.param(S.APPLYING, S.APPROVED, id="applying-approved"),
    pytest.param(S.APPLYING, S.PENDING, id="applying-pending"),
    pytest.param(S.APPLYING, S.APPLYING, id="applying-twice"),
    pytest.param(S.APPROVED, S.DEPLOYED, id="approved-deployed"),
    pytest.param(S.APPROVED, S.FAILED, id="approved-failed"),
    pytest.param(S.PENDING, S.DEPLOYED, id="pending-deployed"),
    pytest.param(S.FAILED, S.DEPLOYED, id="failed-deployed"),
    pytest.param(S.REJECTED, S.APPLYING, id="rejected-applying"),
    pytest.param(S.CANCELLED, S.APPLYING, id="cancelled-applying"),
]


@pytest.mark.parametrize("start, target", ILLEGAL)
def test_illegal_transition_raises_and_writes_nothing(stores: Stores, start: IPRState,
                                                      target: IPRState) -> None:
    record = stores.pull_in(start)
    with pytest.raises(IllegalTransition) as err:
        stores.ipr.move(Transition(record, target, "mallory", "because"), open=False)
    message = str(err.value)
    assert start.value in message and target.value in message and "because" in message
    after = stores.pulls.by_id(record.id)
    assert after is not None
    assert (after.state, after.open) == (start, True)
    assert stores.audit.events(record.id) == []


@pytest.mark.parametrize("open_arg, expected_open", [
    pytest.param(None, True, id="open-untouched"),
    pytest.param(False, False, id="closed"),
    pytest.param(True, True, id="opened"),
])
def test_move_sets_open_flag(stores: Stores, open_arg: bool | None,
                             expected_open: bool) -> None:
    record = stores.pull_in(S.PENDING)
    stores.ipr.move(Transition(record, S.CANCELLED, "alice", "closed"), open=open_arg)
    after = stores.pulls.by_id(record.id)
    assert after is not None and (after.state, after.open) == (S.CANCELLED, expected_open)


def test_reopen_sets_open_again(stores: Stores) -> None:
    record = stores.pull_in(S.PENDING)
    stores.ipr.move(Transition(record, S.CANCELLED, "alice", "closed"), open=False)
    closed = stores.pulls.by_id(record.id)
    assert closed is not None and not closed.open
    stores.ipr.move(Transition(closed, S.PENDING, "alice", "reopened"), open=True)
    reopened = stores.pulls.by_id(record.id)
    assert reopened is not None and (reopened.state, reopened.open) == (S.PENDING, True)


def test_every_state_has_a_row_and_only_applying_reaches_an_outcome() -> None:
    assert set(ALLOWED) == set(IPRState)
    for outcome in (S.DEPLOYED, S.FAILED):
        assert {s for s, targets in ALLOWED.items() if outcome in targets} == {S.APPLYING}
    assert ALLOWED[S.APPLYING] == {S.DEPLOYED, S.FAILED}


def test_reject_and_cancel_while_applying_leave_the_outcome_to_the_apply(
        stores: Stores) -> None:
    record = stores.pull_in(S.APPROVED)
    stores.ipr.move(Transition(record, S.APPLYING, "alice", "applying 1 project"))
    for target in (S.REJECTED, S.CANCELLED):
        assert not stores.ipr.try_move(Transition(record, target, "carol", "too late"))
    stores.ipr.move(Transition(record, S.DEPLOYED, "alice", "1/1 projects applied"))
    after = stores.pulls.by_id(record.id)
    assert after is not None and after.state is S.DEPLOYED
    assert [e.detail for e in stores.audit.events(record.id)] == [
        "APPROVED -> APPLYING: applying 1 project",
        "APPLYING -> DEPLOYED: 1/1 projects applied"]


def test_a_lifecycle_leaves_an_ordered_trail(stores: Stores) -> None:
    record = stores.pull_in(S.PENDING)
    stores.ipr.move(Transition(record, S.APPROVED, "bob", "approved"))
    pushed = stores.pulls.upsert(pull_request(head_sha="f" * 40))
    stores.ipr.move(Transition(pushed, S.PENDING, "alice", "new commits pushed"))
    again = stores.pulls.by_id(record.id)
    assert again is not None
    stores.ipr.move(Transition(again, S.APPROVED, "carol", "approved"))
    approved = stores.pulls.by_id(record.id)
    assert approved is not None
    stores.ipr.move(Transition(approved, S.APPLYING, "carol", "applying"))
    stores.ipr.move(Transition(approved, S.DEPLOYED, "carol", "applied"))
    trail = [(e.actor, e.action, e.head_sha) for e in stores.audit.events(record.id)]
    assert trail == [
        ("bob", "state:APPROVED", HEAD),
        ("alice", "state:PENDING", "f" * 40),
        ("carol", "state:APPROVED", "f" * 40),
        ("carol", "state:APPLYING", "f" * 40),
        ("carol", "state:DEPLOYED", "f" * 40),
    ]
    final = stores.pulls.by_id(record.id)
    assert final is not None and final.state is S.DEPLOYED


def test_audit_is_per_pull_request(stores: Stores) -> None:
    first = stores.pull_in(S.PENDING, number=1)
    second = stores.pull_in(S.PENDING, number=2)
    stores.ipr.move(Transition(first, S.REJECTED, "bob", "changes requested"))
    assert [e.pull_number for e in stores.audit.events(first.id)] == [1]
    assert stores.audit.events(second.id) == []
    unchanged = stores.pulls.by_id(second.id)
    assert unchanged is not None and unchanged.state is S.PENDING


def test_note_audits_without_changing_state(stores: Stores) -> None:
    record = stores.pull_in(S.APPROVED)
    stores.ipr.note(record, "bob", "review:commented", project="app", detail="nit")
    [event] = stores.audit.events(record.id)
    assert (event.actor, event.action, event.head_sha, event.project, event.detail) == (
        "bob", "review:commented", HEAD, "app", "nit")
    after = stores.pulls.by_id(record.id)
    assert after is not None and after.state is S.APPROVED
