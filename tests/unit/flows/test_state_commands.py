"""The command an import or state rm answer asks to comment again is the one
that was parsed: written back, it parses to the same command."""

from __future__ import annotations

import pytest

from atlantis_py.core.grammar import parse_comment
from atlantis_py.flows.state_commands import command_text


@pytest.mark.parametrize("body", [
    "atlantis import terraform_data.x some-id",
    "atlantis import -d net 'aws_subnet.a[\"eu west\"]' 'id with `tick`'",
    "atlantis import -p app a.b c -- -var foo=bar -var-file=x.tfvars",
    "atlantis state rm -w ops a.b 'module.m[0].c.d'",
    "atlantis state rm -d envs/prod -w ops a.b -- -dry-run",
])
def test_command_text_parses_back_to_the_same_command(body: str) -> None:
    command = parse_comment(body)
    assert command is not None
    assert parse_comment(command_text(command)) == command
