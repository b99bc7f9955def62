"""The console's "awaiting my review" tab: the reviews the gate counts decide,
the forge's as well as the API's, for the IPR's current head."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import pytest

from atlantis_py.domain.console import IPRPage, IPRQuery, Tab
from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.domain.records import IPRState, PullRecord
from atlantis_py.errors import ForgeError
from atlantis_py.flows.awaiting import AwaitingReview, reviewed_at_head
from atlantis_py.flows.services import Services

HEAD, OLD = "h" * 40, "o" * 40
A, R, C, D = (ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.COMMENTED,
              ReviewState.DISMISSED)


def record(number: int, head: str = HEAD, updated: int = 0) -> PullRecord:
    return PullRecord(id=number, forge="github", repo="acme/infra", number=number,
                      author="alice", head_sha=head, head_ref="f", base_ref="main", title="t",
                      clone_url="", state=IPRState.PENDING, open=True,
                      updated_at=datetime(2026, 1, 1, 0, 0, updated))


def rv(user: str, state: ReviewState, sha: str = HEAD, second: int = 0) -> Review:
    return Review(user=user, state=state, commit_sha=sha,
                  submitted_at=datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC))


@pytest.mark.parametrize(("reviews", "reviewed"), [
    pytest.param([], False, id="none"),
    pytest.param([rv("Bob", A)], True, id="approved-head-any-case"),
    pytest.param([rv("bob", A, OLD)], False, id="approved-an-older-commit"),
    pytest.param([rv("bob", R)], True, id="changes-requested-at-head"),
    pytest.param([rv("bob", R, "")], True, id="gitlab-changes-requested-name-no-commit"),
    pytest.param([rv("bob", A, "")], False, id="approval-of-an-unknown-commit"),
    pytest.param([rv("bob", A), rv("bob", D, HEAD, 1)], False, id="dismissed"),
    pytest.param([rv("bob", A), rv("bob", C, HEAD, 1)], True, id="a-comment-changes-nothing"),
    pytest.param([rv("carol", A)], False, id="someone-else"),
])
def test_reviewed_at_head(reviews: list[Review], reviewed: bool) -> None:
    assert reviewed_at_head(record(1), reviews, "bob") is reviewed


@dataclass
class Forge:
    given: dict[int, list[Review]] = field(default_factory=dict)
    asked: list[int] = field(default_factory=list)
    down: bool = False

    def reviews(self, repo: str, number: int) -> list[Review]:
        self.asked.append(number)
        if self.down:
            raise ForgeError("the forge is down")
        return self.given.get(number, [])


@dataclass
class Stored:
    def list(self, pull_id: int) -> list[Review]:
        return [rv("bob", A)] if pull_id == 3 else []  # given through the API


@dataclass
class Svc:
    forges: dict[str, Forge]
    reviews: Stored = field(default_factory=Stored)


@dataclass
class Lister:
    records: list[PullRecord]
    asked: list[IPRQuery] = field(default_factory=list)

    def iprs(self, query: IPRQuery) -> IPRPage:
        self.asked.append(query)
        return IPRPage(records=tuple(self.records), total=len(self.records),
                       counts={"PENDING": len(self.records)}, environments=("prod",))


def test_forge_reviews_take_iprs_off_the_tab_and_pages_count_what_is_left() -> None:
    forge = Forge(given={2: [rv("bob", A)], 4: [rv("bob", A, OLD)]})
    lister = Lister([record(n) for n in (5, 4, 3, 2, 1)])
    now = [0.0]
    awaiting = AwaitingReview(cast(Services, Svc({"github": forge})), lister,
                              clock=lambda: now[0])
    page = awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING, offset=1, limit=2))
    assert [r.id for r in page.records] == [4, 1]
    assert page.total == 3 and page.counts == {"PENDING": 3}
    assert page.environments == ("prod",)
    assert lister.asked[-1].offset == 0  # every candidate, then the page
    assert awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING,
                                  state=IPRState.APPROVED)).total == 0

    asked = len(forge.asked)
    awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    assert len(forge.asked) == asked  # remembered while the IPRs are unchanged
    lister.records[3] = record(2, updated=1)  # a review webhook touched #2
    forge.given[2] = [rv("bob", A), rv("bob", D, HEAD, 1)]
    page = awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    assert forge.asked[asked:] == [2] and [r.id for r in page.records] == [5, 4, 2, 1]
    now[0] = 31.0
    awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    assert sorted(forge.asked[asked + 1:]) == [1, 2, 3, 4, 5]  # and for 30 s at most


def test_an_unreadable_forge_leaves_the_ipr_listed_and_other_tabs_ask_no_forge() -> None:
    forge = Forge(down=True)
    lister = Lister([record(2), record(1)])
    awaiting = AwaitingReview(cast(Services, Svc({"github": forge})), lister)
    assert [r.id for r in awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING)).records] \
        == [2, 1]
    forge.asked.clear()
    assert len(awaiting.iprs(IPRQuery(user="bob", tab=Tab.ALL)).records) == 2
    assert forge.asked == []


def test_one_view_asks_the_forge_a_bounded_number_of_times_newest_first() -> None:
    forge = Forge(given={n: [rv("bob", A)] for n in range(1, 26)})
    lister = Lister([record(n) for n in range(25, 0, -1)])
    awaiting = AwaitingReview(cast(Services, Svc({"github": forge})), lister,
                              clock=lambda: 0.0)
    first = awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    assert forge.asked == list(range(25, 15, -1))  # LOOKUPS of them, newest first
    assert [r.id for r in first.records] == list(range(15, 0, -1))  # not asked yet: listed
    second = awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    assert forge.asked[10:] == list(range(15, 5, -1))  # the next ten, the first remembered
    assert [r.id for r in second.records] == list(range(5, 0, -1))


def test_a_forge_that_fails_is_not_asked_again_within_the_ttl() -> None:
    forge = Forge(down=True)
    lister = Lister([record(2), record(1)])
    now = [0.0]
    awaiting = AwaitingReview(cast(Services, Svc({"github": forge})), lister,
                              clock=lambda: now[0])
    awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    assert forge.asked == [2, 1]
    now[0] = 31.0
    awaiting.iprs(IPRQuery(user="bob", tab=Tab.AWAITING))
    assert forge.asked == [2, 1, 2, 1]
