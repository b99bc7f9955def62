"""Outgoing webhooks when an IPR needs review or changes state.

Targets come from a server-side file (`--notifications`), not from repos: the
URLs are credentials (a Slack incoming-webhook URL is one). Sending happens on a
small thread pool with retries; a failure is logged and never holds up a plan,
a review or an apply.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from atlantis_py.core.approvals import EXPIRED
from atlantis_py.core.ipr import Transition
from atlantis_py.core.ports import Pulls
from atlantis_py.domain.drift import DriftResult
from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.errors import ConfigError

log = logging.getLogger(__name__)

EVENTS = ("review_requested", "approved", "rejected", "expired", "deployed", "failed",
          "drifted")
FORMATS = ("json", "slack")
ALL_ENVIRONMENTS = "*"
STATE_EVENTS = {IPRState.APPROVED: "approved", IPRState.REJECTED: "rejected",
                IPRState.DEPLOYED: "deployed", IPRState.FAILED: "failed"}


@dataclass(frozen=True)
class Target:
    url: str
    format: str = "json"
    events: tuple[str, ...] = EVENTS


@dataclass(frozen=True)
class Notice:
    event: str
    environment: str
    record: PullRecord
    actor: str
    detail: str
    at: datetime


def load_targets(path: Path) -> dict[str, tuple[Target, ...]]:
    """Parse the notifications file; every error names the file and the key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"--notifications {path}: {err}") from None
    where = f"--notifications {path}"
    if not isinstance(data, dict) or set(data) - {"environments"}:
        raise ConfigError(f"{where}: expected a mapping with one key, `environments`")
    envs = data.get("environments") or {}
    if not isinstance(envs, dict):
        raise ConfigError(f"{where}: environments: expected a mapping of name → list")
    out: dict[str, tuple[Target, ...]] = {}
    for name, items in envs.items():
        if not isinstance(items, list):
            raise ConfigError(f"{where}: environments.{name}: expected a list of targets")
        out[str(name)] = tuple(_target(where, f"environments.{name}[{i}]", item)
                               for i, item in enumerate(items))
    return out


def _target(where: str, key: str, item: Any) -> Target:
    if not isinstance(item, dict) or set(item) - {"url", "format", "events"}:
        raise ConfigError(f"{where}: {key}: expected keys url, format, events")
    url = item.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: {key}.url: expected an http(s) URL")
    fmt = item.get("format", "json")
    if fmt not in FORMATS:
        raise ConfigError(f"{where}: {key}.format: expected one of {', '.join(FORMATS)}")
    events = item.get("events", list(EVENTS))
    if not isinstance(events, list) or any(e not in EVENTS for e in events):
        raise ConfigError(f"{where}: {key}.events: expected a list from {', '.join(EVENTS)}")
    return Target(url=url, format=fmt, events=tuple(events))


def body(notice: Notice, fmt: str) -> bytes:
    r = notice.record
    if fmt == "slack":
        text = (f"*{notice.event.replace('_', ' ')}* ({notice.environment}): "
                f"{r.repo}#{r.number} {r.title} by {r.author}: {notice.detail}")
        return json.dumps({"text": text}).encode()
    return json.dumps({
        "event": notice.event, "environment": notice.environment, "actor": notice.actor,
        "detail": notice.detail, "at": notice.at.isoformat(),
        "ipr": {"id": r.id, "forge": r.forge, "repo": r.repo, "pull_number": r.number,
                "title": r.title, "author": r.author, "state": r.state.value,
                "head_sha": r.head_sha},
    }).encode()


def drift_body(result: DriftResult, fmt: str, at: datetime, pull_number: int = 0) -> bytes:
    """A `drifted` notice: about a project of a repository, not an IPR. Found by
    the plan right after an apply (trigger `apply`), it says so and names the
    pull request (`pull_number`) whose apply left the plan not empty."""
    counts = f"{result.add} to add, {result.change} to change, {result.destroy} to destroy"
    after_apply = result.trigger == "apply"
    found = f" after the apply of #{pull_number}" if after_apply and pull_number else \
        " after an apply" if after_apply else ""
    if fmt == "slack":
        text = (f"*drifted{found}* ({result.environment}): {result.repo} project "
                f"{result.project} at {result.head_sha[:7]}: {counts}: "
                + ", ".join(f"{r.address} ({'/'.join(r.actions)})" for r in result.resources))
        return json.dumps({"text": text}).encode()
    return json.dumps({
        "event": "drifted", "environment": result.environment, "actor": "atlantis",
        "detail": counts + found, "at": at.isoformat(),
        "drift": {"forge": result.forge, "repo": result.repo, "project": result.project,
                  "dir": result.dir, "workspace": result.workspace,
                  "head_sha": result.head_sha, "trigger": result.trigger,
                  "after_apply": after_apply, "pull_number": pull_number or None,
                  "add": result.add, "change": result.change, "destroy": result.destroy,
                  "resources": [{"address": r.address, "actions": list(r.actions)}
                                for r in result.resources]},
    }).encode()


def http_post(url: str, data: bytes) -> None:
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "atlantis-py"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()


class Notifier:
    def __init__(self, targets: Mapping[str, tuple[Target, ...]],
                 send: Callable[[str, bytes], None] = http_post,
                 backoff: tuple[float, ...] = (0.5, 2.0, 8.0)) -> None:
        self.targets = targets
        self.send = send
        self.backoff = backoff
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="atlantis-notify")

    def emit(self, event: str, record: PullRecord, environments: Iterable[str], *,
             actor: str, detail: str) -> None:
        now = datetime.now(UTC)
        for env in sorted(set(environments)):
            for target in (*self.targets.get(env, ()), *self.targets.get(ALL_ENVIRONMENTS, ())):
                if event in target.events:
                    notice = Notice(event, env, record, actor, detail, now)
                    self._pool.submit(self._deliver, target, notice)

    def emit_drift(self, result: DriftResult, pull_number: int = 0) -> None:
        """`drifted` to the targets of the project's environment (and of "*");
        `pull_number`: the pull request whose apply's verify plan found it."""
        now = datetime.now(UTC)
        env = result.environment
        for target in (*self.targets.get(env, ()), *self.targets.get(ALL_ENVIRONMENTS, ())):
            if "drifted" in target.events:
                self._pool.submit(self._send, target.url,
                                  drift_body(result, target.format, now, pull_number),
                                  f"drifted for {result.repo} {result.project}")

    def _deliver(self, target: Target, notice: Notice) -> bool:
        return self._send(target.url, body(notice, target.format),
                          f"{notice.event} for {notice.record.repo}#{notice.record.number}")

    def _send(self, url: str, data: bytes, what: str) -> bool:
        for attempt, pause in enumerate((*self.backoff, None), start=1):
            try:
                self.send(url, data)
                return True
            except (urllib.error.URLError, OSError, ValueError) as err:
                log.warning("notification %s to %s failed (attempt %d): %s",
                            what, _host(url), attempt, err)
            if pause is None:
                break
            time.sleep(pause)
        log.error("notification %s dropped after %d attempts", what, len(self.backoff) + 1)
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def _host(url: str) -> str:
    """Only the host in logs: the rest of a webhook URL is often its secret."""
    return url.split("/")[2] if url.count("/") >= 2 else "?"


class Announcer:
    """Turns IPR transitions (and plans awaiting review) into notifications for the
    environments the IPR's plans belong to."""

    def __init__(self, pulls: Pulls, notifier: Notifier | None) -> None:
        self.pulls = pulls
        self.notifier = notifier

    def environments(self, record: PullRecord) -> set[str]:
        return {r.environment for r in self.pulls.latest_runs(record.id, "plan").values()} \
            or {"default"}

    def __call__(self, t: Transition, before: IPRState) -> None:
        event = STATE_EVENTS.get(t.target)
        if event is None or self.notifier is None:
            return
        if t.target is IPRState.REJECTED and t.reason.startswith(EXPIRED):
            event = "expired"
        record = self.pulls.by_id(t.pull.id) or t.pull
        self.notifier.emit(event, record, self.environments(record), actor=t.actor,
                           detail=t.reason)

    def review_requested(self, record: PullRecord, actor: str, detail: str) -> None:
        if self.notifier is not None and record.state is IPRState.PENDING and record.open:
            self.notifier.emit("review_requested", record, self.environments(record),
                               actor=actor, detail=detail)
