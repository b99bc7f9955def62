"""Policy checks around plan and apply (--policies): the verdicts of a plan are
kept, the `atlantis/policy_check` status follows them, an apply is refused while
a failing set is not approved, and `atlantis approve_policies` lets the sets'
owners approve them on the current head commit (each approval audited). This is
Atlantis's `policies_passed` apply requirement, always on while policy sets are
configured, except for a repository repos.yaml gives `policy_check: false`."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence

from atlantis_py.core.policy_gate import (
    approval_refusal,
    blocking,
    failing_sets,
    owner_entries,
    owner_teams,
    who_may,
)
from atlantis_py.core.selection import wanted
from atlantis_py.domain.commands import Command
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.policies import FailingSet, PolicyApproval, PolicySetResult, PolicySets
from atlantis_py.domain.records import PullRecord, RunRecord
from atlantis_py.domain.views import PolicyCheckView
from atlantis_py.errors import ForgeError
from atlantis_py.flows.gate import current_plans
from atlantis_py.flows.services import Services

log = logging.getLogger(__name__)

POLICY_CONTEXT = "atlantis/policy_check"
_DESCRIPTION_LIMIT = 140
UNCHECKED = ("the plan was made before this server checked policies (or its check was "
             "lost); plan again with `atlantis plan`")


def sets_for(svc: Services, forge: str, full_name: str) -> PolicySets | None:
    """The policy sets that check this repository's plans: none without
    --policies, or where repos.yaml says `policy_check: false`."""
    if svc.policy_sets is None:
        return None
    policy = svc.policy_of(forge, full_name)
    return svc.policy_sets if policy is None or policy.policy_check else None


def verdicts(svc: Services, plans: Iterable[RunRecord]) -> dict[str, tuple[PolicySetResult, ...]]:
    """project → its plan's verdicts. A plan with none, while sets are configured,
    gets one failing verdict: an unchecked plan is never applied (fail closed)."""
    if svc.policy_records is None or svc.policy_sets is None:
        return {}
    runs = list(plans)
    found = svc.policy_records.results(r.id for r in runs)
    return {r.project: found.get(r.id) or (PolicySetResult("(unchecked)", False,
                                                           error=UNCHECKED),)
            for r in runs}


def failing(svc: Services, record: PullRecord, plans: Iterable[RunRecord]) -> list[FailingSet]:
    """The failing sets of `plans`, with the approvals given on the head commit
    for those very plans (a new plan of the project needs new approvals)."""
    if svc.policy_records is None:
        return []
    runs = list(plans)
    current = {(r.project, r.id) for r in runs}
    approvals = [a for a in svc.policy_records.approvals(record.id, record.head_sha)
                 if (a.project, a.run_id) in current]
    return failing_sets(verdicts(svc, runs), approvals)


def apply_blocked(svc: Services, record: PullRecord, plans: Sequence[RunRecord]
                  ) -> tuple[list[FailingSet], dict[str, str]]:
    """The failing sets no owner approved among `plans` (the apply's), and for
    each set who may approve it."""
    sets = sets_for(svc, record.forge, record.repo)
    if sets is None:
        return [], {}
    blocked = blocking(failing(svc, record, plans))
    return blocked, owners_of(sets, blocked)


def policy_views(svc: Services, record: PullRecord, plans: Sequence[RunRecord],
                 applied: Collection[str] = ()) -> tuple[tuple[PolicyCheckView, ...], list[str]]:
    """Every set's verdict on each of `plans` as the API and console show it, and
    a sentence per failing set that holds the apply (naming who may approve it).
    A project whose plan was applied (its plan path in `applied`) holds nothing."""
    sets = svc.policy_sets
    if sets is None:
        return (), []
    found = verdicts(svc, plans)
    approved = {(f.project, f.result.name): f.approved_by for f in failing(svc, record, plans)}
    done = {r.project for r in plans if r.plan_path in applied}
    views = tuple(
        PolicyCheckView(project=project, policy_set=r.name, passed=r.passed,
                        denies=r.denies, warnings=r.warnings, error=r.error or "",
                        approved_by=approved.get((project, r.name), ()),
                        owners=owner_entries(sets, r.name),
                        blocking=not r.passed and not approved.get((project, r.name))
                        and project not in done)
        for project in sorted(found) for r in found[project])
    refusals = [f"policy set {v.policy_set} failed on project {v.project} and is not "
                f"approved; {who_may(sets, v.policy_set)} (comment `atlantis "
                f"approve_policies` on the pull request)" for v in views if v.blocking]
    return views, refusals


def owners_of(sets: PolicySets, found: Iterable[FailingSet]) -> dict[str, str]:
    return {f.result.name: who_may(sets, f.result.name) for f in found}


def record_checks(svc: Services, record: PullRecord, actor: str, run_id: int,
                  project: str, results: Sequence[PolicySetResult]) -> None:
    """Keep a plan's verdicts, and put the failing sets in the audit log."""
    if svc.policy_records is None or not results:
        return
    svc.policy_records.record(run_id, results)
    failed = [r.name for r in results if not r.passed]
    svc.ipr.note(record, actor, "policy_check:failure" if failed else "policy_check:success",
                 project=project, detail=", ".join(failed) or f"{len(results)} sets passed")


def report_status(svc: Services, pull: PullRequest) -> None:
    """`atlantis/policy_check` on the head: failure while a failing set of the
    current plans is not approved; nothing when no plan was checked."""
    sets = sets_for(svc, pull.repo.forge, pull.repo.full_name)
    if sets is None:
        return
    record = svc.pulls.upsert(pull)
    plans = current_plans(svc, record)
    if not plans:
        return
    found = failing(svc, record, plans)
    blocked = blocking(found)
    if blocked:
        names = ", ".join(dict.fromkeys(f.result.name for f in blocked))
        state, text = StatusState.FAILURE, f"failing, needs approval: {names}"
    elif found:
        state, text = StatusState.SUCCESS, "failing policy sets approved by their owners"
    else:
        state, text = StatusState.SUCCESS, f"{len(sets.sets)} policy sets passed"
    if len(text) > _DESCRIPTION_LIMIT:
        text = text[:_DESCRIPTION_LIMIT - 1] + "…"
    try:
        svc.forges[pull.repo.forge].set_status(pull.repo.full_name, pull.head_sha,
                                               POLICY_CONTEXT, state, text)
    except ForgeError as err:
        log.warning("the policy status was not set: %s", err)


class PolicyApprovals:
    """`atlantis approve_policies [-p NAME | -d DIR [-w WORKSPACE]]`."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def approve(self, pull: PullRequest, actor: str, command: Command) -> None:
        svc = self.svc
        record = svc.pulls.upsert(pull)
        say = svc.renderer.policy_approval
        sets = sets_for(svc, pull.repo.forge, pull.repo.full_name)
        if sets is None or svc.policy_records is None:
            self._say(pull, say(actor=actor, head_sha=pull.head_sha, configured=False,
                                skipped=svc.policy_sets is not None))
            return
        plans = [r for r in current_plans(svc, record) if wanted(r, command)]
        found = failing(svc, record, plans)
        pending = blocking(found)
        run_of = {r.project: r.id for r in plans}
        if not pending:
            self._say(pull, say(actor=actor, head_sha=pull.head_sha, configured=True,
                                already=[f for f in found if f.approved]))
            return
        members = self._memberships(pull, sets, actor, {f.result.name for f in pending})
        approved: list[FailingSet] = []
        refused: list[str] = []
        for f in pending:
            why = approval_refusal(sets, f.result.name, actor, pull.author, members)
            if why is not None:
                refused.append(why)
                svc.ipr.note(record, actor, "policy:refused", project=f.project,
                             detail=f"{f.result.name}: {why}")
                continue
            svc.policy_records.approve(record.id, PolicyApproval(
                project=f.project, policy_set=f.result.name, user=actor,
                head_sha=pull.head_sha, run_id=run_of[f.project]))
            svc.ipr.note(record, actor, "policy:approved", project=f.project,
                         detail=f"policy set {f.result.name} approved")
            approved.append(f)
        remaining = blocking(failing(svc, record, current_plans(svc, record)))
        self._say(pull, say(actor=actor, head_sha=pull.head_sha, configured=True,
                            approved=approved, refused=list(dict.fromkeys(refused)),
                            remaining=remaining, owners=owners_of(sets, remaining)))
        report_status(svc, pull)

    def _memberships(self, pull: PullRequest, sets: PolicySets, actor: str,
                     names: Iterable[str]) -> Mapping[str, frozenset[str]]:
        """Owner team (as written) → {actor} when the forge says the actor is in
        it. On GitHub a team written without its org is the repository owner's."""
        forge = self.svc.forges[pull.repo.forge]
        owner = pull.repo.full_name.split("/", 1)[0]
        out: dict[str, frozenset[str]] = {}
        for team in owner_teams(sets, names):
            asked = team if "/" in team or pull.repo.forge == "gitlab" else f"{owner}/{team}"
            out[team] = frozenset({actor}) if forge.in_team(asked, actor) else frozenset()
        return out

    def _say(self, pull: PullRequest, body: str) -> None:
        self.svc.say(pull.repo.forge, pull.repo.full_name, pull.number, body)
