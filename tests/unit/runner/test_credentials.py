"""Reading credentials at use: server variables, files (rotated ones too), and the
start-up check that names the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlantis_py.core.config.credentials import parse_credentials
from atlantis_py.errors import ConfigError
from atlantis_py.runner.credentials import MAX_FILE_BYTES, CredentialError, Credentials


def spec(tmp_path: Path, secret_file: Path) -> str:
    return (
        "environments:\n"
        "  production:\n"
        "    AWS_ACCESS_KEY_ID: ${PROD_KEY_ID}\n"
        f"    AWS_SECRET_ACCESS_KEY: file:{secret_file}\n"
        "  dev:\n"
        "    TF_VAR_secret: dev-literal-value\n"
    )


def credentials(tmp_path: Path, environ: dict[str, str],
                revealed: list[str] | None = None) -> tuple[Credentials, Path]:
    secret = tmp_path / "prod-secret"
    parsed = parse_credentials(str(tmp_path / "creds.yaml"), spec(tmp_path, secret))
    sink = revealed if revealed is not None else []
    return Credentials(parsed, environ, reveal=sink.extend), secret


def test_each_environment_gets_only_its_own_variables(tmp_path: Path) -> None:
    creds, secret = credentials(tmp_path, {"PROD_KEY_ID": "AKIAPRODKEY000001"})
    secret.write_text("prod-secret-value\n")
    assert creds.env_for("production") == {"AWS_ACCESS_KEY_ID": "AKIAPRODKEY000001",
                                           "AWS_SECRET_ACCESS_KEY": "prod-secret-value"}
    assert creds.env_for("dev") == {"TF_VAR_secret": "dev-literal-value"}
    assert creds.env_for("staging") == {}
    assert Credentials().env_for("production") == {}


def test_a_file_is_read_at_each_use_so_rotation_needs_no_restart(tmp_path: Path) -> None:
    revealed: list[str] = []
    creds, secret = credentials(tmp_path, {"PROD_KEY_ID": "AKIAPRODKEY000001"}, revealed)
    secret.write_text("first-token-value")
    assert creds.env_for("production")["AWS_SECRET_ACCESS_KEY"] == "first-token-value"
    secret.write_text("second-token-value\r\n")
    assert creds.env_for("production")["AWS_SECRET_ACCESS_KEY"] == "second-token-value"
    assert {"first-token-value", "second-token-value", "AKIAPRODKEY000001"} <= set(revealed)


@pytest.mark.parametrize("environ, content, detail", [
    pytest.param({}, "x" * 10, "the server variable PROD_KEY_ID is not set", id="unset-var"),
    pytest.param({"PROD_KEY_ID": ""}, "x" * 10, "PROD_KEY_ID is not set", id="empty-var"),
    pytest.param({"PROD_KEY_ID": "k"}, None, "No such file or directory", id="missing-file"),
    pytest.param({"PROD_KEY_ID": "k"}, "\n", "is empty", id="empty-file"),
    pytest.param({"PROD_KEY_ID": "k"}, "x" * (MAX_FILE_BYTES + 1), "larger than 64 KiB",
                 id="huge-file"),
])
def test_what_cannot_be_read_is_named(tmp_path: Path, environ: dict[str, str],
                                      content: str | None, detail: str) -> None:
    creds, secret = credentials(tmp_path, environ)
    if content is not None:
        secret.write_text(content)
    with pytest.raises(CredentialError, match=detail):
        creds.env_for("production")
    assert creds.env_for("dev") == {"TF_VAR_secret": "dev-literal-value"}
    with pytest.raises(ConfigError) as err:
        creds.check()
    line = 3 if "PROD_KEY_ID" in detail else 4
    key = "AWS_ACCESS_KEY_ID" if line == 3 else "AWS_SECRET_ACCESS_KEY"
    assert str(err.value).startswith(
        f"--credentials {tmp_path / 'creds.yaml'}:{line}: environments.production.{key}: ")


def test_check_at_start_reveals_every_value_it_can_know(tmp_path: Path) -> None:
    revealed: list[str] = []
    creds, secret = credentials(tmp_path, {"PROD_KEY_ID": "AKIAPRODKEY000001"}, revealed)
    secret.write_text("prod-secret-value")
    creds.check()
    assert set(revealed) == {"AKIAPRODKEY000001", "prod-secret-value", "dev-literal-value"}
