"""Authenticating as a GitHub App installation, through PyGithub.

The App signs a short JWT with its private key and trades it for an
installation token (an hour's life); PyGithub's AppInstallationAuth asks for a
new one before the old one expires (within its refresh threshold), so a long
plan never runs into an expired token. With `--gh-app-installation-id` there is
one installation; without it each repository's installation is looked up
(`GET /repos/{owner}/{repo}/installation`) and kept per owner, since an App is
installed on an account and every repository of the account shares it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from github import Auth, Github, GithubIntegration, UnknownObjectException

from atlantis_py.errors import ConfigError, ForgeError


@dataclass(frozen=True)
class GitHubApp:
    """The App's settings; `private_key` is PEM text, never logged."""

    app_id: int
    private_key: str = field(repr=False)
    installation_id: int | None = None


class AppClients:
    """A PyGithub client per installation, each with its own refreshing token."""

    def __init__(self, app: GitHubApp, api_url: str,
                 make_client: Callable[[Auth.Auth], Github]) -> None:
        if not app.private_key:
            raise ConfigError("the GitHub App's private key is empty")
        self._app = app
        self._app_auth = Auth.AppAuth(app.app_id, app.private_key)
        self._integration = GithubIntegration(auth=self._app_auth, base_url=api_url)
        self._make_client = make_client
        self._lock = threading.Lock()
        self._by_owner: dict[str, int] = {}
        self._clients: dict[int, tuple[Github, Auth.AppInstallationAuth]] = {}

    def for_repo(self, full_name: str) -> Github:
        return self._client(self.installation_of(full_name))[0]

    def for_owner(self, owner: str) -> Github:
        """The client of an organisation's installation (team membership reads)."""
        return self._client(self._installation(owner, None))[0]

    def installation_of(self, full_name: str) -> int:
        owner, _, name = full_name.partition("/")
        return self._installation(owner, name)

    def _installation(self, owner: str, name: str | None) -> int:
        if self._app.installation_id is not None:
            return self._app.installation_id
        with self._lock:
            known = self._by_owner.get(owner.lower())
        if known is not None:
            return known
        try:
            if name is None:
                found = self._integration.get_org_installation(owner).id
            else:
                found = self._integration.get_repo_installation(owner, name).id
        except UnknownObjectException:
            where = owner if name is None else f"{owner}/{name}"
            raise ForgeError(f"GitHub: the App (id {self._app.app_id}) is not installed on "
                             f"{where}: install it there, or pass --gh-app-installation-id",
                             404) from None
        with self._lock:
            self._by_owner[owner.lower()] = found
        return found

    def token(self, installation_id: int) -> str:
        """A current token (PyGithub fetches a new one when this one nears expiry)."""
        return self._client(installation_id)[1].token

    def installations(self) -> list[tuple[str, int]]:
        """(account login, installation id) of every installation of the App;
        the fixed one alone (login "") with --gh-app-installation-id."""
        if self._app.installation_id is not None:
            return [("", self._app.installation_id)]
        found = [(i.account.login if i.account else "", i.id)
                 for i in self._integration.get_installations()]
        with self._lock:
            for login, installation in found:
                if login:
                    self._by_owner[login.lower()] = installation
        return found

    def _client(self, installation_id: int) -> tuple[Github, Auth.AppInstallationAuth]:
        with self._lock:
            made = self._clients.get(installation_id)
            if made is None:
                auth = self._app_auth.get_installation_auth(installation_id)
                made = (self._make_client(auth), auth)
                self._clients[installation_id] = made
            return made
