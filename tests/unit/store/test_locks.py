"""Project locks on SQLite and PostgreSQL: one pull request per (repo, dir, workspace)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.records import LockRecord
from atlantis_py.store.db import Database
from atlantis_py.store.locks import LockStore
from atlantis_py.store.pulls import PullStore

REPO = Repo(forge="github", full_name="acme/infra", clone_url="https://example.invalid/x.git")


def pull_id(db: Database, number: int, repo: Repo = REPO) -> int:
    """The stored pull request's id: locks reference a real pull_requests row."""
    return PullStore(db).upsert(PullRequest(repo=repo, number=number, author="alice",
                                            head_sha="a" * 40, head_ref=f"pr-{number}",
                                            base_ref="main")).id


@pytest.fixture
def locks(db: Database) -> LockStore:
    return LockStore(db)


def take(locks: LockStore, number: int, dir: str = "app", workspace: str = "default",
         repo: str = "acme/infra") -> LockRecord:
    return locks.acquire("github", repo, dir, workspace, pull_id(locks.db, number), number,
                         f"{dir}-{workspace}")


def test_acquire_returns_own_lock(locks: LockStore) -> None:
    lock = take(locks, 1)
    assert lock == LockRecord(forge="github", repo="acme/infra", dir="app",
                              workspace="default", pull_number=1, project="app-default")
    assert locks.all() == [lock]


def test_acquire_again_by_holder_is_idempotent(locks: LockStore) -> None:
    assert take(locks, 1) == take(locks, 1)
    assert len(locks.all()) == 1


def test_second_pull_gets_holders_record(locks: LockStore) -> None:
    mine = take(locks, 1)
    theirs = take(locks, 2)
    assert theirs == mine
    assert theirs.pull_number == 1
    assert locks.held_by(pull_id(locks.db, 2)) == []


# (second lock's dir, workspace, repo) → whether the first pull request's lock blocks it
@pytest.mark.parametrize("dir, workspace, repo, blocked", [
    pytest.param("app", "default", "acme/infra", True, id="same-project"),
    pytest.param("app", "staging", "acme/infra", False, id="other-workspace"),
    pytest.param("net", "default", "acme/infra", False, id="other-dir"),
    pytest.param("app/sub", "default", "acme/infra", False, id="subdir-is-another-dir"),
    pytest.param("app", "default", "acme/other", False, id="other-repo"),
])
def test_lock_key_is_repo_dir_workspace(locks: LockStore, dir: str, workspace: str,
                                        repo: str, blocked: bool) -> None:
    take(locks, 1)
    second = take(locks, 2, dir=dir, workspace=workspace, repo=repo)
    assert second.pull_number == (1 if blocked else 2)
    assert len(locks.all()) == (1 if blocked else 2)


def test_release_all(locks: LockStore) -> None:
    take(locks, 1, dir="app")
    take(locks, 1, dir="net")
    take(locks, 2, dir="db")
    first = pull_id(locks.db, 1)
    assert {lock.dir for lock in locks.held_by(first)} == {"app", "net"}
    assert locks.release_all(first) == 2
    assert locks.held_by(first) == []
    assert [lock.dir for lock in locks.all()] == ["db"]
    assert locks.release_all(first) == 0
    assert take(locks, 3, dir="app").pull_number == 3, "released lock can be taken"


def test_release_without_locks(locks: LockStore) -> None:
    assert locks.release_all(pull_id(locks.db, 9)) == 0


@pytest.mark.parametrize("replicas", [1, 2], ids=["threads-one-database",
                                                  "threads-two-databases"])
def test_concurrent_acquire_has_exactly_one_winner(open_db: Callable[[], Database],
                                                   replicas: int) -> None:
    dbs = [open_db() for _ in range(replicas)]
    contenders = 8
    ids = {n: pull_id(dbs[0], n) for n in range(1, contenders + 1)}
    stores = [LockStore(db) for db in dbs]
    barrier = threading.Barrier(contenders)

    def contend(number: int) -> LockRecord:
        barrier.wait()
        return stores[number % replicas].acquire("github", "acme/infra", "app", "default",
                                                 ids[number], number, "app")

    with ThreadPoolExecutor(max_workers=contenders) as pool:
        futures = {n: pool.submit(contend, n) for n in ids}
        results = {n: f.result(timeout=60) for n, f in futures.items()}
    assert len(results) == contenders
    winners = {lock.pull_number for lock in results.values()}
    assert len(winners) == 1, f"several pull requests think they hold the lock: {winners}"
    [winner] = winners
    assert results[winner].pull_number == winner
    assert [lock.pull_number for lock in stores[0].all()] == [winner]


def test_projects_sharing_a_dir_share_one_pull_requests_lock(locks: LockStore) -> None:
    """Two projects on one dir and workspace (Atlantis's tfvars layout): the same
    pull request holds the lock for both; another pull request still waits."""
    first = locks.acquire("github", "acme/infra", ".", "default", pull_id(locks.db, 1), 1,
                          "default")
    second = locks.acquire("github", "acme/infra", ".", "default", pull_id(locks.db, 1), 1,
                           "staging")
    assert first.pull_number == second.pull_number == 1
    other = locks.acquire("github", "acme/infra", ".", "default", pull_id(locks.db, 2), 2,
                          "staging")
    assert other.pull_number == 1


def test_latest_runs_per_project_at_the_dirs_newest_commit(locks: LockStore) -> None:
    pulls = PullStore(locks.db)
    pid = pull_id(locks.db, 1)
    old, new = "a" * 40, "b" * 40
    pulls.start_run(pid, "renamed-away", ".", "default", "plan", old, "alice")
    pulls.start_run(pid, "default", ".", "default", "plan", new, "alice")
    pulls.start_run(pid, "staging", ".", "default", "plan", new, "alice")
    pulls.start_run(pid, "net", "net", "default", "plan", old, "alice")
    latest = pulls.latest_runs(pid, "plan")
    assert sorted(latest) == [(".", "default", "default"), (".", "default", "staging"),
                              ("net", "default", "net")]
