"""SavedPlans: one place decides where plan files live and when they go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.domain.events import Repo
from atlantis_py.errors import WorkspaceError
from atlantis_py.runner.plans import PlanUnavailable, SavedPlans
from atlantis_py.store.db import Database
from atlantis_py.store.plan_blobs import PlanBlobStore

GITHUB = Repo("github", "acme/infra", "https://example.invalid/acme/infra.git")
NESTED = Repo("gitlab", "acme/2024/infra", "https://example.invalid/acme/2024/infra.git")
A, B = "a" * 40, "b" * 40


def _save(plans: SavedPlans, repo: Repo, number: int, sha: str, dir: str = "infra") -> Path:
    path = plans.path(repo, number, sha, dir, "default")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("plan")
    path.with_suffix(".tfvars.json").write_text("{}")
    return path


def test_paths_differ_by_commit_dir_and_workspace(tmp_path: Path) -> None:
    plans = SavedPlans(tmp_path)
    paths = {plans.path(GITHUB, 1, A, "infra", "default"),
             plans.path(GITHUB, 1, B, "infra", "default"),
             plans.path(GITHUB, 1, A, "infra", "staging"),
             plans.path(GITHUB, 1, A, "other", "default"),
             plans.path(GITHUB, 2, A, "infra", "default"),
             # projects sharing a dir and workspace (Atlantis's tfvars layout)
             plans.path(GITHUB, 1, A, "infra", "default", "infra-prod"),
             plans.path(GITHUB, 1, A, "infra", "default", "infra-dev")}
    assert len(paths) == 7
    assert all(p.is_relative_to(tmp_path) and p.suffix == ".tfplan" for p in paths)


@pytest.mark.parametrize("repo,number,sha", [
    (Repo("github", "acme/../etc", "x"), 1, A),
    (GITHUB, 0, A),
    (GITHUB, 1, "HEAD"),
    (GITHUB, 1, "../" + A[:37]),
])
def test_unsafe_names_are_refused(tmp_path: Path, repo: Repo, number: int, sha: str) -> None:
    with pytest.raises(WorkspaceError):
        SavedPlans(tmp_path).path(repo, number, sha, "infra", "default")


def test_discard_pull_removes_every_commit_and_var_file(tmp_path: Path) -> None:
    plans = SavedPlans(tmp_path)
    _save(plans, GITHUB, 1, A)
    _save(plans, GITHUB, 1, B)
    other = _save(plans, GITHUB, 2, A)
    plans.discard_pull(GITHUB, 1)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.tf*")) == sorted(
        [other.relative_to(tmp_path), other.with_suffix(".tfvars.json").relative_to(tmp_path)])
    plans.discard_pull(GITHUB, 1)  # idempotent


def test_a_newer_head_replaces_older_plans(tmp_path: Path) -> None:
    plans = SavedPlans(tmp_path)
    old = _save(plans, GITHUB, 1, A)
    new = _save(plans, GITHUB, 1, B)
    plans.discard_older(GITHUB, 1, B)
    assert not old.exists() and new.exists()


def test_prune_keeps_only_open_pull_requests(tmp_path: Path) -> None:
    plans = SavedPlans(tmp_path)
    kept = _save(plans, GITHUB, 1, A)
    gone = _save(plans, GITHUB, 2, A)
    nested_kept = _save(plans, NESTED, 7, A)
    nested_gone = _save(plans, NESTED, 8, A)
    asked: list[tuple[str, str, int]] = []

    def is_open(forge: str, repo: str, number: int) -> bool:
        asked.append((forge, repo, number))
        return number in (1, 7)

    assert plans.prune(is_open) == 2
    assert kept.exists() and nested_kept.exists()
    assert not gone.exists() and not nested_gone.exists()
    assert sorted(asked) == [("github", "acme/infra", 1), ("github", "acme/infra", 2),
                             ("gitlab", "acme/2024/infra", 7), ("gitlab", "acme/2024/infra", 8)]


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[PlanBlobStore]:
    db = Database(f"sqlite:///{tmp_path / 'plans.db'}")
    db.migrate()
    yield PlanBlobStore(db)
    db.dispose()


def test_a_plan_shared_by_one_replica_is_fetched_by_another(
        tmp_path: Path, archive: PlanBlobStore) -> None:
    here = SavedPlans(tmp_path / "a", archive)
    there = SavedPlans(tmp_path / "b", archive)
    made = _save(here, GITHUB, 1, A)
    here.share(GITHUB, 1, A, made)
    wanted = there.path(GITHUB, 1, A, "infra", "default")
    assert not wanted.exists()
    there.fetch(GITHUB, 1, A, wanted)
    assert wanted.read_bytes() == made.read_bytes()


def test_a_tampered_local_copy_is_replaced_by_the_shared_one(
        tmp_path: Path, archive: PlanBlobStore) -> None:
    plans = SavedPlans(tmp_path, archive)
    made = _save(plans, GITHUB, 1, A)
    plans.share(GITHUB, 1, A, made)
    made.write_text("something else")
    plans.fetch(GITHUB, 1, A, made)
    assert made.read_text() == "plan"


def test_a_corrupt_shared_plan_is_refused(tmp_path: Path, archive: PlanBlobStore) -> None:
    plans = SavedPlans(tmp_path, archive)
    made = _save(plans, GITHUB, 1, A)
    archive.put("github", "acme/infra", 1, A, made.name, b"tampered", "0" * 64)
    with pytest.raises(PlanUnavailable, match="checksum"):
        plans.fetch(GITHUB, 1, A, made)


def test_no_shared_plan_is_a_clear_error(tmp_path: Path, archive: PlanBlobStore) -> None:
    plans = SavedPlans(tmp_path, archive)
    with pytest.raises(PlanUnavailable, match="atlantis plan"):
        plans.fetch(GITHUB, 1, A, plans.path(GITHUB, 1, A, "infra", "default"))


def test_a_plan_over_the_size_limit_is_refused_and_not_kept(
        tmp_path: Path, archive: PlanBlobStore) -> None:
    plans = SavedPlans(tmp_path, archive, max_bytes=3)
    made = _save(plans, GITHUB, 1, A)
    with pytest.raises(PlanUnavailable, match="over the"):
        plans.share(GITHUB, 1, A, made)
    assert not made.exists()
    assert archive.pulls() == []


def test_discarding_reaches_the_shared_copies(tmp_path: Path, archive: PlanBlobStore) -> None:
    plans = SavedPlans(tmp_path, archive)
    for number, sha in ((1, A), (1, B), (2, A), (3, A)):
        plans.share(GITHUB, number, sha, _save(plans, GITHUB, number, sha))
    plans.discard_older(GITHUB, 1, B)
    assert archive.get("github", "acme/infra", 1, A, _name(plans)) is None
    assert archive.get("github", "acme/infra", 1, B, _name(plans)) is not None
    plans.discard_pull(GITHUB, 2)
    plans.prune(lambda _f, _r, number: number == 1)
    assert archive.pulls() == [("github", "acme/infra", 1)]


def _name(plans: SavedPlans) -> str:
    return plans.path(GITHUB, 1, A, "infra", "default").name
