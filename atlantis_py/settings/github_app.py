"""--gh-app-*: the GitHub App's settings, checked at start (the key read from
its file and parsed), so a wrong one stops the server instead of failing every
webhook. The key never comes from a command line (see settings.loader.load)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from atlantis_py.errors import ConfigError
from atlantis_py.settings.values import env_name, number


def _int(flag: str, raw: str) -> int:
    value = number(flag, raw)
    if value < 1:
        raise ConfigError(f"--{flag}: must be a positive number, got {value}")
    return value


@dataclass(frozen=True)
class GitHubAppSettings:
    app_id: int | None = None
    key: str = field(default="", repr=False)
    slug: str = ""
    installation_id: int | None = None


def github_app(text: Callable[[str], str]) -> GitHubAppSettings:
    """`text(flag)` is the raw value of a flag (or its variable), "" when unset."""
    raw_id, key_file, key = text("gh-app-id"), text("gh-app-key-file"), text("gh-app-key")
    slug, raw_installation = text("gh-app-slug"), text("gh-app-installation-id")
    if not raw_id:
        for flag, value in (("gh-app-key-file", key_file), ("gh-app-key", key),
                            ("gh-app-slug", slug), ("gh-app-installation-id", raw_installation)):
            if value:
                raise ConfigError(f"--{flag} needs --gh-app-id")
        return GitHubAppSettings()
    app_id = _int("gh-app-id", raw_id)
    if key_file and key:
        raise ConfigError("--gh-app-key-file and --gh-app-key: give one, not both")
    if key_file:
        try:
            key = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"--gh-app-key-file: cannot read {key_file!r}: "
                              f"{getattr(err, 'strerror', None) or err}") from None
    if not key:
        raise ConfigError(f"--gh-app-id needs the App's private key: --gh-app-key-file or "
                          f"{env_name('gh-app-key')}")
    try:
        serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        where = "--gh-app-key-file" if key_file else env_name("gh-app-key")
        raise ConfigError(f"{where}: not an unencrypted PEM private key") from None
    if not slug:
        raise ConfigError("--gh-app-id needs --gh-app-slug: the App comments as SLUG[bot], "
                          "and must know its own comments")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", slug):
        raise ConfigError(f"--gh-app-slug: {slug!r} is not an App slug")
    installation = (_int("gh-app-installation-id", raw_installation)
                    if raw_installation else None)
    return GitHubAppSettings(app_id, key, slug, installation)
