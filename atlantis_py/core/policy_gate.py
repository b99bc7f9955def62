"""What failing policy sets block, and who may lift the block. Pure: the
verdicts, the approvals given on the head commit and team memberships in,
decisions out, each refusal a sentence naming the sets and their owners.

A failing set (a `deny`, or a policy error) blocks the apply of its project
until one of its owners (the set's, or the top-level `owners`) comments
`atlantis approve_policies` on that head commit, or a new plan passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from atlantis_py.domain.policies import (
    FailingSet,
    PolicyApproval,
    PolicyOwners,
    PolicySet,
    PolicySetResult,
    PolicySets,
)


def failing_sets(results: Mapping[str, Sequence[PolicySetResult]],
                 approvals: Sequence[PolicyApproval]) -> list[FailingSet]:
    """Every failing set of every project (project → its plan's verdicts), with
    the approvals (of the current head) that lift it."""
    out = []
    for project in sorted(results):
        for result in results[project]:
            if result.passed:
                continue
            users = tuple(dict.fromkeys(a.user for a in approvals
                                        if a.project == project and a.policy_set == result.name))
            out.append(FailingSet(project, result, users))
    return out


def blocking(failing: Sequence[FailingSet]) -> list[FailingSet]:
    return [f for f in failing if not f.approved]


def owner_entries(sets: PolicySets, name: str) -> tuple[str, ...]:
    """Users and teams that may approve the set `name` (the top-level owners
    too), teams as written in the file."""
    own = sets.named(name)
    return tuple(dict.fromkeys(_entries(sets.owners) + (_entries(own.owners) if own else ())))


def owner_teams(sets: PolicySets, names: Iterable[str]) -> tuple[str, ...]:
    """The teams whose membership decides who may approve the sets `names`."""
    teams: list[str] = list(sets.owners.teams)
    for name in names:
        own = sets.named(name)
        if own is not None:
            teams.extend(own.owners.teams)
    return tuple(dict.fromkeys(teams))


def approval_refusal(sets: PolicySets, name: str, user: str, author: str,
                     members: Mapping[str, frozenset[str]]) -> str | None:
    """Why `user` may not approve the failing set `name`, or None. `members`
    maps each owner team to whichever of its members the caller looked up."""
    own = sets.named(name)
    if own is not None and own.prevent_self_approve and user.lower() == author.lower():
        return (f"policy set `{name}` has prevent_self_approve: the pull request's author "
                f"cannot approve it; {who_may(sets, name)}")
    if _is_owner(user, sets.owners, members) or (
            own is not None and _is_owner(user, own.owners, members)):
        return None
    return f"{user} is not an owner of policy set `{name}`; {who_may(sets, name)}"


def who_may(sets: PolicySets, name: str) -> str:
    """'it may be approved by alice or a member of acme/security'."""
    entries = owner_entries(sets, name)
    own = sets.named(name)
    if not entries:
        return ("nobody may approve it: the policies file names no owners for it, so the "
                "plan must change until the set passes")
    teams = _teams(sets, own)
    words = [f"a member of {e}" if e in teams else e for e in entries]
    text = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    self_note = " (not the pull request's author)" if own and own.prevent_self_approve else ""
    return f"it may be approved by {text}{self_note}"


def _teams(sets: PolicySets, own: PolicySet | None) -> set[str]:
    return set(sets.owners.teams) | (set(own.owners.teams) if own else set())


def _entries(owners: PolicyOwners) -> tuple[str, ...]:
    return (*owners.users, *owners.teams)


def _is_owner(user: str, owners: PolicyOwners, members: Mapping[str, frozenset[str]]) -> bool:
    who = user.lower()
    if any(u.lower() == who for u in owners.users):
        return True
    found = {team.lower(): {m.lower() for m in people} for team, people in members.items()}
    return any(who in found.get(team.lower(), set()) for team in owners.teams)
