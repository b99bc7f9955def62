"""Affected plain Terraform directories between two trees (no Atmos).

The tree-based counterpart of `core.detect.dirs` for the `affected` dry run
and for deletions: a folder that held *.tf at base and holds none at head is
reported `deleted`, to be planned with `-destroy` from the base ref. A changed
folder other roots source as a module stands for those roots."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from atlantis_py.core.detect.atmos.affected import AffectedProject, changed_between
from atlantis_py.core.detect.atmos.cache import StackCache
from atlantis_py.core.detect.atmos.tfsources import ModuleIndex
from atlantis_py.core.detect.atmos.tree import Tree


def _name(dir: str) -> str:
    return "root" if dir == "." else dir.replace("/", "_")


def plain_affected(base: Tree, head: Tree, changed_paths: Sequence[str] | None,
                   cache: StackCache | None = None) -> list[AffectedProject]:
    cache = cache if cache is not None else StackCache()
    changed = list(changed_paths) if changed_paths is not None else changed_between(base, head)
    changed_dirs = {posixpath.dirname(p) or "." for p in changed
                    if p.endswith((".tf", ".tfvars", ".tf.json"))}
    old, new = ModuleIndex(base, cache), ModuleIndex(head, cache)
    roots = {d for d in new.tf_folders() if not new.is_sourced(d)}
    found: list[AffectedProject] = []
    for d in sorted(roots):
        reasons = []
        if d in changed_dirs:
            reasons.append("dir")
        if new.closure(d) & changed_dirs:
            reasons.append("module")
        if reasons:
            found.append(AffectedProject(_name(d), None, None, d, "default", tuple(reasons)))
    for d in sorted(old.tf_folders() - new.tf_folders()):
        if not old.is_sourced(d):
            found.append(AffectedProject(_name(d), None, None, d, "default",
                                         ("deleted", f"no *.tf left in {d}"), deleted=True))
    return found
