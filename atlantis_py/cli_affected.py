"""`atlantis-py affected`: the dry run of affected detection.

Prints what a pull request from BASE to HEAD would plan, with the reasons,
without touching a forge or terraform: the quickest way to check an Atmos
layout (or a plain repo) before turning the server on it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from atlantis_py.core.detect.atmos import (
    AffectedProject,
    AtmosSettings,
    StackCache,
    StackError,
    TemplateError,
    describe_affected,
    discover_settings,
    plain_affected,
)
from atlantis_py.core.detect.atmos.tree import Tree
from atlantis_py.errors import WorkspaceError
from atlantis_py.runner.trees import GitTree, changed_paths, merge_base

WORKFLOWS_FILE = "workflows.yaml"


def add_affected_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
                        ) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "affected", help="print the projects a change from BASE to HEAD affects, with reasons")
    parser.add_argument("--repo", type=Path, default=Path("."), help="git repository path")
    parser.add_argument("--base", required=True, help="base ref (compared at its merge base "
                                                      "with HEAD, like a pull request)")
    parser.add_argument("--head", default="HEAD", help="head ref (default HEAD)")
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.set_defaults(func=run_affected)
    return parser


def _atmos_section(tree: Tree) -> Mapping[str, object] | None:
    """The `atmos:` section of workflows.yaml, if any (validated by config)."""
    if WORKFLOWS_FILE not in tree.files(""):
        return None
    try:
        doc = yaml.safe_load(tree.read(WORKFLOWS_FILE))
    except yaml.YAMLError as err:
        raise StackError(WORKFLOWS_FILE, None, f"malformed YAML: {err}") from err
    section = doc.get("atmos") if isinstance(doc, dict) else None
    if section is None:
        return None
    if not isinstance(section, dict):
        raise StackError(WORKFLOWS_FILE, None, "atmos must be a mapping")
    return section


def _settings(tree: Tree) -> AtmosSettings | None:
    return discover_settings(tree, _atmos_section(tree))


def detect(repo: Path, base: str, head: str, cache: StackCache | None = None
           ) -> list[AffectedProject]:
    """Affected projects from the merge base of `base` and `head` to `head`."""
    with GitTree(repo, head) as new:
        try:
            start = merge_base(repo, base, new.commit)
        except WorkspaceError:
            start = base
        with GitTree(repo, start) as old:
            changed = changed_paths(repo, old.commit, new.commit)
            head_settings = _settings(new)
            base_settings = _settings(old) or head_settings
            if head_settings is None:
                return plain_affected(old, new, changed, cache)
            return describe_affected(old, new, changed, head_settings,
                                     base_settings=base_settings, cache=cache)


def as_json(projects: Sequence[AffectedProject]) -> list[dict[str, object]]:
    return [{"project": p.project, "component": p.component, "stack": p.stack, "dir": p.dir,
             "workspace": p.workspace, "reasons": list(p.reasons), "deleted": p.deleted,
             "component_folder": p.component_folder, "stack_file": p.stack_file}
            for p in projects]


def as_table(projects: Sequence[AffectedProject]) -> str:
    if not projects:
        return "no affected projects\n"
    rows = [("PROJECT", "DIR", "WORKSPACE", "REASONS")]
    for p in projects:
        reasons = ", ".join(p.reasons)
        rows.append((p.project + (" (destroy)" if p.deleted else ""), p.dir, p.workspace,
                     reasons))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + "  " + r[3]
             for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def run_affected(args: argparse.Namespace) -> int:
    try:
        projects = detect(args.repo, args.base, args.head)
    except (StackError, TemplateError, WorkspaceError) as err:
        print(f"atlantis-py affected: {err}", file=sys.stderr)
        print("nothing would be planned", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(as_json(projects), indent=2))
    else:
        sys.stdout.write(as_table(projects))
    return 0


def main_affected(argv: Sequence[str] | None = None) -> int:
    """Entry for tests and until cli.py hooks `add_affected_parser` in."""
    parser = argparse.ArgumentParser(prog="atlantis-py")
    sub = parser.add_subparsers(dest="command", required=True)
    add_affected_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main_affected(sys.argv[1:]))
