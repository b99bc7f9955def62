"""A running process's lines reach the context's sink as they are printed, labelled
with their project; the run's result is the same with or without one; and a plan's
resource changes are read off its JSON."""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import atlantis_py.runner.process as process_module
import atlantis_py.runner.terraform as terraform_module
from atlantis_py.domain.results import ResourceChange
from atlantis_py.runner.changes import resource_changes
from atlantis_py.runner.output import current_sink, for_project, streaming_to
from atlantis_py.runner.terraform import TIMEOUT_RETURNCODE, execute
from tests.unit.runner.test_terraform import ACTIONS, _load

ENV = {"PATH": "/usr/bin:/bin"}


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.projects: list[str] = []
        self.seen = threading.Event()
        self.waiting_for = ""

    def line(self, text: str) -> None:
        self.lines.append(text)
        if self.waiting_for and self.waiting_for == text:
            self.seen.set()

    def project(self, name: str) -> None:
        self.projects.append(name)


@pytest.fixture
def sink() -> Iterator[Lines]:
    lines = Lines()
    with streaming_to(lines):
        yield lines
    assert current_sink() is None


def test_lines_arrive_while_the_process_runs(sink: Lines, tmp_path: Path) -> None:
    """The first line is seen before the process may go on (it waits for a file
    the sink's side creates), so it was not read at the end."""
    gate = tmp_path / "gate"
    script = ("import os, sys, time\nprint('one', flush=True)\n"
              "while not os.path.exists(sys.argv[1]): time.sleep(0.02)\n"
              "print('two\\r')\nsys.stderr.write('three')\n")
    sink.waiting_for = "one"
    result: list[terraform_module.TerraformRun] = []
    context = contextvars.copy_context()  # the sink goes with it, as in the plan pool
    runner = threading.Thread(target=lambda: result.append(context.run(
        execute, [sys.executable, "-c", script, str(gate)], tmp_path, ENV, 60)))
    runner.start()
    assert sink.seen.wait(60)
    assert "two" not in sink.lines
    gate.touch()
    runner.join(60)
    (run,) = result
    assert run.ok and run.output == "one\ntwo\r\nthree"
    assert sink.lines[0].startswith("$ python") and sink.lines[0].endswith(str(gate))
    assert sink.lines[1:] == ["one", "two", "three"]


def test_projects_label_their_lines(sink: Lines, tmp_path: Path) -> None:
    with for_project("network"):
        execute(["echo", "hello"], tmp_path, ENV, timeout=60)
    execute(["echo", "after"], tmp_path, ENV, timeout=60)
    assert sink.projects == ["network"]
    assert sink.lines == ["[network] $ echo hello", "[network] hello", "$ echo after", "after"]


def test_a_timeout_stops_a_streamed_process_and_says_so(
        sink: Lines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_module, "_INTERRUPT_GRACE", 0.5)
    slow = execute(["sleep", "300"], tmp_path, ENV, timeout=0.2)
    assert slow.returncode == TIMEOUT_RETURNCODE and "timed out after 0.2 seconds" in slow.output
    assert sink.lines[-1] == "sleep timed out after 0.2 seconds and was stopped."


def test_a_failing_sink_does_not_fail_the_run(tmp_path: Path) -> None:
    class Broken:
        def line(self, text: str) -> None:
            if not text.startswith("$"):
                raise RuntimeError("the log is away")

        def project(self, name: str) -> None:
            pass

    with streaming_to(Broken()):
        run = execute(["echo", "still here"], tmp_path, ENV, timeout=60)
    assert run.ok and run.output == "still here\n"


def test_without_a_sink_nothing_streams(tmp_path: Path) -> None:
    with for_project("network"):
        assert current_sink() is None
        assert execute(["echo", "x"], tmp_path, ENV, timeout=60).output == "x\n"


@pytest.mark.parametrize("case", sorted(ACTIONS))
def test_resource_changes_name_each_changed_resource(case: str) -> None:
    plan = _load(case)
    changes = resource_changes(plan)
    wanted = {("create",): "create", ("update",): "update", ("delete",): "delete",
              ("create", "delete"): "replace", ("delete", "create"): "replace"}
    expected = [ResourceChange(r["address"], wanted[tuple(r["change"]["actions"])])
                for r in plan.get("resource_changes", [])
                if tuple(r["change"]["actions"]) in wanted]
    assert list(changes) == expected
    assert len(changes) == sum(len(a) > 0 and a not in (["no-op"], ["forget"])
                               for a in ACTIONS[case])


def test_resource_changes_are_bounded() -> None:
    plan = {"resource_changes": [{"address": f"terraform_data.r{n}",
                                  "change": {"actions": ["create"]}} for n in range(30)]}
    assert [c.address for c in resource_changes(plan, limit=3)] == [
        "terraform_data.r0", "terraform_data.r1", "terraform_data.r2"]
