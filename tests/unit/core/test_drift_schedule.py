"""Drift schedules: how workflows.yaml's `drift:` is read, and which slot is due
when, across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atlantis_py.core.config.schema import parse_repo_config
from atlantis_py.core.drift import check_schedule, configured_repos, due_slot, plan_changes
from atlantis_py.domain.drift import DriftSchedule, ResourceChange
from atlantis_py.domain.server_config import RepoRule, ServerRepoConfig
from atlantis_py.errors import RepoConfigError

BERLIN_6 = DriftSchedule("0 6 * * *", "Europe/Berlin")


def config(drift: str) -> str:
    return f"version: 1\nenvironments:\n  prod:\n    required_approvals: 1\n    drift: {drift}\n"


def test_drift_is_read_with_its_time_zone() -> None:
    cfg = parse_repo_config(config('{schedule: "0 6 * * *", timezone: Europe/Berlin}'))
    assert cfg.environments["prod"].drift == BERLIN_6


def test_drift_time_zone_defaults_to_utc() -> None:
    cfg = parse_repo_config(config('{schedule: "*/30 * * * 1-5"}'))
    assert cfg.environments["prod"].drift == DriftSchedule("*/30 * * * 1-5", "UTC")


def test_no_drift_key_means_no_checks() -> None:
    assert parse_repo_config(config("null")).environments["prod"].drift is None


@pytest.mark.parametrize(("drift", "key", "message"), [
    ('{schedule: "0 25 * * *"}', "environments.prod.drift.schedule",
     "'0 25 * * *' is not a valid cron expression"),
    ('{schedule: "0 6 * *"}', "environments.prod.drift.schedule",
     "expected a five-field cron expression such as '0 6 * * *', got 4 fields"),
    ('{schedule: 6}', "environments.prod.drift.schedule",
     "expected a five-field cron expression such as '0 6 * * *', got an integer"),
    ('{schedule: "0 6 * * *", timezone: Mars/Olympus}', "environments.prod.drift.timezone",
     "unknown time zone 'Mars/Olympus'"),
    ('{timezone: UTC}', "environments.prod.drift", "missing 'schedule'"),
    ('{schedule: "0 6 * * *", when: daily}', "environments.prod.drift.when",
     "unknown key 'when'; allowed keys: schedule, timezone"),
    ('daily', "environments.prod.drift", "expected a mapping, got a string"),
])
def test_invalid_drift_names_file_line_and_key(drift: str, key: str, message: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        parse_repo_config(config(drift))
    err = caught.value
    assert (err.file, err.line, err.key) == ("workflows.yaml", 5, key)
    assert message in err.message


def test_check_schedule_normalises_spacing() -> None:
    assert check_schedule("0  6 * *   *") == "0 6 * * *"


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("now", "slot"), [
    # winter: 06:00 in Berlin is 05:00 UTC
    (utc(2026, 1, 15, 4, 59), None),
    (utc(2026, 1, 15, 5, 0), datetime(2026, 1, 15, 6, 0)),
    (utc(2026, 1, 15, 5, 59), datetime(2026, 1, 15, 6, 0)),
    (utc(2026, 1, 15, 6, 1), None),  # more than an hour late: not made up for
    # summer: 06:00 in Berlin is 04:00 UTC
    (utc(2026, 7, 15, 4, 30), datetime(2026, 7, 15, 6, 0)),
    (utc(2026, 7, 15, 5, 30), None),
    # the day clocks go forward (29 March 2026) and back (25 October 2026)
    (utc(2026, 3, 29, 4, 0), datetime(2026, 3, 29, 6, 0)),
    (utc(2026, 10, 25, 5, 0), datetime(2026, 10, 25, 6, 0)),
    (utc(2026, 10, 25, 4, 30), None),
])
def test_due_slot_follows_the_zone(now: datetime, slot: datetime | None) -> None:
    assert due_slot(BERLIN_6, now) == slot


def test_a_wall_clock_time_met_twice_is_one_slot() -> None:
    """02:30 on 25 October 2026 happens at 00:30 and at 01:30 UTC in Berlin: both
    name the same slot, so the store's claim of it runs one check."""
    schedule = DriftSchedule("30 2 * * *", "Europe/Berlin")
    first = due_slot(schedule, utc(2026, 10, 25, 0, 40))
    second = due_slot(schedule, utc(2026, 10, 25, 1, 40))
    assert first == second == datetime(2026, 10, 25, 2, 30)


def test_a_wall_clock_time_that_never_happens_still_gets_its_day() -> None:
    """02:30 does not exist on 29 March 2026 in Berlin: the check runs once that
    night, when the clock shows 03:00, rather than being skipped."""
    schedule = DriftSchedule("30 2 * * *", "Europe/Berlin")
    slots = {due_slot(schedule, utc(2026, 3, 29, 0, 0) + timedelta(minutes=m))
             for m in range(0, 180, 5)} - {None}
    assert slots == {datetime(2026, 3, 29, 3, 0)}


def test_every_replica_names_the_same_slot_whenever_it_looks() -> None:
    schedule = DriftSchedule("*/15 * * * *", "America/New_York")
    seen = {due_slot(schedule, utc(2026, 5, 1, 12, 15) + timedelta(seconds=s))
            for s in range(0, 900, 20)}
    assert seen == {datetime(2026, 5, 1, 8, 15)}


def test_plan_changes_lists_addresses_and_actions() -> None:
    plan = {"resource_changes": [
        {"address": "terraform_data.a", "change": {"actions": ["update"]}},
        {"address": "terraform_data.b", "change": {"actions": ["delete", "create"]}},
        {"address": "terraform_data.c", "change": {"actions": ["no-op"]}},
        {"address": "data.x.y", "change": {"actions": ["read"]}},
    ]}
    assert plan_changes(plan) == (ResourceChange("terraform_data.a", ("update",)),
                                  ResourceChange("terraform_data.b", ("delete", "create")))
    assert plan_changes({}) == () and plan_changes([]) == ()


HOSTS = {"github": "github.com", "gitlab": "gitlab.example.com", "local": "local"}


def test_configured_repos_are_exact_ids_and_allowlist_names() -> None:
    config = ServerRepoConfig(file="repos.yaml", repos=(
        RepoRule(id="github.com/acme/infra"),
        RepoRule(id="gitlab.example.com/ops/sub/net"),
        RepoRule(id="/.*/", id_regex=".*"),
        RepoRule(id="acme/bare"),
        RepoRule(id="github.com/acme/infra")))
    allow = ("acme/*", "acme/dns", "*", "acme/x?", "other/**")
    assert configured_repos(config, allow, HOSTS, ["github"]) == [
        ("github", "acme/infra"), ("github", "acme/bare"), ("github", "acme/dns")]
    # bare names name no forge: with two, only host-qualified ids count
    assert configured_repos(config, allow, HOSTS, ["github", "gitlab"]) == [
        ("github", "acme/infra"), ("gitlab", "ops/sub/net")]
    assert configured_repos(None, ("*",), HOSTS, ["github"]) == []


def test_configured_repos_skip_what_is_no_repository_name() -> None:
    config = ServerRepoConfig(file="repos.yaml", repos=(
        RepoRule(id="github.com/acme/in fra"), RepoRule(id="github.com/acme/a/b"),
        RepoRule(id="noslash")))
    assert configured_repos(config, ("acme/../x",), HOSTS, ["github"]) == []
