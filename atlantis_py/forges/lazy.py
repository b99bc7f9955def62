"""A Forge whose client library is imported on first use.

PyGithub and python-gitlab add about 20 MB each to a process; the web process
needs them only for API calls that read reviews or open pull requests, so it
should not pay for them at start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from atlantis_py.forges.base import Forge
from atlantis_py.forges.wrapper import ForgeWrapper


class LazyForge(ForgeWrapper):
    def __init__(self, name: str, comment_limit: int, factory: Callable[[], Forge]) -> None:
        self.name = name
        self.comment_limit = comment_limit
        self._factory = factory
        self._forge: Forge | None = None
        self._lock = threading.Lock()

    @property
    def inner(self) -> Forge:
        with self._lock:
            if self._forge is None:
                self._forge = self._factory()
            return self._forge
