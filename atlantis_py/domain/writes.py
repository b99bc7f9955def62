"""What a job sends to the forge: comments and commit statuses, as values a
journal can keep, so a retried job sends what is missing and nothing twice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum

from atlantis_py.domain.forge import StatusState


class WriteKind(str, Enum):
    COMMENT = "comment"
    STATUS = "status"


@dataclass(frozen=True)
class ForgeWrite:
    """A comment (`number`, `body`) or a commit status (`sha`, `context`, `state`,
    `body` = its description) on one repository of one forge."""

    kind: WriteKind
    forge: str
    repo: str
    number: int = 0
    sha: str = ""
    context: str = ""
    state: StatusState | None = None
    body: str = ""
    # an earlier send failed in a way that may have landed it (a 5xx, a timeout):
    # look before sending again. Not part of what the write is.
    uncertain: bool = field(default=False, compare=False)

    @property
    def digest(self) -> str:
        """Same for the same write: how a retry knows it was sent."""
        key = [self.kind.value, self.forge, self.repo, self.number, self.sha, self.context,
               self.state.value if self.state else "", self.body]
        return hashlib.sha256(json.dumps(key).encode()).hexdigest()

    def __str__(self) -> str:
        if self.kind is WriteKind.COMMENT:
            return f"comment on {self.repo}#{self.number}"
        return f"status {self.context} on {self.repo}@{self.sha[:12]}"


MARKER_ROOM = 80  # characters a comment keeps free for its marker


def marker(job_id: int, write: ForgeWrite) -> str:
    """The HTML comment (invisible on GitHub and GitLab) that ends every comment
    a job posts: the job and which of its comments this is, so a comment whose
    answer was lost can be found on the pull request instead of posted again."""
    return f"<!-- atlantis-py job={job_id} part={write.digest[:16]} -->"


def describe(write: ForgeWrite) -> str:
    """One line naming a write for people: a comment by its first line."""
    if write.kind is WriteKind.COMMENT:
        first = next((line.strip() for line in write.body.splitlines() if line.strip()), "")
        if len(first) > 80:
            first = first[:79] + "…"
        return f"a comment beginning “{first}”"
    state = write.state.value if write.state else ""
    return f"the status `{write.context}` = {state} on `{write.sha[:7]}` ({write.body})"
