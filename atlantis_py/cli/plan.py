"""`atlantis-py plan`: the dry run of a whole pull request, without a server.

Detects the affected projects from BASE (at its merge base with HEAD) to
HEAD exactly as the server does, plans each one with real terraform in a
throw-away worktree (deleted projects with `-destroy` in a worktree of the
merge base) and prints the comment the server would post. Nothing is applied,
no forge is involved, and the user's checkout is left alone."""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from atlantis_py.cli.affected import FAILURES, add_change_arguments, local_change
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.report.render import Renderer
from atlantis_py.runner.scratch import scratch_worktree
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.workflow import run_plan


def add_plan_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
                    ) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "plan", help="plan what a change from BASE to HEAD affects, locally, and print "
                     "the comment the server would post")
    add_change_arguments(parser)
    parser.add_argument("--terraform-bin", default="terraform",
                        help="terraform or tofu executable")
    parser.set_defaults(func=run_plan_command)
    return parser


def plan_locally(repo: Path, base: str, head: str, tf: Terraform) -> list[ProjectResult]:
    """Plan every affected project; raises StackError, TemplateError,
    RepoConfigError or WorkspaceError when nothing can be planned."""
    with ExitStack() as held:
        change = held.enter_context(local_change(repo, base, head, checkout=True))
        trees = {"": change.tree}
        if any(p.deleted for p in change.projects):
            trees[change.source_sha] = held.enter_context(
                scratch_worktree(repo, change.source_sha))
        plans = Path(held.enter_context(tempfile.TemporaryDirectory(prefix="atlantis-plans-")))
        return [run_plan(project, change.config.workflow_for(project),
                         trees[project.source_ref or ""], plans / f"{i}.tfplan", tf,
                         head_sha=change.head_sha)
                for i, project in enumerate(change.projects)]


def run_plan_command(args: argparse.Namespace) -> int:
    try:
        results = plan_locally(args.repo, args.base, args.head, Terraform(args.terraform_bin))
    except FAILURES as err:
        print(f"atlantis-py plan: {err}", file=sys.stderr)
        print("nothing was planned", file=sys.stderr)
        return 1
    sys.stdout.write(Renderer().plan(results))
    return 0 if all(r.status is RunStatus.SUCCESS for r in results) else 1
