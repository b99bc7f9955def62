"""A Forge whose client library is imported on first use.

PyGithub and python-gitlab add about 20 MB each to a process; the web process
needs them only for API calls that read reviews or open pull requests, so it
should not pay for them at start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import (
    ChangedFile,
    Comment,
    Mergeability,
    Merged,
    Review,
    StatusState,
)
from atlantis_py.forges.base import Forge


class LazyForge:
    def __init__(self, name: str, comment_limit: int, factory: Callable[[], Forge]) -> None:
        self.name = name
        self.comment_limit = comment_limit
        self._factory = factory
        self._forge: Forge | None = None
        self._lock = threading.Lock()

    @property
    def forge(self) -> Forge:
        with self._lock:
            if self._forge is None:
                self._forge = self._factory()
            return self._forge

    def pull_request(self, repo: str, number: int) -> PullRequest:
        return self.forge.pull_request(repo, number)

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]:
        return self.forge.changed_files(repo, number)

    def post_comment(self, repo: str, number: int, body: str) -> None:
        self.forge.post_comment(repo, number, body)

    def set_status(self, repo: str, sha: str, context: str, state: StatusState,
                   description: str) -> None:
        self.forge.set_status(repo, sha, context, state, description)

    def comments(self, repo: str, number: int) -> list[Comment]:
        return self.forge.comments(repo, number)

    def reviews(self, repo: str, number: int) -> list[Review]:
        return self.forge.reviews(repo, number)

    def can_run_commands(self, repo: str, user: str) -> bool:
        return self.forge.can_run_commands(repo, user)

    def can_approve(self, repo: str, user: str) -> bool:
        return self.forge.can_approve(repo, user)

    def default_branch(self, repo: str) -> str:
        return self.forge.default_branch(repo)

    def mergeable(self, repo: str, number: int) -> Mergeability:
        return self.forge.mergeable(repo, number)

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        return self.forge.merge_pull(repo, number, head_sha, delete_branch=delete_branch)

    def in_team(self, team: str, user: str) -> bool:
        return self.forge.in_team(team, user)

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str,
                    opened_by: str) -> PullRequest:
        return self.forge.create_pull(repo, head, base, title, body, opened_by)

    def clone_url(self, repo: str) -> str | None:
        """The wrapped forge's answer when it has `clone_url` (forges/clone_urls.py)."""
        own = getattr(self.forge, "clone_url", None)
        return str(own(repo)) if callable(own) else None

    @property
    def clone_env(self) -> dict[str, str]:
        return self.forge.clone_env
