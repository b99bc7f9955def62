"""Where a running process's output goes while it runs: the job's live log.

The runner prints to whatever sink the caller set for the current context
(`streaming_to`), so runner/ needs no idea of jobs or databases; flows sets it
per job (flows/job_logs.py). Contexts are copied into the threads a job fans
out to, so parallel projects stream too, each line labelled with its project.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


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
