"""The client of a running server's REST API that the terminal commands
(`ipr`, `drift`, `testdrive`) share, with how each answers on the terminal:
a refusal (exit 1), an unreachable server (exit 3), a missing flag (exit 2)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

EXIT_REFUSED = 1
EXIT_UNREACHABLE = 3


class ApiClient:
    def __init__(self, server: str, token: str) -> None:
        self.server = server.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             raw: bool = False) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.server}/api/v1{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                text = resp.read().decode()
        except urllib.error.HTTPError as e:
            raise Refused(e.code, _reason(e.read().decode(errors="replace"))) from None
        return text if raw else json.loads(text)


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status


def _reason(text: str) -> str:
    try:
        return str(json.loads(text).get("error", text))
    except (ValueError, AttributeError):
        return text.strip()


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """--server and --token, from ATLANTIS_URL and ATLANTIS_TOKEN by default."""
    parser.add_argument("--server", default=os.environ.get("ATLANTIS_URL", ""),
                        help="server URL [env ATLANTIS_URL]")
    parser.add_argument("--token", default=os.environ.get("ATLANTIS_TOKEN", ""),
                        help="API token [env ATLANTIS_TOKEN]")


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join(lines)


def run_api_command(
    command: str, subcommand: str, args: argparse.Namespace,
    dispatch: Callable[[ApiClient, argparse.Namespace], str | None],
    problem: Callable[[argparse.Namespace], str | None] = lambda _args: None,
) -> int:
    """Check the flags, call `dispatch`, and print its answer (or why not)."""
    for name, value in (("--server (or ATLANTIS_URL)", args.server),
                        ("--token (or ATLANTIS_TOKEN)", args.token)):
        if not value:
            print(f"atlantis-py {command}: {name} is required", file=sys.stderr)
            return 2
    if (found := problem(args)) is not None:
        print(found, file=sys.stderr)
        return 2
    api = ApiClient(args.server, args.token)
    try:
        result = dispatch(api, args)
    except Refused as e:
        print(f"atlantis-py {command} {subcommand}: refused: {e}", file=sys.stderr)
        return EXIT_REFUSED
    except urllib.error.URLError as e:
        print(f"atlantis-py {command}: cannot reach {args.server}: {e.reason}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if result is not None:
        print(result)
    return 0
