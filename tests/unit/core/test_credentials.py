"""The --credentials file: valid files become CredentialsFile, invalid ones name
the file, line and key."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from atlantis_py.core.config.credentials import parse_credentials
from atlantis_py.domain.credentials import CredentialsFile, CredentialVar, Source
from atlantis_py.errors import RepoConfigError

FILE = "creds.yaml"

EXAMPLE = """\
environments:
  production:
    AWS_ACCESS_KEY_ID: ${PROD_AWS_ACCESS_KEY_ID}
    AWS_SECRET_ACCESS_KEY: file:/run/secrets/prod-aws
    TF_VAR_account: "123456789012"
  dev:
    TF_VAR_secret: dev-literal-value
"""


def test_example_parses_with_sources_keys_and_lines() -> None:
    parsed = parse_credentials(FILE, EXAMPLE)
    assert parsed == CredentialsFile(FILE, {
        "production": (
            CredentialVar("AWS_ACCESS_KEY_ID", Source.SERVER_ENV, "PROD_AWS_ACCESS_KEY_ID",
                          "environments.production.AWS_ACCESS_KEY_ID", 3),
            CredentialVar("AWS_SECRET_ACCESS_KEY", Source.FILE, "/run/secrets/prod-aws",
                          "environments.production.AWS_SECRET_ACCESS_KEY", 4),
            CredentialVar("TF_VAR_account", Source.LITERAL, "123456789012",
                          "environments.production.TF_VAR_account", 5),
        ),
        "dev": (CredentialVar("TF_VAR_secret", Source.LITERAL, "dev-literal-value",
                              "environments.dev.TF_VAR_secret", 7),),
    })
    assert parsed.variables("staging") == ()
    prod_secret = parsed.variables("production")[1]
    assert parsed.where(prod_secret) == "creds.yaml:4: environments.production.AWS_SECRET_ACCESS_KEY"


def test_a_literal_is_kept_out_of_repr() -> None:
    parsed = parse_credentials(FILE, EXAMPLE)
    assert "dev-literal-value" not in repr(parsed)


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "environments:\n",
                                  "environments: {}\n"])
def test_empty_files_give_no_credentials(text: str) -> None:
    assert parse_credentials(FILE, text) == CredentialsFile(FILE)


# (text, line, key, part of the message)
ERRORS = [
    pytest.param("- a\n- b\n", 1, "(document)", "expected a mapping", id="not-a-mapping"),
    pytest.param("environment:\n  dev: {}\n", 1, "environment", "unknown key",
                 id="unknown-top-key"),
    pytest.param("environments: [dev]\n", 1, "environments", "mapping of names",
                 id="environments-a-list"),
    pytest.param("environments:\n  dev: X=1\n", 2, "environments.dev",
                 "mapping of variable names", id="environment-not-a-mapping"),
    pytest.param("environments:\n  my env:\n    A: b\n", 2, "environments.my env",
                 "must not contain spaces", id="environment-name-with-space"),
    pytest.param("environments:\n  dev:\n    A: x\n    1BAD: y\n", 4, "environments.dev.1BAD",
                 "not a variable name", id="name-starts-with-digit"),
    pytest.param("environments:\n  dev:\n    AWS-KEY: y\n", 3, "environments.dev.AWS-KEY",
                 "not a variable name", id="name-with-dash"),
    pytest.param("environments:\n  dev:\n    PORT: 8080\n", 3, "environments.dev.PORT",
                 "quote numbers", id="number-value"),
    pytest.param("environments:\n  dev:\n    ON:\n      yes\n", 4, "environments.dev.ON",
                 "got true/false", id="bool-value"),
    pytest.param("environments:\n  dev:\n    A:\n", 3, "environments.dev.A", "got null",
                 id="null-value"),
    pytest.param("environments:\n  dev:\n    A: '  '\n", 3, "environments.dev.A",
                 "must not be empty", id="blank-value"),
    pytest.param("environments:\n  dev:\n    A: file:secrets/a\n", 3, "environments.dev.A",
                 "absolute path", id="relative-file"),
    pytest.param("environments:\n  dev:\n    A: 'file:'\n", 3, "environments.dev.A",
                 "absolute path", id="file-without-path"),
    pytest.param("environments:\n  dev:\n    A: pre-${X}\n", 3, "environments.dev.A",
                 "whole value", id="partial-server-var"),
    pytest.param("environments:\n  dev:\n    A: ${X\n", 3, "environments.dev.A",
                 "whole value", id="unclosed-server-var"),
    pytest.param("environments:\n  dev:\n    A: ${1X}\n", 3, "environments.dev.A",
                 "whole value", id="server-var-bad-name"),
    pytest.param("environments:\n  dev:\n    A: ${ATLANTIS_GH_TOKEN}\n", 3,
                 "environments.dev.A", "server's own settings", id="server-own-secret"),
    pytest.param("environments:\n  dev:\n    A: x\n    A: y\n", 4, "environments.dev.A",
                 "duplicate key", id="duplicate-variable"),
    pytest.param("environments:\n  dev:\n    A: [x]\n", 3, "environments.dev.A",
                 "expected a string", id="list-value"),
    pytest.param("environments:\n  dev: {A: 'x'\n", 3, "(yaml)", "invalid YAML",
                 id="broken-yaml"),
]


@pytest.mark.parametrize("text, line, key, detail", ERRORS)
def test_errors_name_file_line_and_key(text: str, line: int, key: str, detail: str) -> None:
    with pytest.raises(RepoConfigError) as err:
        parse_credentials(FILE, text)
    assert (err.value.file, err.value.line, err.value.key) == (FILE, line, key)
    assert detail in err.value.message
    assert str(err.value).startswith(f"{FILE}:{line}: {key}: ")


def test_an_error_does_not_quote_a_literal_from_another_line() -> None:
    text = textwrap.dedent("""\
        environments:
          dev:
            TF_VAR_secret: s3cr3t-literal
            BAD NAME: x
        """)
    with pytest.raises(RepoConfigError) as err:
        parse_credentials(FILE, text)
    assert "s3cr3t-literal" not in str(err.value)


def test_the_readme_examples_parse() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("## Cloud credentials for terraform", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 3
    for block in blocks:
        parsed = parse_credentials("README.md", block)
        assert set(parsed.environments) == {"dev", "production"}
