"""The console's IPR list and locks on SQLite and PostgreSQL: tabs, filters,
per-state counts and pages in the database, and one lock released by id."""

from __future__ import annotations

from atlantis_py.domain.console import IPRQuery, Tab
from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.forge import ReviewState
from atlantis_py.domain.records import IPRState
from atlantis_py.store.console import ConsoleQueries
from atlantis_py.store.db import Database
from atlantis_py.store.locks import LockStore
from atlantis_py.store.pulls import PullStore
from atlantis_py.store.reviews import ReviewStore

REPO = Repo(forge="github", full_name="acme/infra", clone_url="https://example.invalid/x.git")


def ipr(db: Database, number: int, author: str, state: IPRState = IPRState.PENDING,
        environment: str = "default") -> int:
    pulls = PullStore(db)
    record = pulls.upsert(PullRequest(repo=REPO, number=number, author=author,
                                      head_sha=f"{number:040d}", head_ref=f"pr-{number}",
                                      base_ref="main"))
    pulls.set_state(record.id, state)
    pulls.start_run(record.id, "net", "net", "default", "plan", record.head_sha, author,
                    environment=environment)
    return record.id


def ids(db: Database, **query: object) -> list[int]:
    return [r.id for r in ConsoleQueries(db).iprs(IPRQuery(user="Bob", **query)).records]  # type: ignore[arg-type]


def test_tabs_filters_counts_and_pages(db: Database) -> None:
    own = ipr(db, 1, "bob")
    theirs = ipr(db, 2, "alice", environment="production")
    reviewed = ipr(db, 3, "carol")
    approved = ipr(db, 4, "carol", IPRState.APPROVED)
    ReviewStore(db).add(reviewed, "bob", ReviewState.APPROVED, f"{3:040d}", "")
    ReviewStore(db).add(theirs, "bob", ReviewState.APPROVED, "an-older-commit", "")

    assert ids(db) == [approved, reviewed, theirs, own]
    assert ids(db, tab=Tab.MINE) == [own]  # user names compare without case
    assert ids(db, tab=Tab.AWAITING) == [theirs]
    assert ids(db, environment="production") == [theirs]
    assert ids(db, state=IPRState.APPROVED) == [approved]
    page = ConsoleQueries(db).iprs(IPRQuery(user="bob", state=IPRState.PENDING, offset=1,
                                            limit=1))
    assert [r.id for r in page.records] == [theirs] and page.total == 3
    assert page.counts == {"PENDING": 3, "APPROVED": 1}
    assert page.environments == ("default", "production")


def test_an_ipr_opened_through_the_api_is_its_openers(db: Database) -> None:
    """GitHub and GitLab name the bot as its author; the opener sees it as theirs."""
    opened = ipr(db, 6, "atlantis-bot")
    PullStore(db).set_details(opened, opened_by="bob")
    other = ipr(db, 7, "atlantis-bot")
    assert ids(db, tab=Tab.MINE) == [opened]
    assert ids(db, tab=Tab.AWAITING) == [other]


def test_one_lock_is_released_by_id(db: Database) -> None:
    holder = ipr(db, 5, "alice")
    LockStore(db).acquire("github", "acme/infra", "net", "default", holder, 5, "net")
    LockStore(db).acquire("github", "acme/infra", "dns", "default", holder, 5, "dns")
    queries = ConsoleQueries(db)
    listed = queries.locks()
    assert [(lock.dir, lock.pull_id) for lock in listed] == [("dns", holder), ("net", holder)]
    released = queries.release_lock(listed[0].id)
    assert released is not None and released.dir == "dns"
    assert queries.release_lock(listed[0].id) is None
    assert [lock.dir for lock in queries.locks()] == ["net"]
