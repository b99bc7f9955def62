"""Running a pull request's projects in Atlantis's order (core/ordering.py):
group by group, at once within a group when the repository's `parallel_plan`
/ `parallel_apply` says so (bounded by the server's --parallel-pool-size),
otherwise one after another. Projects on one dir always run in turn, since
their workspaces share its .terraform folder. Results come back in the order
the projects run in, so the comment lists them the same way every time."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from atlantis_py.core.ordering import aborted_reason, execution_groups
from atlantis_py.domain.results import ProjectResult, RunStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Order(Generic[T]):
    """How to run `T`s (plan: projects; apply: plan runs)."""

    name: Callable[[T], str]
    group: Callable[[T], int]
    serial: Callable[[T], tuple[str, str]]  # same key: never at once (source, dir)
    skipped: Callable[[T, str], ProjectResult]  # the result of one that did not run


def run_ordered(items: Sequence[T], order: Order[T], run: Callable[[T], ProjectResult], *,
                parallel: bool, pool: ThreadPoolExecutor, abort: bool, command: str,
                check: Callable[[T, set[str]], str | None] | None = None
                ) -> list[ProjectResult]:
    """Run every item, group after group. `check(item, succeeded)` may refuse
    an item at its turn (a reason); `abort`: a group with a failure keeps the
    later groups from running, each said so in its result."""
    results: list[ProjectResult] = []
    succeeded: set[str] = set()
    groups = execution_groups(items, order.group)
    for index, group in enumerate(groups):
        done = _run_group(group, order, run, parallel, pool, check, succeeded)
        results.extend(done)
        succeeded.update(r.project for r in done if r.status is RunStatus.SUCCESS)
        failed = [r.project for r in done if r.status is not RunStatus.SUCCESS]
        if abort and failed and index + 1 < len(groups):
            reason = aborted_reason(order.group(group[0]), failed, command)
            results.extend(order.skipped(item, reason)
                           for later in groups[index + 1:] for item in later)
            break
    return results


def _run_group(group: Sequence[T], order: Order[T], run: Callable[[T], ProjectResult],
               parallel: bool, pool: ThreadPoolExecutor,
               check: Callable[[T, set[str]], str | None] | None,
               succeeded: set[str]) -> list[ProjectResult]:
    def one(item: T) -> ProjectResult:
        refusal = check(item, succeeded) if check is not None else None
        return order.skipped(item, refusal) if refusal is not None else run(item)

    if not parallel or len(group) < 2:
        return [one(item) for item in group]
    lanes: dict[tuple[str, str], list[T]] = {}
    for item in group:
        lanes.setdefault(order.serial(item), []).append(item)

    def lane(items: list[T]) -> list[ProjectResult]:
        return [one(item) for item in items]

    futures = [pool.submit(contextvars.copy_context().run, lane, items)
               for items in lanes.values()]
    by_name: dict[str, ProjectResult] = {}
    for future in futures:
        for result in future.result():
            by_name[result.project] = result
    return [by_name[order.name(item)] for item in group]
