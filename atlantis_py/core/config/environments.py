"""The `environments:` section of workflows.yaml: approval policies with their
durations, windows and destroy rules, each refusal located by line and key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from atlantis_py.core.config.reader import ConfigReader, Path
from atlantis_py.core.drift import SCHEDULE_FORMAT, check_schedule
from atlantis_py.domain.drift import DriftSchedule
from atlantis_py.domain.projects import APPLY_REQUIREMENTS, Environment
from atlantis_py.domain.rules import (
    DAYS_FORMAT,
    DURATION_FORMAT,
    HOURS_FORMAT,
    ApplyWindow,
    DestroyRule,
    check_timezone,
    parse_days,
    parse_duration,
    parse_hours,
)

ENVIRONMENT_KEYS = ("required_approvals", "approvers", "allow_self_approval", "approval_ttl",
                    "review_deadline", "apply_window", "destroy_requires", "appliers",
                    "stacks", "apply_requirements", "drift")


class EnvironmentReader(ConfigReader):
    def environment(self, name: str, value: object, path: Path) -> Environment:
        body = self.mapping(value, path, ENVIRONMENT_KEYS)
        default = Environment(name)
        window = body.get("apply_window")
        destroy = body.get("destroy_requires")
        return Environment(
            name=name,
            required_approvals=self.count(body, path, "required_approvals",
                                          default.required_approvals),
            approvers=self.strings(body.get("approvers", []), (*path, "approvers")),
            allow_self_approval=self.flag(body, path, "allow_self_approval", False),
            approval_ttl=self.duration(body, path, "approval_ttl"),
            review_deadline=self.duration(body, path, "review_deadline"),
            apply_window=None if window is None else self.window(window,
                                                                 (*path, "apply_window")),
            destroy_requires=None if destroy is None else self.destroy(
                destroy, (*path, "destroy_requires")),
            appliers=self.strings(body.get("appliers", []), (*path, "appliers")),
            stacks=self.strings(body.get("stacks", []), (*path, "stacks")),
            apply_requirements=self.requirements(body, path),
            drift=None if body.get("drift") is None else self.drift(body["drift"],
                                                                    (*path, "drift")),
        )

    def drift(self, value: object, path: Path) -> DriftSchedule:
        body = self.mapping(value, path, ("schedule", "timezone"))
        if "schedule" not in body:
            self.fail(path, f"missing 'schedule'; give {SCHEDULE_FORMAT}")
        schedule = self.parsed(body["schedule"], (*path, "schedule"), check_schedule,
                               SCHEDULE_FORMAT)
        zone = "UTC"
        if "timezone" in body:
            zone = self.parsed(body["timezone"], (*path, "timezone"), check_timezone,
                               "an IANA time zone name such as 'Europe/Berlin'")
        return DriftSchedule(schedule, zone)

    def requirements(self, body: Mapping[str, object], path: Path) -> tuple[str, ...]:
        """Left out: `[approved]`, so a file without the key is judged as before."""
        if "apply_requirements" not in body:
            return Environment("").apply_requirements
        at = (*path, "apply_requirements")
        names = self.strings(body["apply_requirements"], at)
        for i, name in enumerate(names):
            if name not in APPLY_REQUIREMENTS:
                self.fail((*at, i), f"unknown apply requirement {name!r}; allowed: "
                          + ", ".join(APPLY_REQUIREMENTS))
        return tuple(dict.fromkeys(names))

    def duration(self, body: Mapping[str, object], path: Path, key: str) -> timedelta | None:
        if body.get(key) is None:
            return None
        return self.parsed(body[key], (*path, key), parse_duration, DURATION_FORMAT)

    def window(self, value: object, path: Path) -> ApplyWindow:
        body = self.mapping(value, path, ("days", "hours", "timezone"))
        if not body:
            self.fail(path, "give at least one of days, hours, timezone")
        window = ApplyWindow()
        days, (start, end), zone = window.weekdays, (window.start, window.end), window.timezone
        if "days" in body:
            raw, at = body["days"], (*path, "days")
            if isinstance(raw, list):
                try:
                    days = parse_days(self.strings(raw, at))
                except ValueError as e:
                    self.fail(at, str(e))
            else:
                days = self.parsed(raw, at, parse_days, DAYS_FORMAT)
        if "hours" in body:
            start, end = self.parsed(body["hours"], (*path, "hours"), parse_hours, HOURS_FORMAT)
        if "timezone" in body:
            zone = self.parsed(body["timezone"], (*path, "timezone"), check_timezone,
                               "an IANA time zone name such as 'Europe/Berlin'")
        return ApplyWindow(weekdays=days, start=start, end=end, timezone=zone)

    def destroy(self, value: object, path: Path) -> DestroyRule:
        body = self.mapping(value, path, ("required_approvals", "approvers"))
        if not body:
            self.fail(path, "give required_approvals, approvers or both")
        required = self.count(body, path, "required_approvals", 0) \
            if "required_approvals" in body else None
        return DestroyRule(required_approvals=required,
                           approvers=self.strings(body.get("approvers", []),
                                                  (*path, "approvers")))

