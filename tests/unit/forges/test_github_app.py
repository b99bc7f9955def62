"""GitHubForge as a GitHub App installation, against the fake GitHub's App
routes: the JWT is signed with the App's key (the fake checks it with the
public key), installations are looked up per repository unless one is given,
and a token nearing expiry is replaced before it is used again."""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github.Auth import ACCESS_TOKEN_REFRESH_THRESHOLD_SECONDS

from atlantis_py.errors import ForgeError
from atlantis_py.forges.github import GitHubApp, GitHubForge
from tests.fakeforge.github import FakeGitHub, FakeRepo

APP_ID = 4242


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture
def fake(tmp_path: Path, key: rsa.RSAPrivateKey) -> Iterator[FakeGitHub]:
    with FakeGitHub(tmp_path) as fake:
        fake.install_app(APP_ID, "acme-atlantis", key.public_key(), {"acme": 11, "beta": 22})
        yield fake


@pytest.fixture
def repos(fake: FakeGitHub) -> tuple[FakeRepo, FakeRepo]:
    return (fake.create_repo("acme/infra", {"main.tf": "# a\n"}),
            fake.create_repo("beta/net", {"main.tf": "# b\n"}))


def app_forge(fake: FakeGitHub, key: rsa.RSAPrivateKey, installation: int | None = None
              ) -> GitHubForge:
    return GitHubForge("", fake.api_url, "acme-atlantis[bot]", write_interval=0, retries=0,
                       app=GitHubApp(APP_ID, pem(key), installation))


def test_each_repository_gets_its_accounts_installation_token(
        fake: FakeGitHub, key: rsa.RSAPrivateKey, repos: tuple[FakeRepo, FakeRepo]) -> None:
    forge = app_forge(fake, key)
    assert forge.default_branch("acme/infra") == "main"
    assert forge.default_branch("beta/net") == "main"
    assert fake.app is not None
    assert len(fake.app.issued) == 2
    installations = {fake.app.tokens[t][0] for t in fake.app.used}
    assert installations == {11, 22}
    # the installation is looked up once per account
    assert [r.path for r in fake.requests].count("/api/v3/repos/acme/infra/installation") == 1


def test_a_given_installation_is_used_without_a_lookup(
        fake: FakeGitHub, key: rsa.RSAPrivateKey, repos: tuple[FakeRepo, FakeRepo]) -> None:
    forge = app_forge(fake, key, installation=11)
    assert forge.default_branch("acme/infra") == "main"
    assert not any(r.path.endswith("/installation") for r in fake.requests)
    with pytest.raises(ForgeError, match="HTTP 401"):  # 11 is acme's, not beta's
        forge.default_branch("beta/net")


def test_a_repository_without_the_app_says_so(
        fake: FakeGitHub, key: rsa.RSAPrivateKey, repos: tuple[FakeRepo, FakeRepo]) -> None:
    fake.create_repo("gamma/x", {"main.tf": "# c\n"})
    with pytest.raises(ForgeError, match=r"the App \(id 4242\) is not installed on gamma/x: "
                       "install it there, or pass --gh-app-installation-id"):
        app_forge(fake, key).default_branch("gamma/x")


def test_a_jwt_signed_by_another_key_is_refused(
        fake: FakeGitHub, repos: tuple[FakeRepo, FakeRepo]) -> None:
    with pytest.raises(ForgeError, match="HTTP 401"):
        app_forge(fake, new_key()).default_branch("acme/infra")
    assert fake.app is not None and fake.app.issued == []


def test_a_token_expiring_mid_run_is_refreshed_before_it_is_used(
        fake: FakeGitHub, key: rsa.RSAPrivateKey, repos: tuple[FakeRepo, FakeRepo]) -> None:
    """PyGithub replaces an installation token once it is within
    ACCESS_TOKEN_REFRESH_THRESHOLD_SECONDS of `expires_at`: tokens living 2 s
    beyond that are fresh for the first call and due after a 3 s pause, while
    the fake still accepts none past its expiry."""
    assert fake.app is not None
    fake.app.token_lifetime = timedelta(seconds=ACCESS_TOKEN_REFRESH_THRESHOLD_SECONDS + 3)
    forge = app_forge(fake, key)
    assert forge.default_branch("acme/infra") == "main"
    first = fake.app.issued[-1]
    time.sleep(3.5)
    assert forge.default_branch("acme/infra") == "main"
    assert len(fake.app.issued) == 2
    second = fake.app.issued[-1]
    assert fake.app.used[-1] == second != first


def test_the_fake_refuses_an_expired_installation_token(
        fake: FakeGitHub, repos: tuple[FakeRepo, FakeRepo]) -> None:
    assert fake.app is not None
    fake.app.token_lifetime = timedelta(seconds=-1)
    token, _ = fake.app.issue(11, fake.now())
    request = urllib.request.Request(f"{fake.api_url}/repos/acme/infra",
                                     headers={"Authorization": f"token {token}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_clone_env_scopes_each_installation_token_to_its_account(
        fake: FakeGitHub, key: rsa.RSAPrivateKey, repos: tuple[FakeRepo, FakeRepo]) -> None:
    env = app_forge(fake, key).clone_env
    assert env["GIT_CONFIG_COUNT"] == "2"
    scoped = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(2)}
    root = fake.api_url.removesuffix("/api/v3")
    assert set(scoped) == {f"http.{root}/acme/.extraHeader", f"http.{root}/beta/.extraHeader"}
    assert fake.app is not None
    tokens = {base64.b64decode(v.removeprefix("Authorization: Basic ")).decode()
              .removeprefix("x-access-token:") for v in scoped.values()}
    assert tokens == set(fake.app.issued)
    fixed = app_forge(fake, key, installation=22).clone_env
    assert (fixed["GIT_CONFIG_COUNT"], fixed["GIT_CONFIG_KEY_0"]) == (
        "1", f"http.{root}/.extraHeader")


def test_the_key_is_never_in_repr(key: rsa.RSAPrivateKey) -> None:
    app = GitHubApp(APP_ID, pem(key))
    assert "PRIVATE" not in repr(app)
    assert "PRIVATE" not in repr(GitHubForge("", "http://127.0.0.1:9", app=app))
