"""Who may approve: write access, asked of the forge at most once per user per job.

One job can judge the same reviewers several times (every environment of
an apply, or an API review that checks, records and then shows the IPR), so
answers are kept for the job (`one_job`), and for at most ACCESS_TTL of it,
so a job never acts on an answer older than that. Outside a job nothing is
kept: a permission granted or revoked counts from the next job on.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, Protocol, TypeVar

ACCESS_TTL = 60.0  # seconds
_now: Callable[[], float] = time.monotonic

_P = ParamSpec("_P")
_T = TypeVar("_T")


class AsksAccess(Protocol):
    """The part of forges.base.Forge this needs."""

    name: str

    def can_approve(self, repo: str, user: str) -> bool: ...


class _Answers:
    def __init__(self) -> None:
        self.found: dict[tuple[str, str, str], tuple[float, bool]] = {}
        self.lock = threading.Lock()


_job: ContextVar[_Answers | None] = ContextVar("atlantis_access_answers", default=None)


@contextmanager
def one_job() -> Iterator[None]:
    """Within the block (a job, an API request), each user's access is asked once;
    an enclosing block's answers are reused."""
    if _job.get() is not None:
        yield
        return
    token = _job.set(_Answers())
    try:
        yield
    finally:
        _job.reset(token)


def as_one_job(operation: Callable[_P, _T]) -> Callable[_P, _T]:
    """`operation` runs as one_job."""
    @functools.wraps(operation)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with one_job():
            return operation(*args, **kwargs)
    return run


def can_approve(forge: AsksAccess, repo: str, user: str) -> bool:
    """forge.can_approve, remembered for the current job."""
    answers = _job.get()
    if answers is None:
        return forge.can_approve(repo, user)
    key = (forge.name, repo.lower(), user.lower())
    now = _now()
    with answers.lock:
        known = answers.found.get(key)
    if known is not None and now - known[0] <= ACCESS_TTL:
        return known[1]
    allowed = forge.can_approve(repo, user)
    with answers.lock:
        answers.found[key] = (now, allowed)
    return allowed
