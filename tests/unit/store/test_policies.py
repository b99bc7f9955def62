"""Policy verdicts per plan run and owners' approvals per head commit, on SQLite
and PostgreSQL."""

from __future__ import annotations

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.policies import PolicyApproval, PolicySetResult
from atlantis_py.store.db import Database
from atlantis_py.store.policies import PolicyStore
from atlantis_py.store.pulls import PullStore

HEAD, NEXT = "a" * 40, "b" * 40


def plan_run(db: Database) -> tuple[int, int]:
    pulls = PullStore(db)
    record = pulls.upsert(PullRequest(
        repo=Repo(forge="github", full_name="acme/infra", clone_url="https://x.invalid/x.git"),
        number=7, author="alice", head_sha=HEAD, head_ref="feature", base_ref="main",
        title="add vpc"))
    return record.id, pulls.start_run(record.id, "net", "net", "default", "plan", HEAD, "alice")


def test_verdicts_round_trip_in_order(db: Database) -> None:
    _, run_id = plan_run(db)
    store = PolicyStore(db)
    verdicts = (PolicySetResult("cost", False, denies=("too big", "ünïcode `x`"),
                                warnings=("hm",)),
                PolicySetResult("naming", False, error="naming.rego:3:1: unclosed"),
                PolicySetResult("tags", True))
    store.record(run_id, verdicts)
    assert store.results([run_id, run_id + 100]) == {run_id: verdicts}
    assert store.results([]) == {}


def test_result_counts_by_passed_failed_and_error(db: Database) -> None:
    _, run_id = plan_run(db)
    store = PolicyStore(db)
    assert store.result_counts() == {"passed": 0, "failed": 0, "error": 0}
    store.record(run_id, (PolicySetResult("cost", False, denies=("too big",)),
                          PolicySetResult("naming", False, error="unclosed"),
                          PolicySetResult("tags", True)))
    store.record(run_id, (PolicySetResult("cost", True), PolicySetResult("tags", True)))
    assert store.result_counts() == {"passed": 3, "failed": 1, "error": 1}


def test_approvals_are_kept_per_head_commit(db: Database) -> None:
    pull_id, run_id = plan_run(db)
    store = PolicyStore(db)
    store.approve(pull_id, PolicyApproval("net", "cost", "bob", HEAD, run_id))
    store.approve(pull_id, PolicyApproval("net", "naming", "erin", NEXT, run_id))
    found = store.approvals(pull_id, HEAD)
    assert [(a.project, a.policy_set, a.user, a.run_id) for a in found] == [
        ("net", "cost", "bob", run_id)]
    assert found[0].at is not None
    assert [a.user for a in store.approvals(pull_id, NEXT)] == ["erin"]
