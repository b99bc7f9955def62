"""`atlantis-py`: the command line. The only module that configures logging."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence

from atlantis_py import __version__, logs
from atlantis_py import settings as settings_mod
from atlantis_py.cli_affected import add_affected_parser
from atlantis_py.cli_ipr import add_ipr_parser, add_token_parser
from atlantis_py.errors import ConfigError

log = logging.getLogger(__name__)


def _server(args: argparse.Namespace) -> int:
    from atlantis_py.app import HTTPServer, create_service

    try:
        settings = settings_mod.load(args, require_forge=False)
    except ConfigError as err:
        print(f"atlantis-py server: {err}", file=sys.stderr)
        return 2
    logs.configure(args.log_level, [settings.gh_token, settings.gh_webhook_secret])
    if not settings.gh_token:
        log.warning("no forge configured: webhooks are refused until --gh-token and "
                    "--gh-webhook-secret are set")
    service = create_service(settings)
    http = HTTPServer(service, settings.host, settings.port)
    service.start()

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %d: shutting down", signum)
        http.close()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("atlantis-py %s listening on %s:%d", __version__, settings.host, http.port)
    try:
        http.serve_forever()
    finally:
        service.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atlantis-py",
                                     description="A review gate for Terraform pull requests.")
    parser.add_argument("--log-level", default="info")
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("server", help="run the webhook server and its workers")
    settings_mod.add_arguments(server)
    server.set_defaults(func=_server)
    add_ipr_parser(sub)
    add_affected_parser(sub)
    add_token_parser(sub, settings_mod.add_arguments)
    version = sub.add_parser("version", help="print the version")
    version.set_defaults(func=lambda _a: print(__version__) or 0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level)
    return int(args.func(args))
