"""Terraform's credentials per approval environment, as the `--credentials` file
names them: where each value comes from, never the value itself (except a
literal), so a rotated file or a changed server variable is read at use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum


class Source(str, Enum):
    LITERAL = "literal"  # the value as written
    SERVER_ENV = "server_env"  # `${NAME}`: the server's environment variable NAME
    FILE = "file"  # `file:/path`: the file's content, read at each use


@dataclass(frozen=True)
class CredentialVar:
    """One variable of one environment. `ref` is the literal (kept out of repr),
    the server variable's name or the file's path; `key` and `line` locate it."""

    name: str
    source: Source
    ref: str = field(repr=False)
    key: str = ""
    line: int | None = None


@dataclass(frozen=True)
class CredentialsFile:
    file: str
    environments: Mapping[str, tuple[CredentialVar, ...]] = field(default_factory=dict)

    def variables(self, environment: str) -> tuple[CredentialVar, ...]:
        return self.environments.get(environment, ())

    def where(self, var: CredentialVar) -> str:
        """`creds.yaml:4: environments.production.AWS_SECRET_ACCESS_KEY`, for messages."""
        at = f"{self.file}:{var.line}" if var.line else self.file
        return f"{at}: {var.key}"
