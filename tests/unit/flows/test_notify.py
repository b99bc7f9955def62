from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.domain.drift import DriftResult, DriftState, ResourceChange
from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.errors import ConfigError
from atlantis_py.flows.notify import Notifier, Target, load_targets
from tests.support.receiver import Receiver

RECORD = PullRecord(id=7, forge="github", repo="acme/infra", number=3, author="alice",
                    head_sha="c0ffee" + "0" * 34, head_ref="f", base_ref="main",
                    title="Add queue", clone_url="", state=IPRState.APPROVED, open=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=2)
    yield r
    r.close()


@pytest.mark.parametrize(("text", "named"), [
    pytest.param("environments: [1]", "environments: expected a mapping", id="not-mapping"),
    pytest.param("other: {}", "one key, `environments`", id="unknown-top"),
    pytest.param("environments: {prod: {url: x}}", "environments.prod: expected a list",
                 id="not-list"),
    pytest.param("environments: {prod: [{url: ftp://x}]}", "environments.prod[0].url",
                 id="bad-url"),
    pytest.param("environments: {prod: [{url: 'http://x', format: xml}]}",
                 "environments.prod[0].format", id="bad-format"),
    pytest.param("environments: {prod: [{url: 'http://x', events: [merged]}]}",
                 "environments.prod[0].events", id="bad-event"),
    pytest.param("environments: {prod: [{url: 'http://x', token: y}]}",
                 "environments.prod[0]: expected keys", id="unknown-key"),
    pytest.param("environments: {prod: [", "notifications", id="bad-yaml"),
])
def test_bad_notification_files_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "n.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_targets(path)
    assert named in str(err.value) and str(path) in str(err.value)


def test_targets_parse(tmp_path: Path) -> None:
    path = tmp_path / "n.yaml"
    path.write_text("environments:\n  prod:\n    - url: https://hooks.example/x\n"
                    "      format: slack\n      events: [approved, expired]\n"
                    "  '*':\n    - url: http://siem.example/in\n")
    targets = load_targets(path)
    assert targets["prod"] == (Target("https://hooks.example/x", "slack",
                                      ("approved", "expired")),)
    assert targets["*"][0].format == "json" and "deployed" in targets["*"][0].events


def test_failed_deliveries_are_retried(receiver: Receiver) -> None:
    notifier = Notifier({"prod": (Target(receiver.url, "json"),)}, backoff=(0.01, 0.01, 0.01))
    notifier.emit("approved", RECORD, ["prod"], actor="bob", detail="LGTM")
    [got] = receiver.wait_for(1)
    notifier.close()
    assert receiver.attempts == 3
    assert got["event"] == "approved" and got["actor"] == "bob"
    assert got["ipr"] == {"id": 7, "forge": "github", "repo": "acme/infra", "pull_number": 3,
                          "title": "Add queue", "author": "alice", "state": "APPROVED",
                          "head_sha": RECORD.head_sha}


def test_delivery_gives_up_without_raising(caplog: pytest.LogCaptureFixture) -> None:
    receiver = Receiver(fail_first=100)
    try:
        notifier = Notifier({"*": (Target(receiver.url),)}, backoff=(0.01,))
        notifier.emit("failed", RECORD, ["prod"], actor="bob", detail="apply failed")
        notifier.close()
        assert receiver.attempts == 2 and receiver.received == []
        assert "dropped after 2 attempts" in caplog.text
        assert "/hook" not in caplog.text  # only the host is logged
    finally:
        receiver.close()


def test_events_and_environments_filter_and_slack_format() -> None:
    sent: list[tuple[str, dict[str, str]]] = []
    notifier = Notifier({"prod": (Target("http://a/x", "slack", ("expired",)),),
                         "dev": (Target("http://b/y", "json"),)},
                        send=lambda url, data: sent.append((url, json.loads(data))))
    notifier.emit("approved", RECORD, ["prod"], actor="bob", detail="")
    notifier.emit("expired", RECORD, ["prod", "staging"], actor="atlantis",
                  detail="no approval within 2d")
    notifier.close()
    assert sent == [("http://a/x", {"text": "*expired* (prod): acme/infra#3 Add queue by "
                                            "alice: no approval within 2d"})]


def test_drifted_goes_to_the_projects_environment_and_to_everyone() -> None:
    sent: list[tuple[str, dict[str, object]]] = []
    notifier = Notifier({"prod": (Target("http://a/x", "slack"),
                                  Target("http://c/z", "json", ("deployed",))),
                         "dev": (Target("http://b/y", "json"),),
                         "*": (Target("http://d/all", "json", ("drifted",)),)},
                        send=lambda url, data: sent.append((url, json.loads(data))))
    drift = DriftResult(forge="github", repo="acme/infra", project="network", dir="network",
                        workspace="default", environment="prod", state=DriftState.DRIFTED,
                        head_sha="c0ffee" + "0" * 34, change=1, trigger="schedule",
                        resources=(ResourceChange("terraform_data.a", ("update",)),))
    notifier.emit_drift(drift)
    notifier.close()
    by_url = dict(sent)
    assert set(by_url) == {"http://a/x", "http://d/all"}
    assert by_url["http://a/x"] == {"text": "*drifted* (prod): acme/infra project network at "
                                            "c0ffee0: 0 to add, 1 to change, 0 to destroy: "
                                            "terraform_data.a (update)"}
    full = by_url["http://d/all"]
    assert (full["event"], full["environment"]) == ("drifted", "prod")
    assert full["drift"] == {"forge": "github", "repo": "acme/infra", "project": "network",
                             "dir": "network", "workspace": "default",
                             "head_sha": drift.head_sha, "trigger": "schedule",
                             "after_apply": False, "pull_number": None, "add": 0,
                             "change": 1, "destroy": 0,
                             "resources": [{"address": "terraform_data.a",
                                            "actions": ["update"]}]}


def test_drift_found_after_an_apply_says_so_and_names_the_pull_request() -> None:
    sent: list[tuple[str, dict[str, object]]] = []
    notifier = Notifier({"prod": (Target("http://a/x", "slack"), Target("http://b/y", "json"))},
                        send=lambda url, data: sent.append((url, json.loads(data))))
    drift = DriftResult(forge="gitlab", repo="acme/infra", project="clock", dir="clock",
                        workspace="default", environment="prod", state=DriftState.DRIFTED,
                        head_sha="beef" + "0" * 36, add=1, destroy=1, trigger="apply",
                        resources=(ResourceChange("terraform_data.stamp",
                                                  ("delete", "create")),))
    notifier.emit_drift(drift, pull_number=7)
    notifier.close()
    by_url = dict(sent)
    assert by_url["http://a/x"] == {"text": "*drifted after the apply of #7* (prod): acme/infra "
                                            "project clock at beef000: 1 to add, 0 to change, "
                                            "1 to destroy: terraform_data.stamp (delete/create)"}
    full = by_url["http://b/y"]
    assert full["detail"] == "1 to add, 0 to change, 1 to destroy after the apply of #7"
    assert isinstance(full["drift"], dict)
    assert (full["drift"]["trigger"], full["drift"]["after_apply"],
            full["drift"]["pull_number"]) == ("apply", True, 7)
