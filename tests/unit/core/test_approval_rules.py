"""Approval policy rules, one table per decision, every refusal's text asserted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from atlantis_py.core.approvals import (
    EXPIRED,
    Facts,
    NotCounted,
    PolicyLimits,
    approving_users,
    bound,
    check_apply,
    deadline_passed,
    eligible_approvers,
    evaluate_approval,
    expiry_notice,
    format_opening,
    next_window_opening,
    policy_teams,
    resolve_members,
    resolve_writers,
)
from atlantis_py.domain.forge import Mergeability, Review, ReviewState
from atlantis_py.domain.projects import Environment
from atlantis_py.domain.results import PlanCounts
from atlantis_py.domain.rules import (
    ApplyWindow,
    DestroyRule,
    describe_days,
    format_duration,
    parse_duration,
)

HEAD, OLD = "h" * 40, "o" * 40
A, C, R, D = (ReviewState.APPROVED, ReviewState.COMMENTED, ReviewState.CHANGES_REQUESTED,
              ReviewState.DISMISSED)
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday
BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
AUTHOR = "erin"
MEMBERS: Mapping[str, frozenset[str]] = {
    "acme/platform": frozenset({"pat"}),
    "acme/sre": frozenset({"Dave", "sam"}),
    "acme/ops": frozenset({"olga"}),
}
DESTROY = {"network": PlanCounts(add=1, destroy=1)}
REPLACE = {"network": PlanCounts(replace=1), "dns": PlanCounts(add=2)}
NO_DESTROY = {"network": PlanCounts(add=1, change=2)}


def rv(user: str, state: ReviewState = A, sha: str = HEAD,
       age: timedelta | None = timedelta(hours=1)) -> Review:
    return Review(user=user, state=state, commit_sha=sha,
                  submitted_at=None if age is None else NOW - age)


def facts(*reviews: Review, plans: Mapping[str, PlanCounts] | None = None,
          requester: str | None = None, now: datetime = NOW,
          readers: frozenset[str] = frozenset(), mergeable: Mergeability | None = None,
          behind: int | None = None) -> Facts:
    """Every reviewer has write access to acme/infra but the `readers`."""
    return Facts(author=AUTHOR, head_sha=HEAD, now=now, reviews=reviews, plans=plans or {},
                 members=MEMBERS, requester=requester, repo="acme/infra",
                 writers=frozenset(r.user for r in reviews) - readers, base_ref="main",
                 mergeable=mergeable, behind=behind)


PROD = Environment("prod", 1, ("alice", "bob", "acme/platform"))
ANYONE = Environment("dev", 1)
SELF = Environment("dev", 1, allow_self_approval=True)
TTL = Environment("prod", 1, approval_ttl=timedelta(hours=2))
DESTROY_COUNT = Environment("prod", 1, ("alice", "bob", "acme/platform"),
                            destroy_requires=DestroyRule(required_approvals=2))
DESTROY_NAMED = Environment("prod", 1, ("alice", "bob", "acme/platform"),
                            destroy_requires=DestroyRule(approvers=("dave", "acme/sre")))
DESTROY_ANYONE = Environment("dev", 1, destroy_requires=DestroyRule(2, ("dave",)))

NOT_APPROVER = "not an approver for prod"
NO_ACCESS = "has no write access to acme/infra"
OLDER = "approved an older commit"
SELF_REASON = "the author cannot approve their own pull request"

# (env, reviews, plans, counted users, not counted (user, reason), rejected_by,
#  required, destroy approvers missing)
APPROVALS = [
    pytest.param(PROD, [rv("alice")], {}, ["alice"], [], [], 1, (), id="approver-on-head"),
    pytest.param(PROD, [rv("carol")], {}, [], [("carol", NOT_APPROVER)], [], 1, (),
                 id="not-an-approver"),
    pytest.param(PROD, [rv("pat")], {}, ["pat"], [], [], 1, (), id="team-member-counts"),
    pytest.param(Environment("prod", 1, ("ACME/Platform",)), [rv("PAT")], {}, ["PAT"], [],
                 [], 1, (), id="team-and-user-any-case"),
    pytest.param(PROD, [rv("olga")], {}, [], [("olga", NOT_APPROVER)], [], 1, (),
                 id="member-of-another-team"),
    pytest.param(PROD, [rv("alice", sha=OLD)], {}, [], [("alice", OLDER)], [], 1, (),
                 id="older-commit"),
    pytest.param(ANYONE, [rv("erin")], {}, [], [("erin", SELF_REASON)], [], 1, (),
                 id="self-approval-refused-by-default"),
    pytest.param(SELF, [rv("erin")], {}, ["erin"], [], [], 1, (), id="self-approval-allowed"),
    pytest.param(Environment("prod", 1, ("alice",), allow_self_approval=True), [rv("erin")],
                 {}, [], [("erin", NOT_APPROVER)], [], 1, (),
                 id="self-approval-allowed-but-author-not-an-approver"),
    pytest.param(SELF, [rv("erin", sha=OLD)], {}, [], [("erin", OLDER)], [], 1, (),
                 id="self-approval-on-older-commit"),
    pytest.param(TTL, [rv("bob", age=timedelta(minutes=119))], {}, ["bob"], [], [], 1, (),
                 id="ttl-fresh"),
    pytest.param(TTL, [rv("bob", age=timedelta(hours=2))], {}, ["bob"], [], [], 1, (),
                 id="ttl-exactly-at-limit-counts"),
    pytest.param(TTL, [rv("bob", age=timedelta(hours=3, minutes=5))], {}, [],
                 [("bob", "expired: given 3h5m ago, approvals count for 2h")], [], 1, (),
                 id="ttl-expired"),
    pytest.param(TTL, [rv("bob", age=None)], {}, [],
                 [("bob", "expired: its time is unknown, so it cannot be checked against 2h")],
                 [], 1, (), id="ttl-unknown-time-fails-closed"),
    pytest.param(TTL, [rv("bob", sha=OLD, age=timedelta(days=1))], {}, [], [("bob", OLDER)],
                 [], 1, (), id="ttl-and-older-commit-names-the-commit"),
    pytest.param(TTL, [rv("bob", age=timedelta(days=1)), rv("bob")], {}, ["bob"], [], [], 1,
                 (), id="ttl-fresh-re-approval-counts"),
    pytest.param(PROD, [rv("carol", R)], {}, [], [], ["carol"], 1, (), id="changes-requested"),
    pytest.param(PROD, [rv("carol", R), rv("carol", C)], {}, [], [], ["carol"], 1, (),
                 id="comment-keeps-rejection"),
    pytest.param(PROD, [rv("bob", R), rv("bob")], {}, ["bob"], [], [], 1, (),
                 id="rejection-then-re-approval-by-same-reviewer"),
    pytest.param(PROD, [rv("bob"), rv("bob", R)], {}, [], [], ["bob"], 1, (),
                 id="approval-then-rejection"),
    pytest.param(PROD, [rv("bob"), rv("bob", D)], {}, [], [], [], 1, (),
                 id="dismissed-approval-removed"),
    pytest.param(PROD, [rv("carol", R), rv("carol", D)], {}, [], [], [], 1, (),
                 id="dismissed-rejection-removed"),
    pytest.param(DESTROY_COUNT, [rv("alice")], DESTROY, ["alice"], [], [], 2, (),
                 id="destroy-bumps-required"),
    pytest.param(DESTROY_COUNT, [rv("alice")], REPLACE, ["alice"], [], [], 2, (),
                 id="replace-bumps-required"),
    pytest.param(DESTROY_COUNT, [rv("alice")], NO_DESTROY, ["alice"], [], [], 1, (),
                 id="no-destroy-no-bump"),
    pytest.param(Environment("prod", 3, destroy_requires=DestroyRule(2)), [], DESTROY, [], [],
                 [], 3, (), id="destroy-count-is-a-total-never-lowers"),
    pytest.param(DESTROY_NAMED, [rv("alice")], DESTROY, ["alice"], [], [], 1,
                 ("dave", "acme/sre"), id="destroy-named-approver-missing"),
    pytest.param(DESTROY_NAMED, [rv("sam")], DESTROY, ["sam"], [], [], 1, (),
                 id="destroy-named-team-member-counts"),
    pytest.param(DESTROY_NAMED, [rv("dave")], DESTROY, ["dave"], [], [], 1, (),
                 id="destroy-named-user-counts-as-approver"),
    pytest.param(DESTROY_NAMED, [rv("dave")], NO_DESTROY, [], [("dave", NOT_APPROVER)], [],
                 1, (), id="destroy-approver-is-no-approver-without-destroy"),
    pytest.param(DESTROY_NAMED, [rv("sam", sha=OLD), rv("pat")], DESTROY, ["pat"],
                 [("sam", OLDER)], [], 1, ("dave", "acme/sre"),
                 id="destroy-named-approval-on-older-commit"),
    pytest.param(DESTROY_ANYONE, [rv("dave"), rv("zoe")], DESTROY, ["dave", "zoe"], [], [], 2,
                 (), id="destroy-on-unrestricted-env"),
    pytest.param(Environment("prod", 2, ("alice",), apply_requirements=("mergeable",)),
                 [rv("carol"), rv("bob", R)], {}, [], [("carol", NOT_APPROVER)], [], 0, (),
                 id="approval-not-required-decides-nothing"),
]


@pytest.mark.parametrize(
    "env, reviews, plans, counted, not_counted, rejected, required, destroy_missing", APPROVALS)
def test_evaluate_approval(env: Environment, reviews: list[Review],
                           plans: Mapping[str, PlanCounts], counted: list[str],
                           not_counted: list[tuple[str, str]], rejected: list[str],
                           required: int, destroy_missing: tuple[str, ...]) -> None:
    decision = evaluate_approval(env, facts(*reviews, plans=plans))
    assert decision.environment == env.name
    assert sorted(u for u, _ in decision.counted) == sorted(counted)
    assert sorted((n.user, n.reason) for n in decision.not_counted) == sorted(not_counted)
    assert list(decision.rejected_by) == rejected
    assert decision.required == required
    assert decision.destroy_approvers_missing == destroy_missing
    assert decision.ok is (len(counted) >= required and not rejected and not destroy_missing)


# (env, reviews, plans, users without write access, counted, not counted (user, reason),
#  destroy approvers missing)
ACCESS = [
    pytest.param(ANYONE, [rv("mallory"), rv("bob")], {}, {"mallory"}, ["bob"],
                 [("mallory", NO_ACCESS)], (), id="read-only-or-outsider-does-not-count"),
    pytest.param(PROD, [rv("Mallory"), rv("alice")], {}, {"mallory"}, ["alice"],
                 [("Mallory", NO_ACCESS)], (), id="any-case"),
    pytest.param(PROD, [rv("bob"), rv("mallory", sha=OLD)], {}, {"mallory"}, ["bob"],
                 [("mallory", NO_ACCESS)], (), id="named-before-other-reasons"),
    pytest.param(PROD, [rv("alice")], {}, {"alice"}, [], [("alice", NO_ACCESS)], (),
                 id="named-approver-needs-it-too"),
    pytest.param(PROD, [rv("pat")], {}, {"pat"}, [], [("pat", NO_ACCESS)], (),
                 id="team-approver-needs-it-too"),
    pytest.param(DESTROY_NAMED, [rv("alice"), rv("sam")], DESTROY, {"sam"}, ["alice"],
                 [("sam", NO_ACCESS)], ("dave", "acme/sre"), id="destroy-approver-needs-it-too"),
    pytest.param(SELF, [rv("erin")], {}, {"erin"}, [], [("erin", NO_ACCESS)], (),
                 id="author-needs-it-too"),
]


@pytest.mark.parametrize(
    "env, reviews, plans, readers, counted, not_counted, destroy_missing", ACCESS)
def test_write_access(env: Environment, reviews: list[Review],
                      plans: Mapping[str, PlanCounts], readers: set[str], counted: list[str],
                      not_counted: list[tuple[str, str]],
                      destroy_missing: tuple[str, ...]) -> None:
    given = Facts(author=AUTHOR, head_sha=HEAD, now=NOW, reviews=tuple(reviews), plans=plans,
                  members=MEMBERS, repo="acme/infra",
                  writers=frozenset(r.user.lower() for r in reviews) - readers)
    decision = evaluate_approval(env, given)
    assert sorted(u for u, _ in decision.counted) == sorted(counted)
    assert sorted((n.user, n.reason) for n in decision.not_counted) == sorted(not_counted)
    assert decision.destroy_approvers_missing == destroy_missing


def test_nobody_has_write_access_unless_looked_up() -> None:
    decision = evaluate_approval(ANYONE, Facts(author=AUTHOR, head_sha=HEAD, now=NOW,
                                               reviews=(rv("bob"),)))
    assert decision.not_counted == (NotCounted("bob", HEAD,
                                               "has no write access to the repository"),)
    assert not decision.ok


def test_resolve_writers_asks_only_about_standing_approvals() -> None:
    asked: list[str] = []

    def has_write_access(user: str) -> bool:
        asked.append(user)
        return user != "mallory"

    reviews = [rv("bob"), rv("carol", R), rv("dan"), rv("dan", D), rv("mallory"), rv("erin", C),
               rv("Bob")]
    assert approving_users(reviews) == ("Bob", "mallory")
    assert resolve_writers(reviews, has_write_access) == frozenset({"Bob"})
    assert asked == ["Bob", "mallory"]


WINDOW = ApplyWindow((0, 1, 2, 3, 4), time(9), time(17), "Europe/Berlin")
SATURDAY = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
OUTSIDE = ("outside the apply window Mon-Fri 09:00-17:00 Europe/Berlin; "
           "next opening Mon 2026-11-23 09:00 CET")
NEED_ONE = "needs 1 more approval from alice, bob or a member of acme/platform"
NEED_ANYONE = "needs 1 more approval from anyone but the author"
ALL_THREE = Environment("prod", 1, apply_requirements=("approved", "mergeable", "undiverged"))
UNMERGEABLE = ("this pull request cannot be merged as it stands (`dirty`), and it must be "
               "mergeable to apply: resolve the conflicts or whatever else blocks the merge")
BEHIND_TWO = ("this branch is 2 commits behind `main` and must contain its head to apply, so "
              "the apply cannot revert what was merged there: merge or rebase `main` into this "
              "branch (the new commit is planned and needs approval again)")
BLOCKED = "changes requested by {0}: apply is blocked until {0} approves or the review is dismissed"
DEFAULT_APPLIERS = "mallory may not apply: allowed are the approvers and the author"
OPS = Environment("prod", 1, ("alice", "bob", "acme/platform"), appliers=("carol", "acme/ops"))
DESTROY_TEXT = ("the plan destroys or replaces resources (network): "
                "needs an approval from dave or a member of acme/sre")

# (env, facts, refusals in order)
VERDICTS = [
    pytest.param(PROD, facts(rv("alice"), requester="erin"), (), id="approved-author-applies"),
    pytest.param(PROD, facts(), (NEED_ONE,), id="no-approval"),
    pytest.param(PROD, facts(rv("carol")), (NEED_ONE,), id="non-approver-does-not-help"),
    pytest.param(Environment("prod", 2, ("alice", "bob", "acme/platform")), facts(rv("alice")),
                 ("needs 1 more approval from bob or a member of acme/platform",),
                 id="counted-approver-left-out-of-the-list"),
    pytest.param(Environment("prod", 3, ("alice", "bob")), facts(),
                 ("needs 3 more approvals from alice or bob",), id="plural"),
    pytest.param(Environment("prod", 2, ("alice", "erin")), facts(rv("alice")),
                 (("needs 1 more approval: every named approver has approved or is the author; "
                   "add approvers or lower required_approvals"),), id="approvers-exhausted"),
    pytest.param(Environment("prod", 2), facts(),
                 ("needs 2 more approvals from anyone but the author",), id="anyone-but-author"),
    pytest.param(SELF, facts(), ("needs 1 more approval from anyone",), id="anyone-incl-author"),
    pytest.param(SELF, facts(rv("erin")), (), id="self-approval-allowed-applies"),
    pytest.param(Environment("prod", 0), facts(), (), id="zero-required"),
    pytest.param(PROD, facts(rv("alice"), rv("carol", R)), (BLOCKED.format("carol"),),
                 id="changes-requested-blocks-despite-approval"),
    pytest.param(PROD, facts(rv("carol", R), rv("dan", R)),
                 (BLOCKED.format("carol"), BLOCKED.format("dan"), NEED_ONE),
                 id="each-rejection-named"),
    pytest.param(PROD, facts(rv("carol", R), rv("carol"), rv("alice")), (),
                 id="rejection-then-re-approval-clears"),
    pytest.param(PROD, facts(rv("carol", R), rv("carol", D), rv("alice")), (),
                 id="dismissed-rejection-clears"),
    pytest.param(TTL, facts(rv("bob", age=timedelta(hours=5))),
                 ("needs 1 more approval from anyone but the author",), id="expired-approval"),
    pytest.param(Environment("prod", 1, apply_window=WINDOW), facts(rv("bob"), now=SATURDAY),
                 (OUTSIDE,), id="outside-window"),
    pytest.param(Environment("prod", 1, apply_window=WINDOW), facts(rv("bob")), (),
                 id="inside-window"),
    pytest.param(DESTROY_COUNT, facts(rv("alice"), plans=DESTROY),
                 (("needs 1 more approval from bob or a member of acme/platform (2 required "
                   "because the plan destroys or replaces resources)"),), id="destroy-needs-more"),
    pytest.param(DESTROY_COUNT, facts(rv("alice"), rv("pat"), plans=REPLACE), (),
                 id="destroy-count-met"),
    pytest.param(DESTROY_NAMED, facts(rv("alice"), plans=DESTROY), (DESTROY_TEXT,),
                 id="destroy-named-missing"),
    pytest.param(DESTROY_NAMED, facts(rv("sam"), plans=DESTROY), (),
                 id="destroy-named-met-by-team"),
    pytest.param(DESTROY_NAMED, facts(rv("alice"), plans=NO_DESTROY), (),
                 id="destroy-rule-idle-without-destroy"),
    pytest.param(PROD, facts(rv("alice"), requester="mallory"), (DEFAULT_APPLIERS,),
                 id="stranger-may-not-apply"),
    pytest.param(PROD, facts(rv("alice"), requester="BOB"), (), id="approver-may-apply"),
    pytest.param(PROD, facts(rv("alice"), requester="pat"), (), id="team-approver-may-apply"),
    pytest.param(DESTROY_NAMED, facts(rv("sam"), requester="dave", plans=DESTROY), (),
                 id="destroy-approver-may-apply-when-destroying"),
    pytest.param(ANYONE, facts(rv("bob"), requester="mallory"), (),
                 id="anyone-may-apply-when-approvers-open"),
    pytest.param(OPS, facts(rv("alice"), requester="olga"), (), id="applier-team-member"),
    pytest.param(OPS, facts(rv("alice"), requester="carol"), (), id="applier-user"),
    pytest.param(OPS, facts(rv("alice"), requester="erin"),
                 ("erin may not apply: allowed are carol and members of acme/ops",),
                 id="appliers-replace-the-author"),
    pytest.param(OPS, facts(rv("alice"), requester="alice"),
                 ("alice may not apply: allowed are carol and members of acme/ops",),
                 id="appliers-replace-the-approvers"),
    pytest.param(Environment("prod", 1, appliers=("acme/ops",)), facts(rv("bob"),
                 requester="pat"), ("pat may not apply: allowed are members of acme/ops",),
                 id="single-team-applier"),
    pytest.param(Environment("prod", 2, ("alice", "bob", "acme/platform"), apply_window=WINDOW,
                             destroy_requires=DestroyRule(3, ("dave", "acme/sre"))),
                 facts(rv("alice"), rv("carol", R), rv("bob", sha=OLD), requester="mallory",
                       plans=DESTROY, now=SATURDAY),
                 (DEFAULT_APPLIERS, BLOCKED.format("carol"),
                  ("needs 2 more approvals from bob, a member of acme/platform, dave or a member "
                   "of acme/sre (3 required because the plan destroys or replaces resources)"),
                  DESTROY_TEXT, OUTSIDE), id="everything-at-once-in-order"),
    pytest.param(ALL_THREE, facts(rv("bob"), mergeable=Mergeability(True, "clean"), behind=0),
                 (), id="every-requirement-met"),
    pytest.param(ALL_THREE, facts(mergeable=Mergeability(False, "dirty"), behind=2),
                 (NEED_ANYONE, UNMERGEABLE, BEHIND_TWO), id="every-requirement-unmet-in-order"),
    pytest.param(ALL_THREE, facts(rv("bob"), mergeable=Mergeability(None, "checking")),
                 (("the forge has not yet worked out whether this pull request can be merged "
                   "(`checking`); it must be mergeable to apply: comment `atlantis apply` again "
                   "in a minute"),), id="mergeability-unknown-refuses"),
    pytest.param(ALL_THREE, facts(rv("bob"), behind=1),
                 ((BEHIND_TWO.replace("2 commits", "1 commit")),), id="one-commit-behind"),
    pytest.param(ALL_THREE, facts(rv("bob")), (), id="requirements-not-looked-up-at-review"),
    pytest.param(ANYONE, facts(rv("bob"), mergeable=Mergeability(False), behind=3), (),
                 id="requirements-only-where-named"),
    pytest.param(Environment("dev", 2, apply_requirements=("undiverged",)),
                 facts(rv("carol", R), behind=0), (), id="approval-not-required"),
    pytest.param(Environment("dev", 2, appliers=("carol",), apply_requirements=()),
                 facts(requester="mallory"),
                 ("mallory may not apply: allowed are carol",),
                 id="appliers-hold-without-approval"),
]


@pytest.mark.parametrize("env, given, refusals", VERDICTS)
def test_check_apply(env: Environment, given: Facts, refusals: tuple[str, ...]) -> None:
    verdict = check_apply(env, given)
    assert verdict.refusals == refusals
    assert verdict.ok is (refusals == ())
    assert verdict.decision == evaluate_approval(env, given)


def at(zone: tzinfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
       ) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


DAILY = tuple(range(7))
NIGHT = ApplyWindow((4,), time(22), time(2), "Europe/Berlin")  # Fri 22:00 → Sat 02:00

# (window, now, expected opening as text, expected opening in UTC)
OPENINGS = [
    pytest.param(WINDOW, at(BERLIN, 2026, 11, 18, 10), "Wed 2026-11-18 10:00 CET",
                 datetime(2026, 11, 18, 9, tzinfo=UTC), id="open-now"),
    pytest.param(WINDOW, at(BERLIN, 2026, 11, 18, 8, 59), "Wed 2026-11-18 09:00 CET",
                 datetime(2026, 11, 18, 8, tzinfo=UTC), id="later-today"),
    pytest.param(WINDOW, at(BERLIN, 2026, 11, 18, 17), "Thu 2026-11-19 09:00 CET",
                 datetime(2026, 11, 19, 8, tzinfo=UTC), id="end-is-exclusive"),
    pytest.param(WINDOW, SATURDAY, "Mon 2026-11-23 09:00 CET",
                 datetime(2026, 11, 23, 8, tzinfo=UTC), id="weekend-to-monday"),
    pytest.param(WINDOW, at(BERLIN, 2026, 11, 16, 8), "Mon 2026-11-16 09:00 CET",
                 datetime(2026, 11, 16, 8, tzinfo=UTC), id="utc-input-zone-irrelevant"),
    pytest.param(ApplyWindow((2,), time(9), time(10), "UTC"), at(UTC, 2026, 11, 18, 10),
                 "Wed 2026-11-25 09:00 UTC", datetime(2026, 11, 25, 9, tzinfo=UTC),
                 id="a-week-ahead"),
    pytest.param(NIGHT, at(BERLIN, 2026, 11, 21, 1, 30), "Sat 2026-11-21 01:30 CET",
                 datetime(2026, 11, 21, 0, 30, tzinfo=UTC), id="midnight-crossing-open"),
    pytest.param(NIGHT, at(BERLIN, 2026, 11, 21, 2), "Fri 2026-11-27 22:00 CET",
                 datetime(2026, 11, 27, 21, tzinfo=UTC), id="midnight-crossing-closed"),
    pytest.param(NIGHT, at(BERLIN, 2026, 11, 19, 23), "Fri 2026-11-20 22:00 CET",
                 datetime(2026, 11, 20, 21, tzinfo=UTC), id="midnight-crossing-day-opens"),
    pytest.param(WINDOW, at(BERLIN, 2026, 3, 27, 18), "Mon 2026-03-30 09:00 CEST",
                 datetime(2026, 3, 30, 7, tzinfo=UTC), id="dst-spring-forward"),
    pytest.param(WINDOW, at(BERLIN, 2026, 10, 23, 18), "Mon 2026-10-26 09:00 CET",
                 datetime(2026, 10, 26, 8, tzinfo=UTC), id="dst-fall-back"),
    pytest.param(ApplyWindow((5,), time(22), time(4), "Europe/Berlin"),
                 at(UTC, 2026, 3, 29, 1, 30), "Sun 2026-03-29 03:30 CEST",
                 datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
                 id="midnight-crossing-over-spring-forward-open"),
    pytest.param(ApplyWindow((5,), time(22), time(4), "Europe/Berlin"),
                 at(UTC, 2026, 3, 29, 2), "Sat 2026-04-04 22:00 CEST",
                 datetime(2026, 4, 4, 20, tzinfo=UTC),
                 id="midnight-crossing-over-spring-forward-closed"),
    pytest.param(ApplyWindow(DAILY, time(2, 30), time(3, 30), "Europe/Berlin"),
                 at(BERLIN, 2026, 3, 29, 0), "Sun 2026-03-29 03:00 CEST",
                 datetime(2026, 3, 29, 1, tzinfo=UTC), id="opening-skipped-by-dst"),
    pytest.param(ApplyWindow(DAILY, time(2, 30), time(5), "Europe/Berlin"),
                 at(BERLIN, 2026, 10, 25, 0), "Sun 2026-10-25 02:30 CEST",
                 datetime(2026, 10, 25, 0, 30, tzinfo=UTC), id="opening-repeated-by-dst"),
    pytest.param(ApplyWindow((0,), time(9), time(17), "America/New_York"),
                 at(UTC, 2026, 3, 7, 12), "Mon 2026-03-09 09:00 EDT",
                 datetime(2026, 3, 9, 13, tzinfo=UTC), id="new-york-dst"),
    pytest.param(ApplyWindow((5, 6)), at(UTC, 2026, 11, 18, 12), "Sat 2026-11-21 00:00 UTC",
                 datetime(2026, 11, 21, tzinfo=UTC), id="whole-days"),
]


@pytest.mark.parametrize("window, now, text, instant", OPENINGS)
def test_next_window_opening(window: ApplyWindow, now: datetime, text: str,
                             instant: datetime) -> None:
    opening = next_window_opening(window, now)
    # astimezone, not ==: PEP 495 makes a repeated local time unequal to any other zone's
    assert opening.astimezone(UTC) == instant
    assert format_opening(opening) == text
    assert window.is_open(opening)
    assert window.is_open(now) is (opening.astimezone(UTC) == now.astimezone(UTC))


@pytest.mark.parametrize("window, text", [
    pytest.param(WINDOW, "Mon-Fri 09:00-17:00 Europe/Berlin", id="weekdays"),
    pytest.param(NIGHT, "Fri 22:00-02:00 Europe/Berlin", id="night"),
    pytest.param(ApplyWindow((0, 2, 5, 6)), "Mon, Wed, Sat, Sun all day UTC", id="scattered"),
    pytest.param(ApplyWindow(DAILY), "Mon-Sun all day UTC", id="always"),
])
def test_window_describe(window: ApplyWindow, text: str) -> None:
    assert window.describe() == text


@pytest.mark.parametrize("days, text", [
    pytest.param((0, 1, 2, 3, 4), "Mon-Fri", id="run"),
    pytest.param((5, 6), "Sat, Sun", id="pair-listed"),
    pytest.param((0, 1, 2, 4, 5, 6), "Mon-Wed, Fri-Sun", id="two-runs"),
    pytest.param((3,), "Thu", id="one"),
])
def test_describe_days(days: tuple[int, ...], text: str) -> None:
    assert describe_days(days) == text


DEADLINE = Environment("prod", review_deadline=timedelta(days=2))


@pytest.mark.parametrize("env, pending_since, now, passed", [
    pytest.param(ANYONE, NOW - timedelta(days=300), NOW, False, id="no-deadline"),
    pytest.param(DEADLINE, NOW - timedelta(days=1), NOW, False, id="within"),
    pytest.param(DEADLINE, NOW - timedelta(days=2), NOW, False, id="exactly-at"),
    pytest.param(DEADLINE, NOW - timedelta(days=2, seconds=1), NOW, True, id="past"),
    pytest.param(DEADLINE, at(BERLIN, 2026, 11, 16, 12), at(UTC, 2026, 11, 18, 11, 1), True,
                 id="zones-mixed"),
])
def test_deadline_passed(env: Environment, pending_since: datetime, now: datetime,
                         passed: bool) -> None:
    assert deadline_passed(env, pending_since, now) is passed


def test_expiry_notice() -> None:
    assert EXPIRED == "expired"
    assert expiry_notice(DEADLINE) == ("No approval arrived within the review deadline of 2d "
                                       'for prod, so this request was rejected with reason '
                                       '"expired".')


@pytest.mark.parametrize("env, destroying, expected", [
    pytest.param(PROD, False, ("alice", "bob", "acme/platform"), id="listed"),
    pytest.param(Environment("prod", 1, ("alice", "Erin")), False, ("alice",),
                 id="author-left-out"),
    pytest.param(Environment("prod", 1, ("alice", "erin"), allow_self_approval=True), False,
                 ("alice", "erin"), id="author-kept-with-self-approval"),
    pytest.param(ANYONE, False, (), id="anyone"),
    pytest.param(DESTROY_NAMED, True, ("alice", "bob", "acme/platform", "dave", "acme/sre"),
                 id="destroy-approvers-added"),
    pytest.param(DESTROY_NAMED, False, ("alice", "bob", "acme/platform"),
                 id="destroy-approvers-idle"),
    pytest.param(DESTROY_ANYONE, True, (), id="destroy-on-open-env-stays-open"),
])
def test_eligible_approvers(env: Environment, destroying: bool,
                            expected: tuple[str, ...]) -> None:
    assert eligible_approvers(env, AUTHOR, destroying=destroying) == expected


FULL = Environment("prod", 1, ("alice",), allow_self_approval=True,
                   approval_ttl=timedelta(days=3), review_deadline=None,
                   destroy_requires=DestroyRule(2, ("acme/sre",)))

# (env, limits, expected env)
BOUNDS = [
    pytest.param(FULL, PolicyLimits(), FULL, id="defaults-bound-nothing"),
    pytest.param(Environment("dev", 0), PolicyLimits(min_approvals=1), Environment("dev", 1),
                 id="floor-raises-zero"),
    pytest.param(Environment("dev", 3), PolicyLimits(min_approvals=1), Environment("dev", 3),
                 id="floor-keeps-stricter"),
    pytest.param(Environment("dev", 30), PolicyLimits(max_approvals=20),
                 Environment("dev", 20), id="ceiling"),
    pytest.param(FULL, PolicyLimits(min_approvals=4),
                 Environment("prod", 4, ("alice",), allow_self_approval=True,
                             approval_ttl=timedelta(days=3),
                             destroy_requires=DestroyRule(4, ("acme/sre",))),
                 id="floor-applies-to-destroy-count"),
    pytest.param(FULL, PolicyLimits(allow_self_approval=False),
                 Environment("prod", 1, ("alice",), approval_ttl=timedelta(days=3),
                             destroy_requires=DestroyRule(2, ("acme/sre",))),
                 id="server-forbids-self-approval"),
    pytest.param(Environment("dev", allow_self_approval=False), PolicyLimits(),
                 Environment("dev", allow_self_approval=False),
                 id="server-allowing-does-not-enable"),
    pytest.param(FULL, PolicyLimits(max_approval_ttl=timedelta(days=1),
                                    max_review_deadline=timedelta(days=14)),
                 Environment("prod", 1, ("alice",), allow_self_approval=True,
                             approval_ttl=timedelta(days=1),
                             review_deadline=timedelta(days=14),
                             destroy_requires=DestroyRule(2, ("acme/sre",))),
                 id="durations-capped-and-filled"),
    pytest.param(Environment("dev", approval_ttl=timedelta(hours=1)),
                 PolicyLimits(max_approval_ttl=timedelta(days=1)),
                 Environment("dev", approval_ttl=timedelta(hours=1)),
                 id="repo-ttl-stricter-kept"),
    pytest.param(Environment("dev", apply_requirements=("undiverged",)),
                 PolicyLimits(min_approvals=1),
                 Environment("dev", apply_requirements=("approved", "undiverged")),
                 id="floor-keeps-approval-required"),
    pytest.param(Environment("dev", 0, apply_requirements=()), PolicyLimits(),
                 Environment("dev", 0, apply_requirements=()),
                 id="no-floor-lets-the-repo-drop-approval"),
]


@pytest.mark.parametrize("env, limits, expected", BOUNDS)
def test_bound(env: Environment, limits: PolicyLimits, expected: Environment) -> None:
    assert bound(env, limits) == expected


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"min_approvals": -1}, "min_approvals must be >= 0", id="negative-floor"),
    pytest.param({"min_approvals": 3, "max_approvals": 2}, "max_approvals must be >= "
                 "min_approvals", id="ceiling-under-floor"),
])
def test_limits_validated(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PolicyLimits(**kwargs)  # type: ignore[arg-type]


def test_facts_need_an_aware_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Facts(author="erin", head_sha=HEAD, now=datetime(2026, 1, 1))


def test_resolve_members_asks_only_about_named_teams() -> None:
    env = Environment("prod", 1, ("alice", "acme/platform"), appliers=("acme/ops",),
                      destroy_requires=DestroyRule(approvers=("acme/sre", "acme/platform")))
    asked: list[tuple[str, str]] = []

    def in_team(team: str, user: str) -> bool:
        asked.append((team, user))
        return (team, user) in {("acme/sre", "dave"), ("acme/ops", "olga")}

    assert policy_teams(env) == ("acme/platform", "acme/sre", "acme/ops")
    members = resolve_members(env, ["dave", "olga", "dave", ""], in_team)
    assert members == {"acme/platform": frozenset(), "acme/sre": frozenset({"dave"}),
                       "acme/ops": frozenset({"olga"})}
    assert len(asked) == 6


@pytest.mark.parametrize("text, value", [
    pytest.param("30m", timedelta(minutes=30), id="minutes"),
    pytest.param("1h30m", timedelta(hours=1, minutes=30), id="mixed"),
    pytest.param("2d", timedelta(days=2), id="days"),
    pytest.param("1d1m", timedelta(days=1, minutes=1), id="days-minutes"),
])
def test_duration_round_trip(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value
    assert format_duration(value) == text
