"""The files the server reads at start: server-side repo config (repos.yaml),
policy sets, credentials and notifications. Each is parsed at start so a bad
one stops the server naming file, line and key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from atlantis_py.core.config.credentials import parse_credentials
from atlantis_py.core.config.policies import load_policies
from atlantis_py.core.config.server import JSON_SOURCE, parse_server_config
from atlantis_py.domain.credentials import CredentialsFile
from atlantis_py.domain.policies import PolicySets
from atlantis_py.domain.server_config import ServerRepoConfig
from atlantis_py.errors import ConfigError, RepoConfigError
from atlantis_py.settings.values import RawValues, read_text


@dataclass(frozen=True)
class ConfigFileSettings:
    notifications_file: Path | None = None
    credentials: CredentialsFile | None = None
    repo_config: ServerRepoConfig | None = None
    policies: PolicySets | None = None


def config_file_settings(raw: RawValues) -> ConfigFileSettings:
    notifications = raw.text("notifications")
    if notifications and not Path(notifications).is_file():
        raise ConfigError(f"--notifications: {notifications!r} is not a readable file")
    credentials = _credentials(raw.text("credentials"))
    repo_config = _repo_config(raw.text("repo-config"), raw.text("repo-config-json"))
    policies = _policies(raw.text("policies"))
    if repo_config is not None and repo_config.policies is not None:
        if policies is not None:
            raise ConfigError("--policies and the `policies:` section of the server-side "
                              "repo config: declare policy sets in one place, not both")
        policies = repo_config.policies
    return ConfigFileSettings(
        notifications_file=Path(notifications) if notifications else None,
        credentials=credentials,
        repo_config=repo_config,
        policies=policies,
    )


def _credentials(file: str) -> CredentialsFile | None:
    """Parsed at start so a bad file stops the server; values are read at use."""
    if not file:
        return None
    text = read_text("credentials", file)
    try:
        return parse_credentials(file, text)
    except RepoConfigError as err:
        raise ConfigError(f"--credentials {err}") from None


def _repo_config(file: str, raw_json: str) -> ServerRepoConfig | None:
    """repos.yaml, read at start: a bad one stops the server naming file, line and key."""
    if file and raw_json:
        raise ConfigError("--repo-config and --repo-config-json: give one, not both")
    if not file and not raw_json:
        return None
    text, flag = raw_json, "--repo-config-json"
    if file:
        flag = "--repo-config"
        text = read_text("repo-config", file)
    try:
        return parse_server_config(text, file or JSON_SOURCE)
    except RepoConfigError as err:
        raise ConfigError(f"{flag}: {err}") from None


def _policies(file: str) -> PolicySets | None:
    """Parsed at start so a bad file stops the server; the Rego files are read
    (and checked) by the policy engine, at start and at each plan."""
    if not file:
        return None
    text = read_text("policies", file)
    try:
        return load_policies(str(Path(file).absolute()), text)
    except RepoConfigError as err:
        raise ConfigError(f"--policies {err}") from None
