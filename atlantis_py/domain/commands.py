"""Comment commands after parsing: `atlantis plan -p x -- -target=...`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from atlantis_py.domain.projects import DEFAULT_AUTOPLAN_FILES


class CommandName(str, Enum):
    PLAN = "plan"
    APPLY = "apply"
    UNLOCK = "unlock"
    HELP = "help"
    VERSION = "version"
    APPROVE_POLICIES = "approve_policies"
    IMPORT = "import"
    STATE = "state"


@dataclass(frozen=True)
class Command:
    name: CommandName
    project: str | None = None
    dir: str | None = None
    workspace: str | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)
    # `import ADDRESS ID` and `state rm ADDRESS...`: the subcommand and the
    # validated positional words, passed to terraform after `--`
    subcommand: str | None = None
    targets: tuple[str, ...] = ()


# --allow-commands takes Atlantis's names; those atlantis-py has no comment for
# (cancel, policy_check) are accepted and allow nothing
ALLOWABLE_COMMANDS = ("version", "plan", "apply", "unlock", "approve_policies", "cancel",
                      "import", "state", "policy_check")
DEFAULT_ALLOWED_COMMANDS = ("version", "plan", "apply", "unlock", "approve_policies", "cancel")


@dataclass(frozen=True)
class CommandPolicy:
    """The server's say over comment commands and autoplan, from its flags:
    `allowed` (--allow-commands: `import` and `state` are opt-in, as in
    Atlantis, since they change state outside a plan), `autoplan` (off with
    --disable-autoplan), `skip_label` (--disable-autoplan-label) and
    `autoplan_files` (--autoplan-file-list)."""

    allowed: frozenset[str] = frozenset(DEFAULT_ALLOWED_COMMANDS)
    autoplan: bool = True
    skip_label: str = ""
    autoplan_files: tuple[str, ...] = DEFAULT_AUTOPLAN_FILES

    def allows(self, name: CommandName) -> bool:
        return name is CommandName.HELP or name.value in self.allowed
