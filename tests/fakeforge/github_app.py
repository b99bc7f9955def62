"""The fake GitHub's App routes, in GitHub's shapes: an App proves itself with
a JWT signed RS256 by its private key (checked against the public key the test
registered), looks up installations and trades the JWT for installation
tokens, which expire (`token_lifetime`); once an App is installed, only its
unexpired installation tokens open the other routes, each for its own
account's repositories."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from werkzeug.wrappers import Request

from tests.fakeforge.github_shapes import iso
from tests.fakeforge.rest import ApiError

if TYPE_CHECKING:
    from tests.fakeforge.github import FakeGitHub

APP_RULES = [
    ("/repos/<owner>/<name>/installation", "repo_installation", ["GET"]),
    ("/orgs/<org>/installation", "org_installation", ["GET"]),
    ("/app/installations", "app_installations", ["GET"]),
    ("/app/installations/<int:installation>/access_tokens", "access_token", ["POST"]),
]
_JWT_ROUTES = frozenset(ep for _, ep, _ in APP_RULES)


@dataclass
class FakeApp:
    """`installations`: account login → installation id. `issued` lists every
    token handed out, `used` the installation token of each request."""

    app_id: int
    slug: str
    public_key: RSAPublicKey
    installations: dict[str, int]
    token_lifetime: timedelta = timedelta(hours=1)
    tokens: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    jwts: int = 0

    def issue(self, installation: int, now: datetime) -> tuple[str, datetime]:
        token = "ghs_" + secrets.token_hex(18)
        expires = now + self.token_lifetime
        self.tokens[token] = (installation, expires)
        self.issued.append(token)
        return token, expires


class GitHubAppRoutes:
    """Mixed into GitHubApi."""

    fake: FakeGitHub

    def app_authorised(self, request: Request, endpoint: str, args: dict[str, Any]) -> bool:
        """None of this applies while no App is installed (the static token rules)."""
        app = self.fake.app
        assert app is not None
        scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return False
        if endpoint in _JWT_ROUTES:
            return self._valid_jwt(credential, app)
        found = app.tokens.get(credential)
        if found is None or found[1] <= datetime.now(found[1].tzinfo):
            return False
        installation, _ = found
        owner = args.get("owner") or args.get("org")
        if owner is not None and app.installations.get(str(owner)) != installation:
            return False
        app.used.append(credential)
        return True

    @staticmethod
    def _valid_jwt(token: str, app: FakeApp) -> bool:
        try:
            claims = jwt.decode(token, app.public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]})
        except jwt.PyJWTError:
            return False
        if str(claims["iss"]) != str(app.app_id):
            return False
        app.jwts += 1
        return True

    def installation_json(self, login: str, installation: int) -> dict[str, Any]:
        app = self.fake.app
        assert app is not None
        return {
            "id": installation,
            "account": self.fake.http.user_json(login),
            "access_tokens_url": self.fake.http.api(
                f"/app/installations/{installation}/access_tokens"),
            "repositories_url": self.fake.http.api("/installation/repositories"),
            "html_url": f"{self.fake.web_url}/settings/installations/{installation}",
            "app_id": app.app_id,
            "app_slug": app.slug,
            "target_id": sum(login.encode()) + 1_000_000,
            "target_type": "Organization",
            "permissions": {"contents": "read", "pull_requests": "write",
                            "statuses": "write", "metadata": "read"},
            "events": ["pull_request", "issue_comment", "pull_request_review"],
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "single_file_name": None,
            "repository_selection": "all",
        }

    def _installed_on(self, login: str) -> dict[str, Any]:
        app = self.fake.app
        assert app is not None
        installation = app.installations.get(login)
        if installation is None:
            raise ApiError(404, "Not Found")
        return self.installation_json(login, installation)

    def on_repo_installation(self, request: Request, owner: str, name: str
                             ) -> tuple[int, Any]:
        if f"{owner}/{name}" not in self.fake.repos:
            raise ApiError(404, "Not Found")
        return 200, self._installed_on(owner)

    def on_org_installation(self, request: Request, org: str) -> tuple[int, Any]:
        return 200, self._installed_on(org)

    def on_app_installations(self, request: Request) -> tuple[int, Any]:
        app = self.fake.app
        assert app is not None
        return 200, [self.installation_json(login, i) for login, i in app.installations.items()]

    def on_access_token(self, request: Request, installation: int) -> tuple[int, Any]:
        app = self.fake.app
        assert app is not None
        if installation not in app.installations.values():
            raise ApiError(404, "Not Found")
        token, expires = app.issue(installation, self.fake.now())
        return 201, {"token": token, "expires_at": iso(expires),
                     "permissions": {"contents": "read", "pull_requests": "write"},
                     "repository_selection": "all"}
