"""Pull request comment → Command.

Anyone who can comment can write here, so the grammar is small and strict:
the text is tokenised with `shlex` only to honour quotes (nothing is ever
handed to a shell), every flag is known, and the extra terraform arguments
after `--` must match an allow-list. Each extra argument stays one argv
element; `-var=x;rm -rf /` quoted is one harmless `-var` value, unquoted it is
three tokens and `-rf` is refused. As in terraform (and Atlantis), a flag
that takes a value may have it as the next token (`-var foo=bar`): the two
tokens pass through as they are, the flag still allow-listed.

`-w` without `-d` means that workspace of the repository root, the default
dir, as Atlantis reads it.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Sequence

from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.errors import CommandParseError

ALLOWED_EXTRA_ARGS = (
    "-target=",
    "-var=",
    "-var-file=",
    "-replace=",
    "-refresh=false",
    "-refresh-only",
    "-destroy",
    "-lock=false",
    "-parallelism=",
    "-compact-warnings",
)

_HELP_WORDS = ("help", "-h", "--help")
_FLAGS = {"-p": "project", "--project": "project", "-d": "dir", "--dir": "dir",
          "-w": "workspace", "--workspace": "workspace"}


def parse_comment(body: str, bot_names: Sequence[str] = ("atlantis",)) -> Command | None:
    """The command in a comment, or None when the comment is not addressed to us.

    A comment is addressed to us when its first word is one of `bot_names`,
    bare or with a leading "@" (compared without case, as forges compare user
    names). Only its first line is read, so a command can be followed by an
    explanation. Raises CommandParseError when it is addressed to us but is not
    a valid command; the caller answers with the help text (report/help.md.j2).
    """
    text = body.strip()
    if not text:
        return None
    # the line is stripped on its own: trailing blanks must not depend on whether
    # more lines follow (a trailing "\\ " would otherwise escape a space or not)
    first, *rest = text.splitlines()[0].strip().split(maxsplit=1)
    names = {name.lower().removeprefix("@") for name in bot_names}
    if first.lower().removeprefix("@") not in names:
        return None
    try:
        tokens = shlex.split(rest[0] if rest else "", posix=True)
    except ValueError as e:
        raise CommandParseError(f"cannot read the command: {e}") from e
    return _command(tokens)


def _command(tokens: list[str]) -> Command:
    if not tokens or tokens[0] in _HELP_WORDS:
        return Command(CommandName.HELP)
    word, args = tokens[0], tokens[1:]
    try:
        name = CommandName(word)
    except ValueError:
        known = ", ".join(n.value for n in CommandName)
        raise CommandParseError(f"unknown command {word!r}; use one of: {known}") from None
    flags, extra = args, []
    if "--" in args:
        split = args.index("--")
        flags, extra = args[:split], args[split + 1:]
    if any(flag in _HELP_WORDS[1:] for flag in flags):
        return Command(CommandName.HELP)
    if name in (CommandName.UNLOCK, CommandName.VERSION):
        if args:
            raise CommandParseError(f"{name.value} takes no arguments, got {' '.join(args)!r}")
        return Command(name)
    values = _flags(flags)
    if "project" in values and ("dir" in values or "workspace" in values):
        raise CommandParseError("-p names a project; it cannot be combined with -d or -w")
    if "workspace" in values and "dir" not in values:
        values["dir"] = "."
    directory = _directory(values["dir"], "-d") if "dir" in values else None
    if "--" in args and name is CommandName.APPLY:
        raise CommandParseError("apply takes no extra arguments: it applies the saved plan")
    if "--" in args and name is CommandName.APPROVE_POLICIES:
        raise CommandParseError("approve_policies takes no extra arguments")
    return Command(
        name,
        project=values.get("project"),
        dir=directory,
        workspace=values.get("workspace"),
        extra_args=_extra_args(extra, directory),
    )


def _flags(tokens: list[str]) -> dict[str, str]:
    """`-p x`, `--project x` and `--project=x` → {"project": "x"}."""
    values: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        flag, equals, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if flag not in _FLAGS:
            if not token.startswith("-"):
                raise CommandParseError(f"unexpected argument {token!r}; flags are "
                                        "-p NAME, -d DIR, -w WORKSPACE")
            raise CommandParseError(f"unknown flag {token!r}; flags are "
                                    "-p NAME, -d DIR, -w WORKSPACE")
        if not equals:
            i += 1
            if i == len(tokens) or tokens[i].startswith("-"):
                raise CommandParseError(f"flag {flag} needs a value")
            value = tokens[i]
        key = _FLAGS[flag]
        if key in values:
            raise CommandParseError(f"flag {flag} is given twice")
        if not value.strip():
            raise CommandParseError(f"flag {flag} needs a value")
        if key != "dir" and ("/" in value or any(c.isspace() for c in value)):
            raise CommandParseError(f"{flag} {value!r}: names cannot contain spaces or '/'")
        values[key] = value
        i += 1
    return values


def _directory(raw: str, what: str, base: str = ".") -> str:
    """Normalise a path relative to `base` and refuse one that leaves the repo."""
    if raw.startswith("/") or "\\" in raw:
        raise CommandParseError(f"{what} {raw!r} must be a relative path with '/' separators")
    normal = posixpath.normpath(posixpath.join(base, raw))
    if normal == ".." or normal.startswith("../"):
        raise CommandParseError(f"{what} {raw!r} points outside the repository")
    return posixpath.normpath(raw)


def _extra_args(tokens: list[str], directory: str | None) -> tuple[str, ...]:
    """Each token allow-listed; a value-taking flag alone (`-var`) takes the next
    token as its value, checked as if written `-var=VALUE`."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        arg = tokens[i]
        if f"{arg}=" in ALLOWED_EXTRA_ARGS:
            if i + 1 == len(tokens) or tokens[i + 1].startswith("-"):
                raise CommandParseError(f"{arg!r} needs a value: `{arg} VALUE` or `{arg}=VALUE`")
            _extra_arg(f"{arg}={tokens[i + 1]}", directory)
            out += [arg, tokens[i + 1]]
            i += 2
            continue
        out.append(_extra_arg(arg, directory))
        i += 1
    return tuple(out)


def _extra_arg(arg: str, directory: str | None) -> str:
    """Pass `arg` through if the allow-list has it; refuse it otherwise.

    A `-var-file` is read by terraform from the project dir, so it is checked
    against `-d` when given; with `-p` the dir is unknown here, so the file
    must then stay under the project dir.
    """
    for allowed in ALLOWED_EXTRA_ARGS:
        if arg == allowed and not allowed.endswith("="):
            return arg
        if allowed.endswith("=") and arg.startswith(allowed):
            value = arg[len(allowed):]
            if not value:
                raise CommandParseError(f"{arg!r} needs a value after '='")
            if allowed == "-var-file=":
                _directory(value, "-var-file", directory or ".")
            return arg
    listed = ", ".join(f"{a}..." if a.endswith("=") else a for a in ALLOWED_EXTRA_ARGS)
    raise CommandParseError(f"terraform argument {arg!r} is not allowed; allowed: {listed}")
