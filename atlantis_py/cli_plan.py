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
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from atlantis_py.cli_affected import detect
from atlantis_py.core.detect.atmos import StackError, TemplateError
from atlantis_py.core.repo_config import REPO_CONFIG_FILE, load_default_config, parse_repo_config
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.errors import RepoConfigError, WorkspaceError
from atlantis_py.jobs.detection import to_project
from atlantis_py.report.render import Renderer
from atlantis_py.runner.scratch import scratch_worktree
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.trees import merge_base, resolve_commit
from atlantis_py.runner.workflow import run_plan


def add_plan_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
                    ) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "plan", help="plan what a change from BASE to HEAD affects, locally, and print "
                     "the comment the server would post")
    parser.add_argument("--repo", type=Path, default=Path("."), help="git repository path")
    parser.add_argument("--base", required=True, help="base ref (compared at its merge base "
                                                      "with HEAD, like a pull request)")
    parser.add_argument("--head", default="HEAD", help="head ref (default HEAD)")
    parser.add_argument("--terraform-bin", default="terraform",
                        help="terraform or tofu executable")
    parser.set_defaults(func=run_plan_command)
    return parser


def _config(tree: Path) -> RepoConfig:
    path = tree / REPO_CONFIG_FILE
    if not path.is_file():
        return load_default_config()
    return parse_repo_config(path.read_text(encoding="utf-8", errors="replace"))


def plan_locally(repo: Path, base: str, head: str, tf: Terraform) -> list[ProjectResult]:
    """Plan every affected project; raises StackError, TemplateError,
    RepoConfigError or WorkspaceError when nothing can be planned."""
    head_sha = resolve_commit(repo, head)
    try:
        source = merge_base(repo, base, head_sha)
    except WorkspaceError:
        source = resolve_commit(repo, base)
    found = detect(repo, base, head_sha)
    with ExitStack() as held:
        head_tree = held.enter_context(scratch_worktree(repo, head_sha))
        config = _config(head_tree)
        projects: list[Project] = [to_project(a, config, source) for a in found]
        trees = {"": head_tree}
        if any(p.deleted for p in projects):
            trees[source] = held.enter_context(scratch_worktree(repo, source))
        plans = Path(held.enter_context(tempfile.TemporaryDirectory(prefix="atlantis-plans-")))
        results = []
        for i, project in enumerate(projects):
            tree = trees[project.source_ref or ""]
            results.append(run_plan(project, config.workflow_for(project), tree,
                                    plans / f"{i}.tfplan", tf, head_sha=head_sha))
        return results


def run_plan_command(args: argparse.Namespace) -> int:
    try:
        results = plan_locally(args.repo, args.base, args.head, Terraform(args.terraform_bin))
    except (StackError, TemplateError, RepoConfigError, WorkspaceError) as err:
        print(f"atlantis-py plan: {err}", file=sys.stderr)
        print("nothing was planned", file=sys.stderr)
        return 1
    sys.stdout.write(Renderer().plan(results))
    return 0 if all(r.status is RunStatus.SUCCESS for r in results) else 1


def main_plan(argv: Sequence[str] | None = None) -> int:
    """Entry for tests, like `main_affected`."""
    parser = argparse.ArgumentParser(prog="atlantis-py")
    sub = parser.add_subparsers(dest="command", required=True)
    add_plan_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main_plan(sys.argv[1:]))
