"""The local forge's records: pull requests, comments and commit statuses of
repositories served from disk (--local-repos). Reviews given through the API or
CLI stay in store/reviews.py, as for every forge; who may review is the role of
the user's API tokens."""

from __future__ import annotations

from sqlalchemy import func, select

from atlantis_py.domain.local import LocalComment, LocalPull
from atlantis_py.domain.records import Role
from atlantis_py.store.db import Database, utcnow
from atlantis_py.store.local_tables import LocalCommentRow, LocalPullRow, LocalStatusRow
from atlantis_py.store.tables import TokenRow

OPEN = "open"


def _pull(row: LocalPullRow) -> LocalPull:
    return LocalPull(repo=row.repo, number=row.number, author=row.author,
                     head_ref=row.head_ref, base_ref=row.base_ref, title=row.title,
                     body=row.body, state=row.state)


class LocalForgeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open_pull(self, repo: str, author: str, head: str, base: str, title: str,
                  body: str) -> LocalPull | None:
        """The new pull request, numbered after the repository's last one; None
        when one is already open from `head` into `base` (as forges refuse)."""
        with self.db.session() as s:
            taken = s.scalars(select(LocalPullRow).where(
                LocalPullRow.repo == repo, LocalPullRow.head_ref == head,
                LocalPullRow.base_ref == base, LocalPullRow.state == OPEN)).first()
            if taken is not None:
                return None
            last = s.scalar(select(func.max(LocalPullRow.number))
                            .where(LocalPullRow.repo == repo)) or 0
            row = LocalPullRow(repo=repo, number=last + 1, author=author, head_ref=head,
                               base_ref=base, title=title, body=body, state=OPEN,
                               created_at=utcnow())
            s.add(row)
            s.flush()
            return _pull(row)

    def pull(self, repo: str, number: int) -> LocalPull | None:
        with self.db.session() as s:
            row = s.scalars(select(LocalPullRow).where(LocalPullRow.repo == repo,
                                                       LocalPullRow.number == number)).first()
            return None if row is None else _pull(row)

    def open_pulls(self, repo: str, head: str | None) -> list[LocalPull]:
        """Open pull requests from branch `head` (None: any), newest first."""
        query = select(LocalPullRow).where(LocalPullRow.repo == repo, LocalPullRow.state == OPEN)
        if head is not None:
            query = query.where(LocalPullRow.head_ref == head)
        with self.db.session() as s:
            rows = s.scalars(query.order_by(LocalPullRow.number.desc())).all()
            return [_pull(r) for r in rows]

    def set_state(self, repo: str, number: int, state: str) -> None:
        with self.db.session() as s:
            row = s.scalars(select(LocalPullRow).where(LocalPullRow.repo == repo,
                                                       LocalPullRow.number == number)).first()
            if row is not None:
                row.state = state

    def add_comment(self, repo: str, number: int, author: str, body: str) -> int:
        """The new comment's id."""
        with self.db.session() as s:
            row = LocalCommentRow(repo=repo, number=number, author=author, body=body,
                                  created_at=utcnow())
            s.add(row)
            s.flush()
            return row.id

    def comments(self, repo: str, number: int) -> list[LocalComment]:
        with self.db.session() as s:
            rows = s.scalars(select(LocalCommentRow).where(
                LocalCommentRow.repo == repo, LocalCommentRow.number == number)
                .order_by(LocalCommentRow.id)).all()
            return [LocalComment(author=r.author, body=r.body, created_at=r.created_at)
                    for r in rows]

    def set_status(self, repo: str, sha: str, context: str, state: str,
                   description: str) -> None:
        with self.db.session() as s:
            row = s.scalars(select(LocalStatusRow).where(
                LocalStatusRow.repo == repo, LocalStatusRow.sha == sha,
                LocalStatusRow.context == context)).first()
            if row is None:
                s.add(LocalStatusRow(repo=repo, sha=sha, context=context, state=state,
                                     description=description, updated_at=utcnow()))
            else:
                row.state, row.description, row.updated_at = state, description, utcnow()

    def statuses(self, repo: str, sha: str) -> dict[str, str]:
        """context -> state of the commit `sha`."""
        with self.db.session() as s:
            rows = s.scalars(select(LocalStatusRow).where(LocalStatusRow.repo == repo,
                                                          LocalStatusRow.sha == sha)).all()
            return {r.context: r.state for r in rows}

    def role(self, user: str) -> Role | None:
        """The highest role of `user`'s live API tokens: the local forge's
        write access."""
        with self.db.session() as s:
            roles = s.scalars(select(TokenRow.role).where(
                func.lower(TokenRow.user) == user.lower(), TokenRow.revoked.is_(False))).all()
        found = [Role(r) for r in roles]
        for candidate in (Role.ADMIN, Role.REVIEWER, Role.VIEWER):
            if candidate in found:
                return candidate
        return None
