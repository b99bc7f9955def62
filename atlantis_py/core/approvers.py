"""Who the approval policy names: approvers, destroy approvers and appliers,
users or "org/team" entries, matched ignoring case, with team membership and
write access resolved through the forge's callbacks beforehand."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.domain.projects import Environment


def latest_reviews(reviews: Sequence[Review]) -> dict[str, Review]:
    """Each reviewer's newest review that carries a verdict; comments don't change it.
    A dismissal is a verdict too: it withdraws that reviewer's approval or rejection."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state is ReviewState.COMMENTED:
            continue
        latest[review.user.lower()] = review
    return latest


def eligible_approvers(env: Environment, author: str, *, destroying: bool = False
                       ) -> tuple[str, ...]:
    """Users and teams whose approval would count, for mentions; empty when
    anyone may approve. The author is left out unless self-approval is allowed."""
    return tuple(e for e in approver_entries(env, destroying)
                 if env.allow_self_approval or e.lower() != author.lower())


def approver_entries(env: Environment, destroying: bool) -> tuple[str, ...]:
    """Named destroy approvers count as approvers too, but only narrow a list
    that is already restricted: an empty list means anyone."""
    extra = env.destroy_requires.approvers if destroying and env.destroy_requires else ()
    if not env.approvers:
        return ()
    seen = {e.lower() for e in env.approvers}
    return env.approvers + tuple(e for e in extra if e.lower() not in seen)


def policy_teams(env: Environment) -> tuple[str, ...]:
    """Every "org/team" the policy names, i.e. what resolve_members must look up."""
    extra = env.destroy_requires.approvers if env.destroy_requires else ()
    names = (*env.approvers, *extra, *env.appliers)
    return tuple(dict.fromkeys(n for n in names if "/" in n))


def resolve_members(env: Environment, users: Iterable[str],
                    in_team: Callable[[str, str], bool]) -> dict[str, frozenset[str]]:
    """Facts.members for `users` (reviewers, requester), asking `in_team(team,
    user)` (the forge's) only about the teams this policy names."""
    wanted = tuple(dict.fromkeys(u for u in users if u))
    return {team: frozenset(u for u in wanted if in_team(team, u))
            for team in policy_teams(env)}


def approving_users(reviews: Sequence[Review]) -> tuple[str, ...]:
    """Reviewers whose newest verdict is an approval: the only users whose
    write access a decision needs."""
    return tuple(r.user for r in latest_reviews(reviews).values()
                 if r.state is ReviewState.APPROVED)


def resolve_writers(reviews: Sequence[Review],
                    has_write_access: Callable[[str], bool]) -> frozenset[str]:
    """Facts.writers: the approving reviewers `has_write_access(user)` (the
    forge's, cached by the caller) says yes to."""
    return frozenset(user for user in approving_users(reviews) if has_write_access(user))


def named(user: str, entries: Iterable[str], members: Mapping[str, frozenset[str]]) -> bool:
    """Whether `user` is one of `entries` (users and "org/team"), ignoring case."""
    who = user.lower()
    teams = {team.lower(): {m.lower() for m in people} for team, people in members.items()}
    for entry in entries:
        if "/" in entry:
            if who in teams.get(entry.lower(), set()):
                return True
        elif entry.lower() == who:
            return True
    return False


def people(entries: Sequence[str], conj: str) -> str:
    """['alice', 'bob', 'acme/platform'] → 'alice, bob or a member of acme/platform'."""
    team = "a member of " if conj == "or" else "members of "
    words = [team + e if "/" in e else e for e in entries]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conj} {words[-1]}"
