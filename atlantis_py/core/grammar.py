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

`import ADDRESS ID` and `state rm ADDRESS...` take positional words beside the
flags; each address must match Terraform's address grammar (TARGET_ADDRESS)
and the runner passes them after `--`, so none can be read as an option.
"""

from __future__ import annotations

import posixpath
import re
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

# after `--`: what `terraform import` / `terraform state rm` may be given
IMPORT_EXTRA_ARGS = ("-var=", "-var-file=")
STATE_RM_EXTRA_ARGS = ("-dry-run",)

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_KEY = r'\[(?:[0-9]+|"[^"\\\x00-\x1f\x7f]*")\]'
_MODULE = rf"module\.{_NAME}(?:{_KEY})?"
# a resource instance, as `terraform import` takes it: module.a["x"].aws_s3_bucket.b[0]
IMPORT_ADDRESS = re.compile(rf"(?:{_MODULE}\.)*(?!module\.|data\.){_NAME}\.{_NAME}(?:{_KEY})?")
# what `terraform state rm` takes besides: data sources and whole modules
TARGET_ADDRESS = re.compile(
    rf"(?:{_MODULE}\.)*(?:(?:data\.)?{_NAME}\.{_NAME}(?:{_KEY})?|{_MODULE})")
# a provider's import ID is free-form (ARNs, paths, JSON) but one printable line
IMPORT_ID = re.compile(r"[^\x00-\x1f\x7f]{1,1024}")
MAX_ADDRESSES = 50

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
    if name is CommandName.UNLOCK:
        if args:
            raise CommandParseError(f"{name.value} takes no arguments, got {' '.join(args)!r}")
        return Command(name)
    if name in (CommandName.IMPORT, CommandName.STATE):
        return _state_command(name, flags, extra, "--" in args)
    if name is CommandName.VERSION and "--" in args:
        raise CommandParseError("version takes no extra arguments")
    values = _flags(flags)
    directory = _where(values)
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


def _where(values: dict[str, str]) -> str | None:
    """Checks -p/-d/-w together; the normalised dir (`-w` alone: the root)."""
    if "project" in values and ("dir" in values or "workspace" in values):
        raise CommandParseError("-p names a project; it cannot be combined with -d or -w")
    if "workspace" in values and "dir" not in values:
        values["dir"] = "."
    return _directory(values["dir"], "-d") if "dir" in values else None


def _state_command(name: CommandName, flags: list[str], extra: list[str],
                   dashes: bool) -> Command:
    """`import [flags] ADDRESS ID` or `state [flags] rm ADDRESS...`; flags and
    words may come in any order, as in Atlantis."""
    options, words = _split(flags)
    values = _flags(options)
    directory = _where(values)
    subcommand = None
    allowed: tuple[str, ...]
    if name is CommandName.STATE:
        if not words or words[0] != "rm":
            got = f"got {words[0]!r}" if words else "none given"
            raise CommandParseError(f"state needs the subcommand rm ({got}): "
                                    "atlantis state rm ADDRESS...")
        subcommand, words = "rm", words[1:]
        if not words:
            raise CommandParseError("state rm needs at least one resource address")
        if len(words) > MAX_ADDRESSES:
            raise CommandParseError(f"state rm takes at most {MAX_ADDRESSES} addresses")
        for word in words:
            _address(word, TARGET_ADDRESS)
        allowed = STATE_RM_EXTRA_ARGS
    else:
        if len(words) != 2:
            raise CommandParseError("import takes a resource address and an ID: atlantis "
                                    f"import ADDRESS ID (got {len(words)} of them)")
        _address(words[0], IMPORT_ADDRESS)
        if not IMPORT_ID.fullmatch(words[1]):
            raise CommandParseError(f"import ID {words[1]!r} must be one line of printable "
                                    "characters, at most 1024")
        allowed = IMPORT_EXTRA_ARGS
    if dashes and not extra:
        raise CommandParseError("nothing follows `--`")
    return Command(name, project=values.get("project"), dir=directory,
                   workspace=values.get("workspace"),
                   extra_args=_extra_args(extra, directory, allowed),
                   subcommand=subcommand, targets=tuple(words))


def _address(word: str, grammar: re.Pattern[str]) -> None:
    if not grammar.fullmatch(word):
        raise CommandParseError(
            f"{word!r} is not a Terraform resource address such as aws_instance.web, "
            'module.net.aws_subnet.a[0] or \'aws_instance.web["key"]\' (quote it whole)')


def _split(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Flags with their values apart from the positional words."""
    flags: list[str] = []
    words: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("-"):
            words.append(token)
        else:
            flags.append(token)
            if "=" not in token and i + 1 < len(tokens):
                flags.append(tokens[i + 1])
                i += 1
        i += 1
    return flags, words


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


def _extra_args(tokens: list[str], directory: str | None,
                allowed: tuple[str, ...] = ALLOWED_EXTRA_ARGS) -> tuple[str, ...]:
    """Each token allow-listed; a value-taking flag alone (`-var`) takes the next
    token as its value, checked as if written `-var=VALUE`."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        arg = tokens[i]
        if f"{arg}=" in allowed:
            if i + 1 == len(tokens) or tokens[i + 1].startswith("-"):
                raise CommandParseError(f"{arg!r} needs a value: `{arg} VALUE` or `{arg}=VALUE`")
            _extra_arg(f"{arg}={tokens[i + 1]}", directory, allowed)
            out += [arg, tokens[i + 1]]
            i += 2
            continue
        out.append(_extra_arg(arg, directory, allowed))
        i += 1
    return tuple(out)


def _extra_arg(arg: str, directory: str | None,
               allowed_args: tuple[str, ...] = ALLOWED_EXTRA_ARGS) -> str:
    """Pass `arg` through if the allow-list has it; refuse it otherwise.

    A `-var-file` is read by terraform from the project dir, so it is checked
    against `-d` when given; with `-p` the dir is unknown here, so the file
    must then stay under the project dir.
    """
    for allowed in allowed_args:
        if arg == allowed and not allowed.endswith("="):
            return arg
        if allowed.endswith("=") and arg.startswith(allowed):
            value = arg[len(allowed):]
            if not value:
                raise CommandParseError(f"{arg!r} needs a value after '='")
            if allowed == "-var-file=":
                _directory(value, "-var-file", directory or ".")
            return arg
    listed = ", ".join(f"{a}..." if a.endswith("=") else a for a in allowed_args)
    raise CommandParseError(f"terraform argument {arg!r} is not allowed; allowed: {listed}")
