"""A crafted repository name never points the bot's token outside --repo-allowlist.

`repo` in POST /api/v1/ipr (and in webhooks, and `ipr create --repo`) once went
into the forge's URL unchecked: "acme/x/../../other/secret/issues#" made the bot
POST /repos/other/secret/issues. The fake forges record every request they get;
none may name a repository the allow-list does not allow.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from atlantis_py.cli import main
from atlantis_py.domain.repo_names import allowlist_matches
from tests.e2e.conftest import World, running_world
from tests.e2e.test_flow import base_files, tf_extra
from tests.fakeforge.github import FakeGitHub

ALLOWLIST = "acme/*"
# what the bot reads that names no repository: its own user, users, teams, groups
READ_ELSEWHERE = ("/api/v3/orgs/", "/api/v4/users", "/api/v4/groups/")

CRAFTED = [
    "acme/x/../../other/secret/issues#",
    "acme/x/../../../user/repos#",
    "acme/x/%2e%2e/%2e%2e/other/secret/issues#",
    "acme/x/%2E%2E%2F%2E%2E%2Fother%2Fsecret%2Fissues%23",
    "acme/x/..%2F..%2Fother/secret/issues",
    "acme/infra?/../../other/secret/issues",
    "acme/infra/../../other/secret/pulls?",
    "acme/infra#/../../other/secret",
    "acme/infra/..",
    "acme/..",
    "acme/x/y",
]


@pytest.fixture(params=["github", "gitlab"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with running_world(tmp_path, request.param, repo_allowlist=(ALLOWLIST,)) as w:
        yield w


def outside_allowlist(world: World) -> list[str]:
    """Every recorded forge request whose path names a repository (or endpoint)
    that is not an allowed repository's, after the forge's own path decoding."""
    bad = []
    for req in world.fake.requests:
        if req.method == "GET" and (req.path == "/api/v3/user"
                                    or req.path.startswith(READ_ELSEWHERE)):
            continue
        path = posixpath.normpath(unquote(req.path))
        if world.forge == "github":
            rest = path.removeprefix("/api/v3/repos/")
            parts = rest.split("/")
            name = "/".join(parts[:2]) if rest != path and len(parts) >= 2 else ""
        else:
            raw = req.path.removeprefix("/api/v4/projects/")
            name = unquote(raw.split("/")[0]) if raw != req.path else ""
        if not name or not allowlist_matches(ALLOWLIST, name) or ".." in name:
            bad.append(f"{req.method} {req.path}")
    return bad


def test_crafted_repo_in_api_reaches_no_forge_url(world: World) -> None:
    world.repo(base_files(world, "network"), "acme/infra")
    world.repo(base_files(world, "network"), "other/secret")
    bob = world.token("bob", "reviewer")
    before = len(world.fake.requests)
    for repo in CRAFTED:
        status, body = world.api("POST", "/ipr", bob, {
            "forge": world.forge, "repo": repo, "head": "feature", "title": "pwn"})
        assert status in (403, 422), (repo, status, body)
        assert "repo" in body["error"] or "allowlist" in body["error"], body
    assert world.fake.requests[before:] == []
    assert outside_allowlist(world) == []


def test_crafted_repo_in_cli_is_refused_before_any_request(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    bob = world.token("bob", "reviewer")
    for repo in CRAFTED[:3]:
        code = main(["ipr", "--server", world.url, "--token", bob, "create", "--forge",
                     world.forge, "--repo", repo, "--head", "feature", "--title", "pwn"])
        assert code == 2
        assert "--repo" in capsys.readouterr().err
    assert world.fake.requests == []


def test_crafted_repo_in_a_signed_webhook_is_refused(world: World) -> None:
    repo = world.repo(base_files(world, "network"), "acme/infra")
    pull = world.open_pr(repo, {"network/extra.tf": tf_extra("x")})
    before = len(world.fake.requests)
    for name in CRAFTED[:3]:
        payload = world.fake.pull_request_payload(pull, "synchronize")
        key, field = ("repository", "full_name") if world.forge == "github" else \
            ("project", "path_with_namespace")
        payload[key][field] = name
        status, text = world.fake.deliver("pull_request", payload)
        assert status == 400 and "repository name" in text, text
    world.settle()
    assert world.fake.requests[before:] == []
    assert outside_allowlist(world) == []


def test_a_valid_repo_reaches_only_its_own_urls(tmp_path: Path) -> None:
    with running_world(tmp_path, "github", repo_allowlist=(ALLOWLIST,)) as world:
        github = world.fake
        assert isinstance(github, FakeGitHub), "push_branch is FakeGitHub's"
        repo = github.create_repo("acme/infra", base_files(world, "network"))
        github.push_branch(repo, "feature/api", {"network/extra.tf": tf_extra("api")})
        bob = world.token("bob", "reviewer")
        status, ipr = world.api("POST", "/ipr", bob, {
            "repo": "acme/infra", "head": "feature/api", "title": "Add api resource"})
        assert status == 201, ipr
        world.settle()
        assert any("/pulls" in r.path for r in world.fake.requests)
        assert outside_allowlist(world) == []
