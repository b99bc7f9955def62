"""`atlantis-py ipr …` and `atlantis-py token …`: the lifecycle from a terminal.

`ipr` talks to a running server over its REST API; `token` writes straight to
the server's database, so only someone on the server's machine can mint tokens.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from atlantis_py.cli.api import ApiClient, add_server_arguments, run_api_command, table
from atlantis_py.domain.repo_names import repo_name_problem


def show(ipr: dict[str, Any]) -> str:
    where = (f"  {ipr['forge']} {ipr['repo']}#{ipr['pull_number']} by {ipr['author']}  "
             f"{ipr['head_ref']} -> {ipr['base_ref']} @ {ipr['head_sha'][:7]}")
    out = [f"IPR {ipr['id']}: {ipr['title']}", where, f"  state: {ipr['state']}"]
    if ipr["blocking"]:
        out.append("  blocking: " + "; ".join(ipr["blocking"]))
    if ipr["projects"]:
        out.append("")
        out.append(table([[p["project"], p["dir"], p["workspace"], p["environment"],
                           p["summary"], "yes" if p["applied"] else "no"]
                          for p in ipr["projects"]],
                         ["PROJECT", "DIR", "WORKSPACE", "ENV", "PLAN", "APPLIED"]))
    if ipr["approvals"]:
        out.append("")
        out.append(table([[a["user"], a["state"], a["commit_sha"][:7],
                           "yes" if a["counted"] else f"no ({a['reason']})"]
                          for a in ipr["approvals"]],
                         ["REVIEWER", "VERDICT", "COMMIT", "COUNTS"]))
    return "\n".join(out)


def _run(args: argparse.Namespace) -> int:
    return run_api_command("ipr", args.ipr_command, args, _dispatch, _problem)


def _problem(args: argparse.Namespace) -> str | None:
    if args.ipr_command == "create" and \
            (problem := repo_name_problem(args.repo, args.forge or "")) is not None:
        return f"atlantis-py ipr create: --repo: {problem}"
    return None


def _dispatch(api: ApiClient, args: argparse.Namespace) -> str | None:
    cmd = args.ipr_command
    if cmd == "list":
        query = [f"page={args.page}", f"per_page={args.per_page}"]
        if args.state:
            query.append(f"state={args.state}")
        if args.repo:
            query.append(f"repo={urllib.parse.quote(args.repo, safe='')}")
        page = api.call("GET", "/ipr?" + "&".join(query))
        if args.json:
            return json.dumps(page["items"], indent=2)
        return table([[str(i["id"]), i["repo"], str(i["pull_number"]), i["state"], i["author"],
                       i["title"]] for i in page["items"]],
                     ["ID", "REPO", "PR", "STATE", "AUTHOR", "TITLE"]) + \
            f"\n({len(page['items'])} of {page['total']})"
    if cmd == "events":
        if args.jsonl:
            return str(api.call("GET", f"/ipr/{args.id}/events?format=jsonl", raw=True)).rstrip()
        events = api.call("GET", f"/ipr/{args.id}/events")["items"]
        if args.json:
            return json.dumps(events, indent=2)
        return table([[e["at"], e["actor"], e["action"], e["head_sha"][:7], e["project"],
                       e["detail"]] for e in events],
                     ["AT", "ACTOR", "ACTION", "COMMIT", "PROJECT", "DETAIL"])
    if cmd == "deploy":
        queued = api.call("POST", f"/ipr/{args.id}/deploy", {})
        return json.dumps(queued) if args.json else \
            f"IPR {args.id}: deployment queued (job {queued['job']})"
    if cmd == "comment":
        posted = api.call("POST", f"/ipr/{args.id}/comments", {"body": args.body})
        if args.json:
            return json.dumps(posted)
        if posted["status"] == "queued":
            return (f"IPR {args.id}: comment added; the server answers on the IPR "
                    f"(ipr show {args.id} --comments)")
        return f"IPR {args.id}: comment added"
    if cmd == "show":
        ipr = api.call("GET", f"/ipr/{args.id}")
        if args.comments:
            comments = api.call("GET", f"/ipr/{args.id}/comments")["items"]
            if args.json:
                return json.dumps({**ipr, "comments": comments}, indent=2)
            return show(ipr) + "".join(f"\n\n--- {c['author']} at {c['at']}\n\n{c['body']}"
                                       for c in comments)
    elif cmd == "create":
        fields = {"repo": args.repo, "head": args.head, "base": args.base, "title": args.title,
                  "description": args.description}
        if args.forge:
            fields["forge"] = args.forge
        ipr = api.call("POST", "/ipr", fields)
    elif cmd == "review":
        ipr = api.call("POST", f"/ipr/{args.id}/review",
                       {"decision": "approve" if args.approve else "reject",
                        "comment": args.comment})
    elif cmd == "cancel":
        ipr = api.call("POST", f"/ipr/{args.id}/cancel", {"reason": args.reason})
    else:
        raise AssertionError(cmd)
    return json.dumps(ipr, indent=2) if args.json else show(ipr)


def add_ipr_parser(sub: Any) -> None:
    ipr = sub.add_parser("ipr", help="drive Infrastructure Pull Requests through the API")
    add_server_arguments(ipr)
    ipr.set_defaults(func=_run)
    cmds = ipr.add_subparsers(dest="ipr_command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = cmds.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    p = command("list", "list IPRs")
    p.add_argument("--state")
    p.add_argument("--repo")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--per-page", type=int, default=50)
    p = command("create", "open a pull request and plan it")
    p.add_argument("--repo", required=True)
    p.add_argument("--head", required=True)
    p.add_argument("--base", default="main")
    p.add_argument("--title", required=True)
    p.add_argument("--description", default="")
    p.add_argument("--forge", default=None,
                   help="github, gitlab or local; default: the server's only forge, else github")
    p = command("show", "show one IPR")
    p.add_argument("id", type=int)
    p.add_argument("--comments", action="store_true",
                   help="also print the pull request's comments (forges whose comments "
                        "the server keeps: --local-repos)")
    command("deploy", "apply an approved IPR").add_argument("id", type=int)
    p = command("comment", "comment as yourself (--local-repos); `atlantis plan|apply|"
                           "unlock|help …` runs as it would from a forge comment")
    p.add_argument("id", type=int)
    p.add_argument("body", help='e.g. "atlantis plan -p dev"')
    p = command("review", "approve or reject")
    p.add_argument("id", type=int)
    verdict = p.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--reject", action="store_true")
    p.add_argument("--comment", default="")
    p = command("cancel", "cancel an IPR and release its locks")
    p.add_argument("id", type=int)
    p.add_argument("--reason", default="")
    p = command("events", "the audit trail")
    p.add_argument("id", type=int)
    p.add_argument("--jsonl", action="store_true", help="JSON lines, for a SIEM")
