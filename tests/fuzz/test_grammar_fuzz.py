"""parse_comment on any comment: None (not addressed to us), a Command, or a
CommandParseError; never another exception. A Command only ever carries
allow-listed terraform arguments and directories inside the repository."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from atlantis_py.core.grammar import (
    ALLOWED_EXTRA_ARGS,
    IMPORT_ADDRESS,
    IMPORT_EXTRA_ARGS,
    STATE_RM_EXTRA_ARGS,
    TARGET_ADDRESS,
    parse_comment,
)
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.errors import CommandParseError

NAMES = ("atlantis", "@atlantis-bot")
WORDS = ["plan", "apply", "unlock", "help", "-h", "--help", "-p", "--project", "--project=",
         "-d", "--dir", "--dir=", "-w", "--workspace", "--", "-var=a=b", "-var", "-target=x",
         "-var-file=../../etc/passwd", "-var-file=x.tfvars", "-destroy", "-refresh=false",
         "-auto-approve", "-lock=false", "-parallelism=", ".", "..", "../x", "/abs", "a/b",
         "net work", "'", '"', "\\", "'quoted arg'", '"-var=x;rm -rf /"', "$(id)", ";", "|",
         "é", "\u2028", "\x00", "\t", "import", "state", "rm", "terraform_data.x",
         "module.m", "'a.b[\"k\"]'", "-dry-run", "id-1"]
TOKENS = st.sampled_from(WORDS) | st.text(max_size=6)
ADDRESSED = st.builds(
    lambda name, words, sep, tail: name + sep + " ".join(words) + tail,
    st.sampled_from(["atlantis", "@atlantis", "Atlantis", "@ATLANTIS-BOT", "@atlantis-bot",
                     "atlantis-bot", "@@atlantis", "atlantis:"]),
    st.lists(TOKENS, max_size=8),
    st.sampled_from([" ", "\t", "  ", "\u00a0", "\u3000"]),
    st.sampled_from(["", "\n", "\nmore text -- -destroy", "\r\n", "\u2029x"]),
)
COMMENTS = ADDRESSED | st.text(max_size=60)


def addressed(body: str) -> bool:
    """The rule, restated: the first word of the first line is one of our names,
    bare or with one leading '@', compared without case."""
    text = body.strip()
    if not text:
        return False
    first = text.splitlines()[0].split(maxsplit=1)[0].lower().removeprefix("@")
    return first in {n.lower().removeprefix("@") for n in NAMES}


def check(command: Command) -> None:
    allowed = {CommandName.IMPORT: IMPORT_EXTRA_ARGS,
               CommandName.STATE: STATE_RM_EXTRA_ARGS}.get(command.name, ALLOWED_EXTRA_ARGS)
    if command.name is CommandName.IMPORT:
        assert len(command.targets) == 2 and IMPORT_ADDRESS.fullmatch(command.targets[0])
    elif command.name is CommandName.STATE:
        assert command.subcommand == "rm" and command.targets
        assert all(TARGET_ADDRESS.fullmatch(t) for t in command.targets), command.targets
    else:
        assert command.targets == ()
    for arg in command.extra_args:
        assert any(arg == a if not a.endswith("=") else arg.startswith(a) and arg != a
                   for a in allowed), arg
        if arg.startswith("-var-file="):
            joined = posixpath.normpath(posixpath.join(command.dir or ".",
                                                       arg.removeprefix("-var-file=")))
            assert not joined.startswith("..") and not joined.startswith("/"), arg
    if command.dir is not None:
        assert not command.dir.startswith("/") and command.dir != ".." \
            and not command.dir.startswith("../"), command.dir
    for name in (command.project, command.workspace):
        assert name is None or (name.strip() and "/" not in name)


@given(COMMENTS)
def test_any_comment(body: str) -> None:
    try:
        command = parse_comment(body, NAMES)
    except CommandParseError as err:
        assert addressed(body) and str(err)
        return
    assert (command is not None) == addressed(body)
    if command is not None:
        check(command)


@given(ADDRESSED, st.text(max_size=40))
def test_only_the_first_line_counts(first: str, rest: str) -> None:
    line = first.strip().splitlines()[0] if first.strip() else first
    try:
        alone = parse_comment(line, NAMES)
    except CommandParseError as err:
        alone_error: str | None = str(err)
    else:
        alone_error = None
    try:
        followed = parse_comment(f"{line}\n{rest}", NAMES)
    except CommandParseError as err:
        assert alone_error == str(err)
    else:
        assert alone_error is None and followed == alone
