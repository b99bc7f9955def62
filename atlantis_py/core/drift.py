"""When drift checks fall due: pure functions of a schedule and a clock.

A slot is named by its wall-clock time in the environment's time zone, not by
its instant: when clocks go back, "30 2 * * *" meets 02:30 twice, and one name
for both keeps it to one check (as cron does). Every replica computes the same
name for the same slot, so the store can refuse the second claim of it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from croniter import croniter

from atlantis_py.core.detect.dirs import default_project_name
from atlantis_py.core.detect.modules import ModuleGraph, tf_dirs
from atlantis_py.domain.drift import DriftSchedule, ResourceChange
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.domain.server_config import ServerRepoConfig

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


def configured_repos(repo_config: ServerRepoConfig | None, allowlist: Sequence[str],
                     hosts: Mapping[str, str], forges: Collection[str]) -> list[tuple[str, str]]:
    """(forge, name) of every repository the server's own configuration names
    exactly, so drift checks cover it before any pull request is seen: repos.yaml
    `id`s (not `/regex/`s) and --repo-allowlist entries without a glob. An id
    qualified with a forge's host (github.com/acme/infra) is that forge's; a
    bare name (acme/infra, or an allowlist entry) names no forge, so it counts
    only when the server serves one forge."""
    found: dict[tuple[str, str], None] = {}
    only = next(iter(forges)) if len(forges) == 1 else None
    by_host = {host.lower(): forge for forge, host in hosts.items() if forge in forges}

    def add(name: str, qualified: bool) -> None:
        if any(c in name for c in "*?[]") or name.count("/") < 1:
            return
        host, _, rest = name.partition("/")
        if qualified and host.lower() in by_host and "/" in rest:
            forge, name = by_host[host.lower()], rest
        elif only is not None:
            forge = only
        else:
            return
        if repo_name_problem(name, forge) is None:
            found[(forge, name)] = None

    for rule in repo_config.repos if repo_config is not None else ():
        if rule.id_regex is None and rule.id:
            add(rule.id, qualified=True)
    for entry in allowlist:
        add(entry, qualified=False)
    return list(found)
