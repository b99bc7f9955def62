"""A credential that cannot be read when a project runs fails that project alone,
saying which environment on the pull request and why only in the server's log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from atlantis_py.core.config.credentials import parse_credentials
from tests.e2e.conftest import running_world, tf_project

WORKFLOWS = """\
version: 1
projects:
  - {name: dev, dir: dev, environment: dev}
  - {name: prod, dir: prod, environment: production}
environments:
  dev: {required_approvals: 1}
  production: {required_approvals: 1}
"""


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_an_unreadable_credential_fails_only_its_environments_projects(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, forge: str) -> None:
    secret = tmp_path / "prod-secret"
    secret.write_text("prod-secret-value-0a1b")
    creds = parse_credentials("creds.yaml", (
        "environments:\n"
        "  dev:\n    TF_VAR_unused: dev-value-2c3d\n"
        f"  production:\n    TF_VAR_unused: file:{secret}\n"))
    with running_world(tmp_path, forge, credentials=creds) as world:
        repo = world.repo({"workflows.yaml": WORKFLOWS,
                           "dev/main.tf": tf_project(world.state_dir, "dev"),
                           "prod/main.tf": tf_project(world.state_dir, "prod")})
        secret.unlink()  # gone after the start-up check, e.g. a broken secret mount
        with caplog.at_level(logging.ERROR):
            pull = world.open_pr(repo, {"dev/x.tf": "# x\n", "prod/x.tf": "# x\n"})
        (plan,) = world.bot_comments(pull)
        assert "1 with changes, 0 with no changes, 1 failed" in plan
        assert ("the server's credentials for environment production could not be read; "
                "its administrator finds why in the server's log") in plan
        assert str(secret) not in plan
        assert world.statuses(pull)["atlantis/plan"] == ("failure",
                                                         "1/2 projects planned, 1 failed")
    assert (f"credentials for environment production: creds.yaml:5: "
            f"environments.production.TF_VAR_unused: cannot read {secret}") in caplog.text
