"""`atlantis-py affected`: the dry run of affected detection.

Prints what a pull request from BASE to HEAD would plan, with the reasons,
without touching a forge or terraform: the quickest way to check an Atmos
layout (or a plain repo) before turning the server on it. It reads the
config and detects projects with the server's own code (`core.config.load`,
`flows.detection`), so the two cannot disagree."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from atlantis_py.core.config.load import base_config, config_text, head_config
from atlantis_py.core.detect.atmos import StackError, TemplateError
from atlantis_py.core.selection import environment_of, for_base_branch
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.errors import RepoConfigError, WorkspaceError
from atlantis_py.flows.detection import Detector
from atlantis_py.runner.scratch import scratch_worktree
from atlantis_py.runner.trees import GitTree, changed_paths, merge_base, resolve_commit

FAILURES = (StackError, TemplateError, RepoConfigError, WorkspaceError)


def add_affected_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
                        ) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "affected", help="print the projects a change from BASE to HEAD affects, with reasons")
    add_change_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(func=run_affected)
    return parser


def add_change_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", type=Path, default=Path("."), help="git repository path")
    parser.add_argument("--base", required=True, help="base ref (compared at its merge base "
                                                      "with HEAD, like a pull request)")
    parser.add_argument("--head", default="HEAD", help="head ref (default HEAD)")


@dataclass(frozen=True)
class Change:
    """A local change as the server would see its pull request: the head
    checked out (`tree`), its config, the base branch's config, and the
    projects a plan takes."""

    head_sha: str
    source_sha: str
    tree: Path
    config: RepoConfig
    projects: tuple[Project, ...]


@contextmanager
def local_change(repo: Path, base: str, head: str, detector: Detector | None = None, *,
                 checkout: bool = False) -> Iterator[Change]:
    """Raises StackError, TemplateError, RepoConfigError or WorkspaceError when
    nothing can be planned. The head is checked out (`Change.tree`) when
    `checkout` or when plain directories need it; an Atmos repository is read
    from git alone."""
    head_sha = resolve_commit(repo, head)
    try:
        source = merge_base(repo, base, head_sha)
    except WorkspaceError:
        source = resolve_commit(repo, base)
    with ExitStack() as held:
        new = held.enter_context(GitTree(repo, head_sha))
        # atlantis.yaml's `branch` regexes see the base's branch name, as on a pull request
        head_cfg = for_base_branch(head_config(_text(new)),
                                   base.removeprefix("refs/heads/").removeprefix("origin/"))
        base_cfg = base_config(_text(held.enter_context(GitTree(repo, base))), base)
        stacks = head_cfg.atmos is not None or "atmos.yaml" in new.files("")
        tree = (held.enter_context(scratch_worktree(repo, head_sha))
                if checkout or not stacks else Path(held.enter_context(
                    tempfile.TemporaryDirectory(prefix="atlantis-affected-"))))
        found = (detector or Detector()).select(
            repo, str(repo.resolve()), source, head_sha, head_cfg, base_cfg, tree,
            changed_paths(repo, source, head_sha), None, compare=True)
        if found.problem:
            raise WorkspaceError(found.problem)
        yield Change(head_sha, source, tree, head_cfg, tuple(
            replace(p, environment=environment_of(p, head_cfg, base_cfg))
            for p in found.projects))


def _text(tree: GitTree) -> str:
    """workflows.yaml (or atlantis.yaml) at that commit, "" when it has none."""
    present = tree.files("")
    return config_text(lambda name: tree.read(name).decode("utf-8", errors="replace")
                       if name in present else None)


def as_json(projects: Sequence[Project]) -> list[dict[str, object]]:
    return [{"project": p.name, "component": p.component, "stack": p.stack, "dir": p.dir,
             "workspace": p.workspace, "environment": p.environment,
             "reasons": list(p.reasons), "deleted": p.deleted}
            for p in projects]


def as_table(projects: Sequence[Project]) -> str:
    if not projects:
        return "no affected projects\n"
    rows = [("PROJECT", "DIR", "WORKSPACE", "REASONS")]
    for p in projects:
        reasons = ", ".join(p.reasons)
        rows.append((p.name + (" (destroy)" if p.deleted else ""), p.dir, p.workspace,
                     reasons))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]
             for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def run_affected(args: argparse.Namespace) -> int:
    try:
        with local_change(args.repo, args.base, args.head) as change:
            projects = change.projects
    except FAILURES as err:
        print(f"atlantis-py affected: {err}", file=sys.stderr)
        print("nothing would be planned", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(as_json(projects), indent=2))
    else:
        sys.stdout.write(as_table(projects))
    return 0
