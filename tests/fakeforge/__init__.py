"""Fake forges for tests: real HTTP on loopback, real git repos, signed webhooks."""

from tests.fakeforge.github import FakeGitHub, FakePull, FakeRepo
from tests.fakeforge.model import FakeComment, FakeReview, FakeStatus, RecordedRequest

__all__ = [
    "FakeComment",
    "FakeGitHub",
    "FakePull",
    "FakeRepo",
    "FakeReview",
    "FakeStatus",
    "RecordedRequest",
]
