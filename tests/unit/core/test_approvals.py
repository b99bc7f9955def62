"""Approval policy: which reviews count on the head commit, and whether that is enough."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from atlantis_py.core.approvals import (
    ApprovalDecision,
    Facts,
    NotCounted,
    evaluate_approval,
    latest_reviews,
)
from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.domain.projects import Environment

HEAD, OLD = "h" * 40, "o" * 40
A, C, R, D = (ReviewState.APPROVED, ReviewState.COMMENTED, ReviewState.CHANGES_REQUESTED,
              ReviewState.DISMISSED)


def evaluate(env: Environment, reviews: Sequence[Review], *, author: str,
             head_sha: str) -> ApprovalDecision:
    """The approval rules with no clock-, plan- or team-dependent facts in play;
    every reviewer has write access."""
    return evaluate_approval(env, Facts(author=author, head_sha=head_sha,
                                        now=datetime(2026, 1, 1, tzinfo=UTC),
                                        reviews=tuple(reviews),
                                        writers=frozenset(r.user for r in reviews)))


def rv(user: str, state: ReviewState, sha: str = HEAD) -> Review:
    return Review(user=user, state=state, commit_sha=sha)


# (reviews in submission order, expected {lower-cased user: (state, sha)})
LATEST = [
    pytest.param([], {}, id="no-reviews"),
    pytest.param([rv("bob", A)], {"bob": (A, HEAD)}, id="single-approval"),
    pytest.param([rv("bob", C)], {}, id="comment-only-is-no-verdict"),
    pytest.param([rv("bob", A), rv("bob", C)], {"bob": (A, HEAD)},
                 id="comment-after-approval-keeps-approval"),
    pytest.param([rv("bob", R), rv("bob", C)], {"bob": (R, HEAD)},
                 id="comment-after-changes-requested-keeps-rejection"),
    pytest.param([rv("bob", R), rv("bob", A)], {"bob": (A, HEAD)},
                 id="later-approval-supersedes-changes-requested"),
    pytest.param([rv("bob", A), rv("bob", R)], {"bob": (R, HEAD)},
                 id="later-changes-requested-supersedes-approval"),
    pytest.param([rv("bob", A, OLD), rv("bob", A, HEAD)], {"bob": (A, HEAD)},
                 id="newest-approval-wins"),
    pytest.param([rv("bob", A), rv("bob", D)], {"bob": (D, HEAD)}, id="dismissal-is-latest"),
    pytest.param([rv("Bob", A), rv("bob", R)], {"bob": (R, HEAD)},
                 id="same-reviewer-any-case"),
    pytest.param([rv("bob", A), rv("carol", R)], {"bob": (A, HEAD), "carol": (R, HEAD)},
                 id="reviewers-kept-apart"),
]


@pytest.mark.parametrize("reviews, expected", LATEST)
def test_latest_reviews(reviews: list[Review],
                        expected: dict[str, tuple[ReviewState, str]]) -> None:
    got = {user: (r.state, r.commit_sha) for user, r in latest_reviews(reviews).items()}
    assert got == expected


ENV1 = Environment("prod", required_approvals=1)
ENV2 = Environment("prod", required_approvals=2)

# (env, reviews, author, expected counted users, expected not-counted (user, reason part),
#  expected rejected_by)
CASES = [
    pytest.param(ENV1, [], "alice", [], [], [], id="no-reviews"),
    pytest.param(ENV1, [rv("bob", A)], "alice", ["bob"], [], [], id="approval-on-head"),
    pytest.param(ENV1, [rv("bob", A, OLD)], "alice", [], [("bob", "older commit")], [],
                 id="approval-on-old-commit-not-counted"),
    pytest.param(ENV1, [rv("bob", A, OLD), rv("bob", A, HEAD)], "alice", ["bob"], [], [],
                 id="re-approval-on-head-counts"),
    pytest.param(ENV1, [rv("alice", A)], "alice", [],
                 [("alice", "author cannot approve")], [], id="author-excluded"),
    pytest.param(ENV1, [rv("Alice", A)], "aLICE", [],
                 [("Alice", "author cannot approve")], [], id="author-excluded-any-case"),
    pytest.param(ENV1, [rv("bob", R)], "alice", [], [], ["bob"], id="changes-requested"),
    pytest.param(ENV1, [rv("bob", R, OLD)], "alice", [], [], ["bob"],
                 id="changes-requested-on-old-commit-still-blocks"),
    pytest.param(ENV1, [rv("bob", R), rv("bob", A)], "alice", ["bob"], [], [],
                 id="later-approval-supersedes-own-changes-requested"),
    pytest.param(ENV1, [rv("bob", A), rv("bob", R)], "alice", [], [], ["bob"],
                 id="later-changes-requested-withdraws-approval"),
    pytest.param(ENV1, [rv("bob", R), rv("carol", A)], "alice", ["carol"], [], ["bob"],
                 id="other-reviewer-approval-does-not-clear-rejection"),
    pytest.param(ENV1, [rv("bob", A), rv("bob", C)], "alice", ["bob"], [], [],
                 id="comment-keeps-approval"),
    pytest.param(ENV1, [rv("bob", R), rv("bob", C)], "alice", [], [], ["bob"],
                 id="comment-keeps-rejection"),
    pytest.param(ENV1, [rv("bob", C)], "alice", [], [], [], id="comment-alone-counts-nothing"),
    pytest.param(ENV1, [rv("bob", A), rv("bob", D)], "alice", [], [], [],
                 id="dismissed-approval-removed"),
    pytest.param(ENV1, [rv("bob", R), rv("bob", D)], "alice", [], [], [],
                 id="dismissed-rejection-removed"),
    pytest.param(ENV1, [rv("bob", D), rv("bob", A)], "alice", ["bob"], [], [],
                 id="approval-after-dismissal-counts"),
    pytest.param(ENV2, [rv("bob", A), rv("BOB", A)], "alice", ["BOB"], [], [],
                 id="one-reviewer-counts-once-any-case"),
    pytest.param(ENV2, [rv("bob", A), rv("carol", A)], "alice", ["bob", "carol"], [], [],
                 id="two-reviewers"),
    # approvers allow-list: user names, compared without case; "org/team" entries are teams
    pytest.param(Environment("prod", 1, ("Bob",)), [rv("bob", A)], "alice", ["bob"], [], [],
                 id="approver-listed-any-case"),
    pytest.param(Environment("prod", 1, ("bob",)), [rv("carol", A)], "alice", [],
                 [("carol", "not an approver for prod")], [], id="approver-not-listed"),
    pytest.param(Environment("prod", 1, ("acme/carol",)), [rv("carol", A)], "alice", [],
                 [("carol", "not an approver for prod")], [],
                 id="team-entry-does-not-match-user-of-same-name"),
    pytest.param(Environment("prod", 1, ("acme/sre", "bob")), [rv("bob", A), rv("dan", A)],
                 "alice", ["bob"], [("dan", "not an approver")], [],
                 id="users-and-teams-mixed"),
    pytest.param(Environment("prod", 1, ("alice",)), [rv("alice", A)], "alice", [],
                 [("alice", "author cannot approve")], [],
                 id="author-excluded-even-when-listed"),
    pytest.param(Environment("prod", 1, ("bob",)), [rv("carol", R)], "alice", [], [],
                 ["carol"], id="changes-requested-by-non-approver-still-blocks"),
]


@pytest.mark.parametrize("env, reviews, author, counted, not_counted, rejected", CASES)
def test_evaluate(env: Environment, reviews: list[Review], author: str, counted: list[str],
                  not_counted: list[tuple[str, str]], rejected: list[str]) -> None:
    decision = evaluate(env, reviews, author=author, head_sha=HEAD)
    assert decision.environment == env.name
    assert decision.required == env.required_approvals
    assert sorted(u for u, _ in decision.counted) == sorted(counted)
    assert all(sha == HEAD for _, sha in decision.counted)
    assert len(decision.not_counted) == len(not_counted)
    for (user, reason), skipped in zip(sorted(not_counted),
                                       sorted(decision.not_counted, key=lambda n: n.user)):
        assert isinstance(skipped, NotCounted)
        assert skipped.user == user
        assert reason in skipped.reason
    assert sorted(decision.rejected_by) == sorted(rejected)


# (required, approving reviewers on head, rejecting reviewers, missing, ok)
COUNTS = [
    pytest.param(0, [], [], 0, True, id="0-required-none-given"),
    pytest.param(0, [], ["bob"], 0, False, id="0-required-but-rejected"),
    pytest.param(1, [], [], 1, False, id="1-required-none-given"),
    pytest.param(1, ["bob"], [], 0, True, id="1-required-1-given"),
    pytest.param(1, ["bob", "carol"], [], 0, True, id="1-required-2-given"),
    pytest.param(1, ["bob"], ["carol"], 0, False, id="1-required-1-given-1-rejected"),
    pytest.param(2, ["bob"], [], 1, False, id="2-required-1-given"),
    pytest.param(2, ["bob", "carol"], [], 0, True, id="2-required-2-given"),
    pytest.param(3, [], [], 3, False, id="3-required-none-given"),
    pytest.param(3, ["bob", "carol"], [], 1, False, id="3-required-2-given"),
    pytest.param(3, ["bob", "carol", "dan"], [], 0, True, id="3-required-3-given"),
    pytest.param(3, ["bob", "carol", "dan", "erin"], [], 0, True, id="3-required-4-given"),
]


@pytest.mark.parametrize("required, approvers, rejecters, missing, ok", COUNTS)
def test_missing_and_ok(required: int, approvers: list[str], rejecters: list[str],
                        missing: int, ok: bool) -> None:
    reviews = [rv(u, A) for u in approvers] + [rv(u, R) for u in rejecters]
    decision = evaluate(Environment("prod", required), reviews, author="alice", head_sha=HEAD)
    assert decision.missing == missing
    assert decision.ok is ok


@pytest.mark.parametrize("reviews, missing", [
    pytest.param([rv("alice", A), rv("bob", A, OLD)], 2, id="author-and-stale-do-not-count"),
    pytest.param([rv("alice", A), rv("bob", A, OLD), rv("carol", A)], 1, id="only-carol"),
])
def test_uncounted_reviews_do_not_reduce_missing(reviews: list[Review], missing: int) -> None:
    decision = evaluate(ENV2, reviews, author="alice", head_sha=HEAD)
    assert decision.missing == missing
    assert decision.ok is False


@pytest.mark.parametrize("allow_self", [False, True])
def test_who_opened_it_is_an_author_too(allow_self: bool) -> None:
    """GitHub and GitLab name the bot as the author of an IPR opened through the
    API: both it and the person who asked for it are refused as approvers."""
    env = Environment("prod", 1, allow_self_approval=allow_self)
    reviews = (rv("Alice", A), rv("atlantis-bot", A), rv("bob", A))
    decision = evaluate_approval(env, Facts(
        author="atlantis-bot", opened_by="alice", head_sha=HEAD,
        now=datetime(2026, 1, 1, tzinfo=UTC), reviews=reviews,
        writers=frozenset(r.user for r in reviews)))
    refused = {n.user: n.reason for n in decision.not_counted}
    if allow_self:
        assert [u for u, _ in decision.counted] == ["Alice", "atlantis-bot", "bob"]
    else:
        assert [u for u, _ in decision.counted] == ["bob"]
        assert refused == {"Alice": "the author cannot approve their own pull request",
                           "atlantis-bot": "the author cannot approve their own pull request"}
