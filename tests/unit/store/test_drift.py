"""Drift results and schedule slots on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from atlantis_py.domain.drift import DriftResult, DriftState, ResourceChange
from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.store.db import Database
from atlantis_py.store.drift import DriftStore
from atlantis_py.store.jobs import JobStore
from atlantis_py.store.pulls import PullStore

SLOT = datetime(2026, 10, 25, 2, 30)


def result(project: str, state: DriftState, repo: str = "acme/infra", **fields: object
           ) -> DriftResult:
    return DriftResult(forge="github", repo=repo, project=project, dir=project,
                       workspace="default", environment="prod", state=state,
                       head_sha="c" * 40, **fields)  # type: ignore[arg-type]


def test_latest_is_the_newest_result_per_project_with_its_resources(db: Database) -> None:
    store = DriftStore(db)
    store.record(result("network", DriftState.CLEAN))
    store.record(result("network", DriftState.DRIFTED, change=1, trigger="schedule",
                        resources=(ResourceChange("terraform_data.a", ("update",)),
                                   ResourceChange("terraform_data.b", ("delete", "create")))))
    store.record(result("storage", DriftState.ERROR, detail="Error: no credentials"))
    store.record(result("app", DriftState.SKIPPED, repo="acme/other",
                        detail="locked by pull request #3"))
    latest = store.latest()
    assert [(r.repo, r.project, r.state) for r in latest] == [
        ("acme/infra", "network", DriftState.DRIFTED),
        ("acme/infra", "storage", DriftState.ERROR),
        ("acme/other", "app", DriftState.SKIPPED)]
    network = latest[0]
    assert network.resources == (ResourceChange("terraform_data.a", ("update",)),
                                 ResourceChange("terraform_data.b", ("delete", "create")))
    assert (network.change, network.trigger) == (1, "schedule")
    assert network.checked_at is not None
    assert latest[1].detail == "Error: no credentials"
    assert [r.project for r in store.latest("acme/other")] == ["app"]
    assert store.latest("acme/none") == []
    assert store.state_counts() == {"clean": 0, "drifted": 1, "error": 1, "skipped": 1}


def test_a_slot_is_claimed_once_whichever_replica_asks(
        open_db: Callable[[], Database]) -> None:
    """Four replicas (each its own engine) claim the same slot at once: one job."""
    replicas = [DriftStore(open_db()) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        claims = list(pool.map(lambda s: s.claim_slot("github", "acme/infra", "prod", SLOT,
                                                      "drift", "drift#0", "{}"), replicas))
    won = [c for c in claims if c is not None]
    assert len(won) == 1
    assert JobStore(replicas[0].db).pending_count() == 1
    # another environment, or the next slot, is a slot of its own
    assert replicas[1].claim_slot("github", "acme/infra", "staging", SLOT, "drift",
                                  "drift#0", "{}") is not None
    assert replicas[2].claim_slot("github", "acme/infra", "prod", SLOT.replace(day=26),
                                  "drift", "drift#0", "{}") is not None


def test_the_same_request_while_queued_is_one_job(db: Database) -> None:
    store = DriftStore(db)
    first = store.enqueue_once("drift", "drift#1", '{"repo":"acme/infra"}')
    assert store.enqueue_once("drift", "drift#1", '{"repo":"acme/infra"}') == first
    assert store.enqueue_once("drift", "drift#1", '{"repo":"acme/other"}') != first
    assert JobStore(db).pending_count() == 2


def test_known_repos_are_those_pull_requests_came_from(db: Database) -> None:
    pulls = PullStore(db)
    for forge, name, number in (("github", "acme/infra", 1), ("github", "acme/infra", 2),
                                ("gitlab", "group/sub/app", 1)):
        pulls.upsert(PullRequest(Repo(forge, name, f"https://{forge}.invalid/{name}.git"),
                                 number, "alice", "a" * 40, f"b{number}", "main"))
    assert DriftStore(db).known_repos() == [
        Repo("github", "acme/infra", "https://github.invalid/acme/infra.git"),
        Repo("gitlab", "group/sub/app", "https://gitlab.invalid/group/sub/app.git")]
