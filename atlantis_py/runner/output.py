"""Where a running process's output goes while it runs: the job's live log.

The runner prints to whatever sink the caller set for the current context
(`streaming_to`), so runner/ needs no idea of jobs or databases; flows sets it
per job (flows/job_logs.py). Contexts are copied into the threads a job fans
out to, so parallel projects stream too, each line labelled with its project.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

log = logging.getLogger(__name__)


class OutputSink(Protocol):
    """Takes lines as a process prints them; must be quick (it runs on the thread
    reading the process's output) and must not raise."""

    def line(self, text: str) -> None: ...

    def project(self, name: str) -> None:
        """The job began work on project `name`."""


_sink: ContextVar[OutputSink | None] = ContextVar("atlantis_output_sink", default=None)


def current_sink() -> OutputSink | None:
    return _sink.get()


@contextmanager
def streaming_to(sink: OutputSink | None) -> Iterator[None]:
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


class _Labelled:
    def __init__(self, sink: OutputSink, name: str) -> None:
        self.sink = sink
        self.prefix = f"[{name}] "

    def line(self, text: str) -> None:
        self.sink.line(self.prefix + text)

    def project(self, name: str) -> None:
        self.sink.project(name)


@contextmanager
def for_project(name: str) -> Iterator[None]:
    """Within the block, lines are labelled `[name] ` and the sink hears of the project."""
    sink = _sink.get()
    if sink is None:
        yield
        return
    sink.project(name)
    with streaming_to(_Labelled(sink, name)):
        yield


@contextmanager
def unlogged(note: str) -> Iterator[None]:
    """Within the block nothing reaches the sink but `note`: for output that is a
    value (an env step's), which may well be a secret no one has named."""
    sink = _sink.get()
    if sink is not None:
        sink.line(note)
    with streaming_to(None):
        yield


def follow(proc: subprocess.Popen[bytes], timeout: float, sink: OutputSink,
           grace: float) -> tuple[bytes, bool]:
    """All output at the end, and each line handed to `sink` as it is printed
    (read on a thread of its own, so the deadline holds however slow the lines).
    True when the deadline stopped it: SIGINT to its process group, then SIGKILL
    after `grace` seconds."""
    assert proc.stdout is not None
    stdout = proc.stdout
    chunks: list[bytes] = []

    def read() -> None:
        for raw in iter(stdout.readline, b""):
            chunks.append(raw)
            try:
                sink.line(raw.decode("utf-8", "replace").rstrip("\r\n"))
            except Exception:  # a log that fails must not fail the run
                log.exception("the live log lost a line")

    reader = threading.Thread(target=read, name="atlantis-output", daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()
    reader.join()
    stdout.close()
    return b"".join(chunks), timed_out
