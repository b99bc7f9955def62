"""`atlantis-py`: the command line, one module per command. `logs.configure` is
called only from here and cli/server.py."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from atlantis_py import __version__, logs
from atlantis_py.cli.affected import add_affected_parser
from atlantis_py.cli.drift import add_drift_parser
from atlantis_py.cli.ipr import add_ipr_parser
from atlantis_py.cli.plan import add_plan_parser
from atlantis_py.cli.server import add_server_parsers
from atlantis_py.cli.testdrive import add_testdrive_parser
from atlantis_py.cli.token import add_token_parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atlantis-py",
                                     description="A review gate for Terraform pull requests.")
    parser.add_argument("--log-level", default="info")
    sub = parser.add_subparsers(dest="command", required=True)
    add_server_parsers(sub)
    add_ipr_parser(sub)
    add_affected_parser(sub)
    add_plan_parser(sub)
    add_token_parser(sub)
    add_testdrive_parser(sub)
    add_drift_parser(sub)
    version = sub.add_parser("version", help="print the version")
    version.set_defaults(func=lambda _a: print(__version__) or 0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level)
    return int(args.func(args))
