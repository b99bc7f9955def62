"""`atlantis-py drift run|show`: drift checks from a terminal, through a running
server's REST API (like `atlantis-py ipr`), with an API token."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
from typing import Any

from atlantis_py.cli.api import ApiClient, add_server_arguments, run_api_command, table


def _run(args: argparse.Namespace) -> int:
    return run_api_command("drift", args.drift_command, args, _dispatch, _problem)


def _problem(args: argparse.Namespace) -> str | None:
    return "atlantis-py drift: --project needs --repo" if args.project and not args.repo \
        else None


def _dispatch(api: ApiClient, args: argparse.Namespace) -> str:
    if args.drift_command == "run":
        fields: dict[str, Any] = {}
        for key in ("repo", "project", "at"):
            if getattr(args, key):
                fields[key] = getattr(args, key)
        run = api.call("POST", "/drift/run", fields)
        if args.json:
            return json.dumps(run, indent=2)
        lines = [f"job {q['job']}: {q['repo']}"
                 + (f" project {q['project']}" if q["project"] else "")
                 + (f" ({q['environment']}, slot {q['slot']})" if q["slot"] else "")
                 for q in run["queued"]]
        lines += [f"not read: {p}" for p in run["problems"]]
        return "\n".join(lines) or "nothing queued"
    query = f"?repo={urllib.parse.quote(args.repo, safe='')}" if args.repo else ""
    items = api.call("GET", "/drift" + query)["items"]
    if args.project:
        items = [i for i in items if i["project"] == args.project]
    if args.json:
        return json.dumps(items, indent=2)
    return table([[i["repo"], i["project"], i["environment"], i["state"],
                   f"+{i['add']} ~{i['change']} -{i['destroy']}", i["head_sha"][:7],
                   i["checked_at"] or "", i["detail"].splitlines()[0] if i["detail"] else ""]
                  for i in items],
                 ["REPO", "PROJECT", "ENV", "STATE", "CHANGES", "COMMIT", "CHECKED", "DETAIL"])


def add_drift_parser(sub: Any) -> None:
    drift = sub.add_parser("drift", help="check the default branches for drift")
    add_server_arguments(drift)
    drift.set_defaults(func=_run)
    cmds = drift.add_subparsers(dest="drift_command", required=True)
    for name, help in (("run", "queue a drift check now"),
                       ("show", "the latest result of each project")):
        p = cmds.add_parser(name, help=help)
        p.add_argument("--repo", default="", help="one repository (owner/name)")
        p.add_argument("--project", default="", help="one project of --repo")
        p.add_argument("--json", action="store_true", help="print JSON")
        if name == "run":
            p.add_argument("--at", default="",
                           help="queue the scheduled checks due at this ISO 8601 time "
                                "(not later than now) instead of checking now")
