"""Reading a credentials file's values: server variables and files, at use.

The file itself is parsed (purely) in core/config/credentials.py; this is the
edge that touches the server's environment and the disk. A file is read each
time a project runs, so a rotated token (an EKS web identity token, a renewed
key) is picked up without a restart. Every value read is handed to `reveal`
first, so it is masked before terraform can print it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from atlantis_py.domain.credentials import CredentialsFile, CredentialVar, Source
from atlantis_py.errors import AtlantisError, ConfigError

# an environment variable larger than this would make exec fail (E2BIG) anyway
MAX_FILE_BYTES = 64 * 1024


class CredentialError(AtlantisError):
    """A credential could not be read when a project needed it."""


class Credentials:
    def __init__(self, spec: CredentialsFile | None = None,
                 environ: Mapping[str, str] | None = None,
                 reveal: Callable[[list[str]], None] = lambda _values: None) -> None:
        self.spec = spec
        self._environ = os.environ if environ is None else environ
        self._reveal = reveal

    def check(self) -> None:
        """At start: every server variable set, every file readable; ConfigError
        naming the file, line and key otherwise. Values known now are revealed."""
        if self.spec is None:
            return
        for name in sorted(self.spec.environments):
            try:
                self.env_for(name)
            except CredentialError as err:
                raise ConfigError(f"--credentials {err}") from None

    def env_for(self, environment: str) -> dict[str, str]:
        """The variables of the projects judged by `environment`, read now."""
        if self.spec is None:
            return {}
        env = {var.name: self._value(var) for var in self.spec.variables(environment)}
        self._reveal(list(env.values()))
        return env

    def _value(self, var: CredentialVar) -> str:
        assert self.spec is not None
        if var.source is Source.LITERAL:
            return var.ref
        if var.source is Source.SERVER_ENV:
            value = self._environ.get(var.ref)
            if not value:
                raise CredentialError(f"{self.spec.where(var)}: the server variable "
                                      f"{var.ref} is not set")
            return value
        return self._read(var)

    def _read(self, var: CredentialVar) -> str:
        assert self.spec is not None
        try:
            with Path(var.ref).open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise CredentialError(f"{self.spec.where(var)}: cannot read {var.ref}: "
                                  f"{err.strerror}") from None
        if len(data) > MAX_FILE_BYTES:
            raise CredentialError(f"{self.spec.where(var)}: {var.ref} is larger than "
                                  f"{MAX_FILE_BYTES // 1024} KiB")
        value = data.decode("utf-8", "replace").rstrip("\r\n")
        if not value:
            raise CredentialError(f"{self.spec.where(var)}: {var.ref} is empty")
        return value
