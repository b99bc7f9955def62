"""The server as a GitHub App: it plans and applies with installation tokens
(the fake accepts no other), refreshed as they near expiry, and ignores its
own comments, made as `{slug}[bot]`."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github.Auth import ACCESS_TOKEN_REFRESH_THRESHOLD_SECONDS

from tests.e2e.conftest import running_world


def tf(state: Path, value: str) -> str:
    return ('terraform {\n  backend "local" {\n'
            f'    path = "{state}/app.tfstate"\n  }}\n}}\n'
            f'resource "terraform_data" "app" {{\n  input = "{value}"\n}}\n')


def test_plan_and_apply_as_a_github_app(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    with running_world(tmp_path, "github", github_app=(99, pem)) as world:
        app = world.fake.app  # type: ignore[attr-defined]
        # every token is due for refresh a second after it is issued
        app.token_lifetime = timedelta(seconds=ACCESS_TOKEN_REFRESH_THRESHOLD_SECONDS + 2)
        repo = world.repo({"main.tf": tf(world.state_dir, "one")})
        pull = world.open_pr(repo, {"main.tf": tf(world.state_dir, "two")})
        [plan] = world.bot_comments(pull)
        assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan
        assert world.fake.bot_login == "acme-atlantis[bot]"
        issued = len(app.issued)
        assert issued >= 1 and app.jwts >= 1
        assert set(app.used) <= set(app.issued)

        # its own comment, even one that reads as a command, asks for nothing
        status, body = world.fake.deliver("issue_comment", world.fake.comment_payload(
            pull, "acme-atlantis[bot]", "atlantis plan"))
        assert (status, body) == (200, '{"status": "ignored", "event": "issue_comment"}')
        world.settle()
        assert len(world.bot_comments(pull)) == 1

        time.sleep(3)  # the token is now within PyGithub's refresh threshold
        world.approve(pull, "bob")
        applied = world.comment(pull, "alice", "atlantis apply")
        assert "Apply complete! Resources: 1 added" in applied
        assert len(app.issued) > issued  # refreshed along the way
        assert set(app.used) <= set(app.issued)
