"""Comment commands after parsing: `atlantis plan -p x -- -target=...`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class CommandName(str, Enum):
    PLAN = "plan"
    APPLY = "apply"
    UNLOCK = "unlock"
    HELP = "help"
    VERSION = "version"
    APPROVE_POLICIES = "approve_policies"


@dataclass(frozen=True)
class Command:
    name: CommandName
    project: str | None = None
    dir: str | None = None
    workspace: str | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)
