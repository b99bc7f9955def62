"""flows/ordered.py: groups run in turn, at once within a group only when
parallel, one dir's projects never at once, abort stops later groups."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.flows.ordered import Order, run_ordered


@dataclass(frozen=True)
class Item:
    name: str
    dir: str
    group: int = 0
    fails: bool = False


def result(item: Item, status: RunStatus, skipped: str | None = None) -> ProjectResult:
    return ProjectResult(project=item.name, dir=item.dir, workspace="default",
                         command="apply", status=status, skipped=skipped)


ORDER: Order[Item] = Order(name=lambda i: i.name, group=lambda i: i.group,
                           serial=lambda i: ("", i.dir),
                           skipped=lambda i, why: result(i, RunStatus.ERROR, why))


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as executor:
        yield executor


class Recorder:
    """Runs items, noting what ran and whether one dir's items overlapped; the
    items named in `meet` wait for each other at a barrier, proving they overlap."""

    def __init__(self, meet: frozenset[str] = frozenset()) -> None:
        self.ran: list[str] = []
        self.lock = threading.Lock()
        self.meet = meet
        self.barrier = threading.Barrier(len(meet)) if meet else None
        self.active: dict[str, int] = {}
        self.overlap_in_dir = False

    def __call__(self, item: Item) -> ProjectResult:
        with self.lock:
            self.ran.append(item.name)
            self.active[item.dir] = self.active.get(item.dir, 0) + 1
            self.overlap_in_dir |= self.active[item.dir] > 1
        if self.barrier is not None and item.name in self.meet:
            self.barrier.wait(timeout=30)
        with self.lock:
            self.active[item.dir] -= 1
        return result(item, RunStatus.FAILURE if item.fails else RunStatus.SUCCESS)


def test_sequential_runs_by_group_then_as_listed(pool: ThreadPoolExecutor) -> None:
    items = [Item("c", "c", 2), Item("a", "a", 1), Item("b", "b", 1), Item("z", "z", 0)]
    run = Recorder()
    results = run_ordered(items, ORDER, run, parallel=False, pool=pool, abort=False,
                          command="apply")
    assert run.ran == ["z", "a", "b", "c"]
    assert [r.project for r in results] == ["z", "a", "b", "c"]


def test_parallel_runs_a_groups_dirs_at_once_and_one_dirs_projects_in_turn(
        pool: ThreadPoolExecutor) -> None:
    items = [Item("x1", "x"), Item("y", "y"), Item("x2", "x"), Item("late", "x", 1)]
    run = Recorder(frozenset({"x1", "y"}))  # they must overlap, or the barrier breaks
    results = run_ordered(items, ORDER, run, parallel=True, pool=pool, abort=False,
                          command="apply")
    assert not run.overlap_in_dir
    assert run.ran.index("x1") < run.ran.index("x2") < run.ran.index("late")
    assert [r.project for r in results] == ["x1", "y", "x2", "late"]
    assert all(r.status is RunStatus.SUCCESS for r in results)


@pytest.mark.parametrize("parallel", [False, True])
def test_abort_skips_later_groups_and_says_why(pool: ThreadPoolExecutor,
                                               parallel: bool) -> None:
    items = [Item("net", "net", 1, fails=True), Item("dns", "dns", 1),
             Item("app", "app", 2), Item("web", "web", 3)]
    run = Recorder()
    results = run_ordered(items, ORDER, run, parallel=parallel, pool=pool, abort=True,
                          command="apply")
    assert sorted(run.ran) == ["dns", "net"]
    skipped = {r.project: r.skipped for r in results if r.skipped}
    assert set(skipped) == {"app", "web"}
    assert "group 1 failed (`net`)" in str(skipped["app"])


def test_without_abort_later_groups_still_run(pool: ThreadPoolExecutor) -> None:
    items = [Item("net", "net", 1, fails=True), Item("app", "app", 2)]
    run = Recorder()
    results = run_ordered(items, ORDER, run, parallel=False, pool=pool, abort=False,
                          command="apply")
    assert run.ran == ["net", "app"]
    assert [r.status for r in results] == [RunStatus.FAILURE, RunStatus.SUCCESS]


def test_check_refuses_at_the_items_turn_with_what_succeeded_before(
        pool: ThreadPoolExecutor) -> None:
    items = [Item("net", "net", 1, fails=True), Item("dns", "dns", 1),
             Item("app", "app", 2), Item("web", "web", 2)]
    seen: dict[str, set[str]] = {}

    def check(item: Item, succeeded: set[str]) -> str | None:
        seen[item.name] = set(succeeded)
        return "needs net" if item.name == "app" and "net" not in succeeded else None

    run = Recorder()
    results = run_ordered(items, ORDER, run, parallel=True, pool=pool, abort=False,
                          command="apply", check=check)
    assert seen["app"] == seen["web"] == {"dns"} and seen["net"] == set()
    assert "app" not in run.ran and "web" in run.ran
    assert [r.skipped for r in results if r.project == "app"] == ["needs net"]
