"""In which order a pull request's projects run, and which may not run at all.

Atlantis's rules, which atlantis.yaml (and workflows.yaml) carry over:
projects run group by group, ascending `execution_order_group` (0 when
unset), in the order the config lists them within a group; with
`abort_on_execution_order_fail` a group with a failure stops every later
group. `depends_on` names projects that must be applied before a project is:
applied successfully in an earlier apply, or in this one in a lower group
(projects of one group may run at once, so a same-group dependency cannot
be waited for). A dependency the pull request does not touch, or whose plan
changes nothing, asks nothing (as in Atlantis). Pure: flows/ordered.py runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def execution_groups(items: Sequence[T], group_of: Callable[[T], int]) -> list[list[T]]:
    """`items` split by group, lowest group first; each keeps the items' order."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(group_of(item), []).append(item)
    return [groups[key] for key in sorted(groups)]


def sequential_order(items: Sequence[T], group_of: Callable[[T], int]) -> list[T]:
    """The order projects run in one after another: by group, then as listed."""
    return [item for group in execution_groups(items, group_of) for item in group]


@dataclass(frozen=True)
class Dependencies:
    """What a project's dependencies are judged against in one apply.

    `touched`: every project of the pull request (with a plan for its head);
    `settled`: those needing no apply first: applied successfully for the
    current plans in an earlier apply, or planned with no changes;
    `groups`: project → group, of the projects this apply runs."""

    touched: Collection[str]
    settled: Collection[str]
    groups: Mapping[str, int]

    def unmet(self, project: str, depends_on: Sequence[str]) -> list[str]:
        """The dependencies that keep `project` from being applied in this apply,
        before anything ran: neither settled nor applied here in a lower group."""
        mine = self.groups.get(project, 0)
        return [d for d in depends_on
                if d in self.touched and d not in self.settled
                and not (d in self.groups and self.groups[d] < mine)]

    def failed(self, depends_on: Sequence[str], applied: Collection[str]) -> list[str]:
        """At a project's turn: the dependencies this apply was to apply first
        (in a lower group) that did not apply successfully."""
        return [d for d in depends_on
                if d in self.groups and d not in self.settled and d not in applied]


def dependency_refusal(project: str, unmet: Sequence[str], *, ran: bool = False) -> str:
    """Why `project` was not applied, naming its dependencies and what to do."""
    names = ", ".join(f"`{d}`" for d in unmet)
    deps = "dependency" if len(unmet) == 1 else "dependencies"
    if ran:
        return (f"it depends on {names} (`depends_on`), which did not apply successfully "
                "in this apply. Fix that and apply it, then apply this project "
                f"(`atlantis apply -p {project}`).")
    return (f"it depends on {names} (`depends_on`), and that {deps} has not "
            "been applied yet. Apply "
            + ("it" if len(unmet) == 1 else "them")
            + f" first (`atlantis apply -p {unmet[0]}`), or give "
            + ("it" if len(unmet) == 1 else "them")
            + " a lower `execution_order_group` to apply them in one go.")


def aborted_reason(failed_group: int, failed: Sequence[str], command: str) -> str:
    """Why a later group's project did not run (abort_on_execution_order_fail);
    `command` is plan or apply."""
    names = ", ".join(f"`{n}`" for n in failed)
    return (f"execution order group {failed_group} failed ({names}) and "
            "`abort_on_execution_order_fail` is set, so later groups did not run. "
            f"Fix the failure, then comment `atlantis {command}` again.")
