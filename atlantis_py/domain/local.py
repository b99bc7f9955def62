"""What the local forge keeps in the database: its pull requests and comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LocalPull:
    repo: str
    number: int
    author: str
    head_ref: str
    base_ref: str
    title: str
    body: str
    state: str  # open | closed | merged


@dataclass(frozen=True)
class LocalComment:
    author: str
    body: str
    created_at: datetime
