"""Write access is asked of the forge once per user per job, never across jobs."""

from __future__ import annotations

import pytest

from atlantis_py.flows import access
from atlantis_py.flows.access import as_one_job, can_approve, one_job


class Forge:
    name = "github"

    def __init__(self, writers: set[str]) -> None:
        self.writers = writers
        self.asked: list[tuple[str, str]] = []

    def can_approve(self, repo: str, user: str) -> bool:
        self.asked.append((repo, user))
        return user in self.writers


def test_one_lookup_per_user_within_a_job() -> None:
    forge = Forge({"bob"})
    with one_job():
        assert can_approve(forge, "acme/infra", "bob")
        assert not can_approve(forge, "acme/infra", "mallory")
        with one_job():  # an operation the job calls shares its answers
            assert can_approve(forge, "acme/infra", "Bob")
            assert not can_approve(forge, "acme/infra", "mallory")
        assert can_approve(forge, "acme/other", "bob")
    assert forge.asked == [("acme/infra", "bob"), ("acme/infra", "mallory"),
                           ("acme/other", "bob")]


def test_nothing_is_kept_between_jobs() -> None:
    forge = Forge({"bob"})

    @as_one_job
    def job() -> bool:
        return can_approve(forge, "acme/infra", "bob")

    assert job() and job()
    assert can_approve(forge, "acme/infra", "bob")  # outside any job: always asked
    assert len(forge.asked) == 3
    forge.writers.clear()  # write access revoked: the next job sees it
    assert not job()


def test_a_long_job_asks_again_after_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    forge = Forge({"bob"})
    clock = [1000.0]
    monkeypatch.setattr(access, "_now", lambda: clock[0])
    with one_job():
        can_approve(forge, "acme/infra", "bob")
        clock[0] += access.ACCESS_TTL
        can_approve(forge, "acme/infra", "bob")
        clock[0] += 1
        forge.writers.clear()
        assert not can_approve(forge, "acme/infra", "bob")
    assert len(forge.asked) == 2
