"""Apply requirements beyond approval and the base branches applied into:
each refusal's text, and when there is none."""

from __future__ import annotations

import pytest

from atlantis_py.core.requirements import (
    base_branch_refusal,
    mergeable_refusal,
    undiverged_refusal,
)
from atlantis_py.domain.forge import Mergeability


@pytest.mark.parametrize("base, allowed, refusal", [
    pytest.param("main", ("*",), None, id="default-allows-any"),
    pytest.param("main", ("main", "release/*"), None, id="exact"),
    pytest.param("release/2026", ("main", "release/*"), None, id="glob"),
    pytest.param("lax-base", ("main", "release/*"),
                 "this pull request targets `lax-base`, and this server applies only pull "
                 "requests into `main`, `release/*` (--apply-base-branches): retarget it at one "
                 "of those branches", id="other-branch-refused"),
    pytest.param("Main", ("main",),
                 "this pull request targets `Main`, and this server applies only pull requests "
                 "into `main` (--apply-base-branches): retarget it at one of those branches",
                 id="case-matters-as-in-git"),
])
def test_base_branch(base: str, allowed: tuple[str, ...], refusal: str | None) -> None:
    assert base_branch_refusal(base, allowed) == refusal


@pytest.mark.parametrize("found, words", [
    pytest.param(Mergeability(True, "clean"), None, id="mergeable"),
    pytest.param(Mergeability(False, "conflict"),
                 "this pull request cannot be merged as it stands (`conflict`), and it must be "
                 "mergeable to apply: resolve the conflicts or whatever else blocks the merge",
                 id="not-mergeable"),
    pytest.param(Mergeability(False),
                 "this pull request cannot be merged as it stands, and it must be mergeable to "
                 "apply: resolve the conflicts or whatever else blocks the merge",
                 id="not-mergeable-no-detail"),
    pytest.param(Mergeability(None),
                 "the forge has not yet worked out whether this pull request can be merged; it "
                 "must be mergeable to apply: comment `atlantis apply` again in a minute",
                 id="unknown-refuses"),
])
def test_mergeable(found: Mergeability, words: str | None) -> None:
    assert mergeable_refusal(found) == words


@pytest.mark.parametrize("behind, refusal", [
    pytest.param(0, None, id="contains-the-base-head"),
    pytest.param(1, "this branch is 1 commit behind `main` and must contain its head to apply, "
                    "so the apply cannot revert what was merged there: merge or rebase `main` "
                    "into this branch (the new commit is planned and needs approval again)",
                 id="one-behind"),
    pytest.param(12, "this branch is 12 commits behind `main` and must contain its head to "
                     "apply, so the apply cannot revert what was merged there: merge or rebase "
                     "`main` into this branch (the new commit is planned and needs approval "
                     "again)", id="many-behind"),
])
def test_undiverged(behind: int, refusal: str | None) -> None:
    assert undiverged_refusal(behind, "main") == refusal
