"""When drift checks fall due: pure functions of a schedule and a clock.

A slot is named by its wall-clock time in the environment's time zone, not by
its instant: when clocks go back, "30 2 * * *" meets 02:30 twice, and one name
for both keeps it to one check (as cron does). Every replica computes the same
name for the same slot, so the store can refuse the second claim of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter

from atlantis_py.core.detect.dirs import default_project_name
from atlantis_py.core.detect.modules import ModuleGraph, tf_dirs
from atlantis_py.domain.drift import DriftSchedule, ResourceChange
from atlantis_py.domain.projects import Project, RepoConfig

# a slot missed by longer than this (the server was down) is not made up for
CATCH_UP = timedelta(hours=1)
SCHEDULE_FORMAT = "a five-field cron expression such as '0 6 * * *'"


def check_schedule(text: str) -> str:
    """The expression back if croniter reads it as five fields; ValueError says why not."""
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected {SCHEDULE_FORMAT}, got {len(fields)} fields in {text!r}")
    if not croniter.is_valid(text):
        raise ValueError(f"{text!r} is not a valid cron expression "
                         "(minute hour day-of-month month day-of-week)")
    return " ".join(fields)


def due_slot(schedule: DriftSchedule, now: datetime,
             catch_up: timedelta = CATCH_UP) -> datetime | None:
    """The latest slot at or before `now` (aware), as naive wall-clock time in the
    schedule's zone, if it is at most `catch_up` old; else None."""
    zone = ZoneInfo(schedule.timezone)
    # croniter's get_prev is strict: a second later makes a slot due at its own
    # time; added before the zone is applied, as wall-clock arithmetic would
    # lose which of a repeated hour `now` is in
    local = (now + timedelta(seconds=1)).astimezone(zone)
    slot = croniter(schedule.schedule, local).get_prev(datetime)
    if now.astimezone(UTC) - slot.astimezone(UTC) > catch_up:
        return None
    return slot.replace(tzinfo=None)


def plan_changes(plan_json: object) -> tuple[ResourceChange, ...]:
    """The resources a saved plan (`terraform show -json`) would touch, with
    their actions; no-op and read are not changes."""
    if not isinstance(plan_json, dict):
        return ()
    out: list[ResourceChange] = []
    for item in plan_json.get("resource_changes") or ():
        if not isinstance(item, dict):
            continue
        change = item.get("change")
        actions = tuple(str(a) for a in (change or {}).get("actions") or ()
                        ) if isinstance(change, dict) else ()
        if actions and actions not in (("no-op",), ("read",)):
            out.append(ResourceChange(str(item.get("address", "?")), actions))
    return tuple(out)


def drift_projects(config: RepoConfig, tree: Path) -> list[Project]:
    """What a drift check plans: the projects workflows.yaml lists, else every
    root module (a directory of *.tf files no other directory sources)."""
    if config.explicit and config.projects:
        return list(config.projects)
    dirs = tf_dirs(tree)
    graph = ModuleGraph(tree, dirs)
    return [Project(name=default_project_name(d), dir=d) for d in sorted(dirs)
            if not graph.is_sourced(d)]
