"""The forges' settings: GitHub (token or App), GitLab and local repositories,
which repositories are served, and how long a job waits out a forge that is down.

A token without its webhook secret stops the server: unsigned webhooks are never
accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from atlantis_py.domain.repo_names import allowlist_matches, allowlist_pattern_problem
from atlantis_py.errors import ConfigError
from atlantis_py.settings.github_app import github_app
from atlantis_py.settings.values import RawValues, duration, env_name, folder, http_url

DEFAULT_GH_API_URL = "https://api.github.com"
DEFAULT_GITLAB_URL = "https://gitlab.com"


@dataclass(frozen=True)
class ForgeSettings:
    gh_token: str = ""
    gh_webhook_secret: str = ""
    gh_api_url: str = DEFAULT_GH_API_URL
    gh_user: str = "atlantis"
    gh_write_interval: float = 0.0
    gitlab_token: str = ""
    gitlab_webhook_secret: str = ""
    gitlab_url: str = DEFAULT_GITLAB_URL
    gitlab_user: str = "atlantis"
    gitlab_command_access_level: int = 30
    gitlab_approver_access_level: int = 30
    repo_allowlist: tuple[str, ...] = ("*",)
    forge_retry_limit: timedelta = timedelta(minutes=30)
    local_repos: Path | None = None
    gh_app_id: int | None = None
    gh_app_key: str = field(default="", repr=False)
    gh_app_slug: str = ""
    gh_app_installation_id: int | None = None

    @property
    def github_bot_user(self) -> str:
        """The login the bot comments as: a GitHub App comments as `{slug}[bot]`."""
        if self.gh_app_id is not None:
            return f"{self.gh_app_slug}[bot]"
        return self.gh_user

    @property
    def github_configured(self) -> bool:
        return bool(self.gh_token) or self.gh_app_id is not None

    @property
    def forge_hosts(self) -> dict[str, str]:
        """The host each forge's repository ids carry in repos.yaml (github.com/acme/x)."""
        github = urlparse(self.gh_api_url).hostname or "github.com"
        return {"github": "github.com" if github == "api.github.com" else github,
                "gitlab": urlparse(self.gitlab_url).hostname or "gitlab.com", "local": "local"}

    def repo_allowed(self, full_name: str) -> bool:
        """Whole segments: `acme/*` allows acme/infra, not acme/x/y (see repo_names)."""
        return any(allowlist_matches(pat, full_name) for pat in self.repo_allowlist)


def forge_settings(raw: RawValues, *, require_forge: bool) -> ForgeSettings:
    gh_token, gh_secret = raw.text("gh-token"), raw.text("gh-webhook-secret")
    gl_token, gl_secret = raw.text("gitlab-token"), raw.text("gitlab-webhook-secret")
    app = github_app(raw.text)
    if require_forge and not gh_token and not gl_token and not raw.text("local-repos") \
            and app.app_id is None:
        raise ConfigError(f"--gh-token (or {env_name('gh-token')}), --gh-app-id or "
                          f"--gitlab-token (or {env_name('gitlab-token')}) is required")
    if gl_token and not gl_secret:
        raise ConfigError(
            f"--gitlab-webhook-secret (or {env_name('gitlab-webhook-secret')}) is required "
            "with --gitlab-token: unauthenticated webhooks are never accepted")
    gl_url = _gitlab_url(raw.text("gitlab-url"), raw.text("gitlab-hostname"))
    if (gh_token or app.app_id is not None) and not gh_secret:
        raise ConfigError(
            f"--gh-webhook-secret (or {env_name('gh-webhook-secret')}) is required with "
            f"--{'gh-token' if gh_token else 'gh-app-id'}: unsigned webhooks are never "
            "accepted")
    if gh_token and app.app_id is not None:
        raise ConfigError("--gh-token and --gh-app-id: give one, not both")
    api = http_url("gh-api-url", raw.text("gh-api-url"))
    try:
        write_interval = float(raw.text("gh-write-interval") or 0)
    except ValueError:
        raise ConfigError(f"--gh-write-interval: expected seconds, got "
                          f"{raw.text('gh-write-interval')!r}") from None
    if not 0 <= write_interval <= 60:
        raise ConfigError("--gh-write-interval: must be between 0 and 60 seconds")
    allow = raw.items("repo-allowlist")
    if not allow:
        raise ConfigError("--repo-allowlist: give at least one glob, e.g. 'acme/*' or '*'")
    for pattern in allow:
        if (problem := allowlist_pattern_problem(pattern)) is not None:
            raise ConfigError(f"--repo-allowlist: {problem}")
    return ForgeSettings(
        gh_token=gh_token,
        gh_webhook_secret=gh_secret,
        gh_api_url=api,
        gh_user=raw.text("gh-user") or "atlantis",
        gh_write_interval=write_interval,
        gitlab_token=gl_token,
        gitlab_webhook_secret=gl_secret,
        gitlab_url=gl_url,
        gitlab_user=raw.text("gitlab-user") or "atlantis",
        gitlab_command_access_level=raw.whole("gitlab-command-access-level", 10, 50),
        gitlab_approver_access_level=raw.whole("gitlab-approver-access-level", 10, 50),
        repo_allowlist=allow,
        forge_retry_limit=_retry_limit(raw.text("forge-retry-limit")),
        local_repos=folder("local-repos", raw.text("local-repos")),
        gh_app_id=app.app_id,
        gh_app_key=app.key,
        gh_app_slug=app.slug,
        gh_app_installation_id=app.installation_id,
    )


def _retry_limit(raw: str) -> timedelta:
    if raw.strip() in ("", "0"):
        return timedelta(0)
    found = duration("forge-retry-limit", raw)
    assert found is not None
    return found


def _gitlab_url(url: str, hostname: str) -> str:
    if url and hostname:
        raise ConfigError("--gitlab-url and --gitlab-hostname: give one, not both")
    if hostname:
        if not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]+)?", hostname):
            raise ConfigError(f"--gitlab-hostname: expected a host name, got {hostname!r}")
        url = f"https://{hostname}"
    return http_url("gitlab-url", url or DEFAULT_GITLAB_URL)
