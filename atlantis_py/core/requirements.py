"""Apply requirements beyond approval, and which base branches may be applied
into: pure decisions, each refusal a sentence that says how to fix it.

`mergeable` and `undiverged` are Atlantis's apply_requirements of the same
names; the facts (the forge's mergeability, how far the branch is behind its
base) are resolved by the apply flow. The base-branch check is the server's
`--apply-base-branches`: a pull request into any other branch is never
applied, since whoever created that branch could have merged anything there.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from atlantis_py.domain.forge import Mergeability


def base_branch_refusal(base_ref: str, allowed: Sequence[str]) -> str | None:
    """None when `base_ref` matches one of the `allowed` globs."""
    if any(fnmatch.fnmatchcase(base_ref, glob) for glob in allowed):
        return None
    names = ", ".join(f"`{glob}`" for glob in allowed)
    return (f"this pull request targets `{base_ref}`, and this server applies only pull "
            f"requests into {names} (--apply-base-branches): retarget it at one of those "
            "branches")


def mergeable_refusal(found: Mergeability) -> str | None:
    """The `mergeable` requirement: the forge must say the pull request can be merged."""
    if found.mergeable:
        return None
    detail = f" (`{found.detail}`)" if found.detail else ""
    if found.mergeable is None:
        return (f"the forge has not yet worked out whether this pull request can be "
                f"merged{detail}; it must be mergeable to apply: comment `atlantis apply` "
                "again in a minute")
    return (f"this pull request cannot be merged as it stands{detail}, and it must be "
            "mergeable to apply: resolve the conflicts or whatever else blocks the merge")


def undiverged_refusal(behind: int, base_ref: str) -> str | None:
    """The `undiverged` requirement: the branch must contain the base branch's head,
    so an apply cannot undo what another merged pull request applied."""
    if behind <= 0:
        return None
    commits = "1 commit" if behind == 1 else f"{behind} commits"
    return (f"this branch is {commits} behind `{base_ref}` and must contain its head to "
            f"apply, so the apply cannot revert what was merged there: merge or rebase "
            f"`{base_ref}` into this branch (the new commit is planned and needs approval "
            "again)")


def plan_requirement_refusals(wanted: Sequence[str], base_ref: str, *,
                              approvals_missing: int | None = None,
                              mergeable: Mergeability | None = None,
                              behind: int | None = None) -> tuple[str, ...]:
    """atlantis.yaml's `plan_requirements`: what keeps a project from being
    planned, one sentence per requirement it misses (none: it may plan).
    Facts the caller did not look up (None) are not judged."""
    refusals: list[str] = []
    if "approved" in wanted and approvals_missing:
        count = "1 more approval" if approvals_missing == 1 else \
            f"{approvals_missing} more approvals"
        refusals.append(f"plan_requirements: approved: this commit needs {count} before it "
                        "is planned: approve it, then comment `atlantis plan`")
    if "mergeable" in wanted and mergeable is not None and not mergeable.mergeable:
        detail = f" (`{mergeable.detail}`)" if mergeable.detail else ""
        refusals.append(f"plan_requirements: mergeable: the forge does not (yet) say this "
                        f"pull request can be merged{detail}: resolve what blocks the merge, "
                        "then comment `atlantis plan`")
    if "undiverged" in wanted and behind:
        commits = "1 commit" if behind == 1 else f"{behind} commits"
        refusals.append(f"plan_requirements: undiverged: this branch is {commits} behind "
                        f"`{base_ref}`: merge or rebase `{base_ref}` into it, which plans "
                        "again")
    return tuple(refusals)
