"""`atlantis-py token create`: API tokens, made on the server's machine
(it writes to the server's database)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from atlantis_py import settings as settings_mod
from atlantis_py.domain.records import Role
from atlantis_py.errors import ConfigError
from atlantis_py.store.db import Database
from atlantis_py.store.tokens import TokenStore


def _token(args: argparse.Namespace) -> int:
    try:
        settings = settings_mod.load(args, require_forge=False)
    except ConfigError as err:
        print(f"atlantis-py token: {err}", file=sys.stderr)
        return 2
    db = Database(settings.db_url)
    db.migrate()
    token = TokenStore(db).create(args.user, Role(args.role))
    db.dispose()
    print(token)
    print(f"(token for {args.user}, role {args.role}: shown once, store it now)",
          file=sys.stderr)
    return 0


def add_token_parser(sub: Any) -> None:
    token = sub.add_parser("token", help="manage API tokens (on the server's machine)")
    cmds = token.add_subparsers(dest="token_command", required=True)
    create = cmds.add_parser("create", help="create a token and print it once")
    create.add_argument("--user", required=True)
    create.add_argument("--role", required=True, choices=["viewer", "reviewer", "admin"])
    settings_mod.add_arguments(create)
    create.set_defaults(func=_token)
