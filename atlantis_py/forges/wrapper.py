"""A Forge that hands every call to another one, for the Forges that change
only a few calls: LazyForge builds its inner forge on first use, and the
outbox's JournaledForge (flows/outbox.py) journals writes made inside a job."""

from __future__ import annotations

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


class ForgeWrapper:
    name: str
    comment_limit: int

    @property
    def inner(self) -> Forge:
        """The forge the calls go to."""
        raise NotImplementedError

    def pull_request(self, repo: str, number: int) -> PullRequest:
        return self.inner.pull_request(repo, number)

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]:
        return self.inner.changed_files(repo, number)

    def post_comment(self, repo: str, number: int, body: str) -> None:
        self.inner.post_comment(repo, number, body)

    def set_status(self, repo: str, sha: str, context: str, state: StatusState,
                   description: str) -> None:
        self.inner.set_status(repo, sha, context, state, description)

    def comments(self, repo: str, number: int) -> list[Comment]:
        return self.inner.comments(repo, number)

    def reviews(self, repo: str, number: int) -> list[Review]:
        return self.inner.reviews(repo, number)

    def can_run_commands(self, repo: str, user: str) -> bool:
        return self.inner.can_run_commands(repo, user)

    def can_approve(self, repo: str, user: str) -> bool:
        return self.inner.can_approve(repo, user)

    def default_branch(self, repo: str) -> str:
        return self.inner.default_branch(repo)

    def mergeable(self, repo: str, number: int) -> Mergeability:
        return self.inner.mergeable(repo, number)

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        return self.inner.merge_pull(repo, number, head_sha, delete_branch=delete_branch)

    def in_team(self, team: str, user: str) -> bool:
        return self.inner.in_team(team, user)

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str,
                    opened_by: str) -> PullRequest:
        return self.inner.create_pull(repo, head, base, title, body, opened_by)

    def clone_url(self, repo: str) -> str | None:
        """The wrapped forge's answer when it has `clone_url` (forges/clone_urls.py)."""
        own = getattr(self.inner, "clone_url", None)
        return str(own(repo)) if callable(own) else None

    @property
    def clone_env(self) -> dict[str, str]:
        return self.inner.clone_env
