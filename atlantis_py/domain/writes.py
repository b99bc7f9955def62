"""What a job sends to the forge: comments and commit statuses, as values a
journal can keep, so a retried job sends what is missing and nothing twice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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
