"""The IPR lifecycle as operations: what the REST API, the CLI and comment
handlers share. Every state change still goes through core.ipr."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from atlantis_py.core.approvals import EXPIRED, deadline_passed, expiry_notice
from atlantis_py.core.config.load import rules_config
from atlantis_py.core.ipr import IllegalTransition, Transition
from atlantis_py.core.outcomes import review_state
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import Review, ReviewState
from atlantis_py.domain.records import AuditEvent, DeployRequest, IPRState, PullRecord
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.domain.results import RunStatus
from atlantis_py.domain.views import ApprovalView, IPRView, ProjectView
from atlantis_py.errors import Conflict, Forbidden, Invalid, NotFound, RepoConfigError
from atlantis_py.flows.access import as_one_job
from atlantis_py.flows.gate import (
    EnvVerdict,
    all_reviews,
    base_refusal,
    current_plans,
    environment,
    verdicts,
)
from atlantis_py.flows.heads import BranchHeads, moved_on
from atlantis_py.flows.notices import queue_notice
from atlantis_py.flows.policy import policy_views
from atlantis_py.flows.services import Services
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import ApplyJob, PlanJob, pull_key

log = logging.getLogger(__name__)

CLOSED_STATES = frozenset({IPRState.DEPLOYED, IPRState.CANCELLED})
APPLYING = frozenset({IPRState.APPLYING})


def applying(ipr_id: int, what: str) -> Conflict:
    """Refusal while terraform applies: the outcome is recorded first, whatever else."""
    return Conflict(f"IPR {ipr_id} is APPLYING: it cannot be {what} while terraform applies "
                    f"its plans; try again once it is DEPLOYED or FAILED")
MAX_ID = 2**63 - 1  # what a database integer column holds
MAX_PAGE = 1_000_000


def serial_key(record: PullRecord) -> str:
    return pull_key(record.forge, record.repo, record.number)


class Lifecycle:
    """`heads`: the branch-head check of forges that keep repositories on disk."""

    def __init__(self, svc: Services, queue: JobQueue, heads: BranchHeads | None = None) -> None:
        self.svc = svc
        self.queue = queue
        self.heads = heads

    # --- reading ------------------------------------------------------------------------

    def record(self, ipr_id: int) -> PullRecord:
        record = self.svc.pulls.by_id(ipr_id) if 0 < ipr_id <= MAX_ID else None
        if record is None:
            raise NotFound(f"no IPR with id {ipr_id}")
        return record

    def search(self, *, state: str | None, repo: str | None, page: int,
               per_page: int) -> tuple[list[PullRecord], int]:
        try:
            wanted = IPRState(state.upper()) if state is not None else None
        except ValueError:
            allowed = ", ".join(s.value for s in IPRState)
            raise Invalid(f"state must be one of {allowed}") from None
        if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= 200:
            raise Invalid(f"page must be between 1 and {MAX_PAGE} and per_page between 1 "
                          "and 200")
        if repo is not None and (problem := repo_name_problem(repo)) is not None:
            raise Invalid(f"repo: {problem}")
        return self.svc.pulls.search(state=wanted, repo=repo, offset=(page - 1) * per_page,
                                     limit=per_page)

    def moved(self, record: PullRecord) -> str | None:
        """The branch's new head when a push went unreported (re-plan queued)."""
        return self.heads.moved(record) if self.heads is not None else None

    @as_one_job
    def view(self, ipr_id: int) -> IPRView:
        record = self.record(ipr_id)
        head = self.moved(record)
        reviews = all_reviews(self.svc, record)
        view = self._view(record, reviews, self._verdicts(record, reviews))
        if head is not None:
            news = f"branch {record.head_ref} moved to {head[:7]}: planning it again"
            view = replace(view, blocking=(news, *view.blocking))
        return view

    def events(self, ipr_id: int) -> list[AuditEvent]:
        return self.svc.audit.events(self.record(ipr_id).id)

    # --- changing -----------------------------------------------------------------------

    def create(self, *, forge: str, repo: str, head: str, base: str, title: str,
               description: str, actor: str) -> IPRView:
        if forge not in self.svc.forges:
            raise Invalid(f"forge {forge!r} is not configured on this server")
        if (problem := repo_name_problem(repo, forge)) is not None:
            raise Invalid(f"repo: {problem}")
        if not self.svc.repo_allowed(repo):
            raise Forbidden(f"{repo} is not in this server's --repo-allowlist")
        for name, value in (("repo", repo), ("head", head), ("base", base), ("title", title)):
            if not value.strip():
                raise Invalid(f"{name} is required")
        pull = self.svc.forges[forge].create_pull(repo, head, base, title, description,
                                                    opened_by=actor)
        record = self.svc.pulls.upsert(pull)
        self.svc.pulls.set_details(record.id, description=description, opened_by=actor)
        record = replace(record, description=description, opened_by=actor)
        self.svc.ipr.note(record, actor, "created", detail=f"via API: {title}")
        self.queue.enqueue(PlanJob(record.forge, record.repo, record.number, actor),
                           serial_key(record))
        return self.view(record.id)

    @as_one_job
    def review(self, ipr_id: int, actor: str, *, approve: bool, comment: str) -> IPRView:
        record = self.record(ipr_id)
        if record.state is IPRState.APPLYING:
            raise applying(ipr_id, "reviewed")
        if not record.open or record.state in CLOSED_STATES:
            raise Conflict(f"IPR {ipr_id} is {record.state.value}: it can no longer be reviewed")
        if (head := self.moved(record)) is not None:
            raise moved_on(ipr_id, record, head, "reviewed")
        if approve and record.authored_by(actor):
            found = self._verdicts(record, all_reviews(self.svc, record))
            # no plans yet means no environment to allow it: the default forbids it
            if not found or not all(v.environment.allow_self_approval for v in found):
                raise Forbidden(f"{actor} opened this IPR and cannot approve it: "
                                "self-approval is not allowed")
        state = ReviewState.APPROVED if approve else ReviewState.CHANGES_REQUESTED
        if self.svc.reviews.add(record.id, actor, state, record.head_sha, comment,
                                unless=APPLYING) is not None:
            raise applying(ipr_id, "reviewed")
        verb = "approved" if approve else "rejected"
        self.svc.ipr.note(record, actor, f"review:{state.value}", detail=comment)
        self._notice(record, self.svc.renderer.review_recorded(
            actor=actor, approved=approve, head_sha=record.head_sha, comment=comment))
        self.refresh(record.id, actor, f"review {verb} by {actor}")
        return self.view(record.id)

    @as_one_job
    def deploy(self, ipr_id: int, actor: str) -> int:
        """The id of the job that deploys the IPR. Asked again while that job is
        queued or applying, it answers with the same job and stores nothing."""
        record = self.record(ipr_id)
        wrong_base = base_refusal(self.svc, record.base_ref)
        if wrong_base is not None:
            raise Conflict(f"IPR {ipr_id} cannot be deployed: {wrong_base}")
        job = ApplyJob(record.forge, record.repo, record.number, actor)

        def request(deployable: frozenset[IPRState]) -> DeployRequest:
            return self.svc.pulls.request_deploy(
                record.id, actor=actor, kind=job.KIND, serial_key=serial_key(record),
                payload=job.encode(), deployable=deployable)

        found = request(frozenset())
        if found.job_id is not None:
            return found.job_id
        if (head := self.moved(record)) is not None:
            raise moved_on(ipr_id, record, head, "deployed")
        if found.state is not IPRState.APPROVED:
            blocking = self.view(ipr_id).blocking
            why = "; ".join(blocking) if blocking else "it is not approved"
            raise Conflict(f"IPR {ipr_id} is {found.state.value}, not APPROVED: {why}")
        refusals = [reason for v in self._verdicts(record, all_reviews(self.svc, record), actor)
                    for reason in v.verdict.refusals]
        applied = {r.plan_path for r in self.svc.pulls.runs(record.id, "apply")}
        refusals += policy_views(self.svc, record, current_plans(self.svc, record), applied)[1]
        if refusals:
            raise Conflict(f"IPR {ipr_id} cannot be deployed now: " + "; ".join(refusals))
        made = request(frozenset({IPRState.APPROVED}))
        if made.job_id is None:
            raise Conflict(f"IPR {ipr_id} is {made.state.value}, not APPROVED")
        if made.created:
            self.queue.announce()
        return made.job_id

    @as_one_job
    def cancel(self, ipr_id: int, actor: str, reason: str = "") -> IPRView:
        record = self.record(ipr_id)
        if record.state is IPRState.APPLYING:
            raise applying(ipr_id, "cancelled")
        if record.state in CLOSED_STATES:
            raise Conflict(f"IPR {ipr_id} is already {record.state.value}")
        try:
            self.svc.ipr.move(Transition(record, IPRState.CANCELLED, actor,
                                         reason or "cancelled through the API"))
        except IllegalTransition:
            if self.record(ipr_id).state is IPRState.APPLYING:
                raise applying(ipr_id, "cancelled") from None
            raise
        released = self.svc.locks.release_all(record.id)
        self._notice(record, self.svc.renderer.cancelled(actor=actor, released=released,
                                                         reason=reason))
        return self.view(record.id)

    @as_one_job
    def refresh(self, pull_id: int, actor: str, reason: str) -> PullRecord:
        """Recompute PENDING / APPROVED / REJECTED from the reviews and the rules."""
        record = self.svc.pulls.by_id(pull_id)
        if record is None or not record.open or record.state not in (
                IPRState.PENDING, IPRState.APPROVED, IPRState.REJECTED):
            return record if record is not None else self.record(pull_id)
        target = review_state([v.verdict.decision for v in
                               self._verdicts(record, all_reviews(self.svc, record))])
        if target is not None and target is not record.state:
            self.svc.ipr.try_move(Transition(record, target, actor, reason))
        return self.svc.pulls.by_id(pull_id) or record

    def expire_overdue(self, now: datetime | None = None) -> list[int]:
        """Reject IPRs left PENDING past their environment's review deadline, with
        reason "expired", and tell the author. Returns the ids it expired."""
        now = now or self.svc.clock()
        expired: list[int] = []
        naive_now = now.astimezone(UTC).replace(tzinfo=None)
        for record in self.svc.pulls.pending_since_before(naive_now):
            if record.pending_since is None:
                continue
            since = record.pending_since.replace(tzinfo=UTC)
            try:
                rules = rules_config(record.base_config,
                                     policy=self.svc.policy_of(record.forge, record.repo))
            except RepoConfigError:
                continue
            envs = [environment(self.svc, rules, name)
                    for name in sorted({r.environment for r in current_plans(self.svc, record)})]
            overdue = [env for env in envs if deadline_passed(env, since, now)]
            if not overdue:
                continue
            if self.svc.ipr.try_move(Transition(record, IPRState.REJECTED, "atlantis",
                                                f"{EXPIRED}: no approval within the review "
                                                f"deadline of {overdue[0].name}")):
                expired.append(record.id)
                self._notice(record, self.svc.renderer.review_expired(
                    author=record.author, notice=expiry_notice(overdue[0])))
        return expired

    # --- helpers ------------------------------------------------------------------------

    def _notice(self, record: PullRecord, body: str) -> None:
        """Said on the pull request by a queued job, so an outage delays it only."""
        queue_notice(self.svc, self.queue, record.forge, record.repo, record.number, body)

    def _verdicts(self, record: PullRecord, reviews: Sequence[Review],
                  requester: str | None = None) -> list[EnvVerdict]:
        try:
            rules = rules_config(record.base_config,  # the rules branch's, as planned
                                 policy=self.svc.policy_of(record.forge, record.repo))
        except RepoConfigError:
            return []
        return verdicts(self.svc, record, rules, current_plans(self.svc, record), reviews,
                        requester=requester)

    def _view(self, record: PullRecord, reviews: Sequence[Review],
              found_verdicts: Sequence[EnvVerdict]) -> IPRView:
        applied = {r.plan_path for r in self.svc.pulls.runs(record.id, "apply")
                   if r.status is RunStatus.SUCCESS}
        projects = tuple(
            ProjectView(project=r.project, dir=r.dir, workspace=r.workspace,
                        environment=r.environment, plan_status=r.status.value,
                        summary=r.counts.summary() if r.counts else (r.error or ""),
                        head_sha=r.head_sha, add=r.counts.add if r.counts else None,
                        change=r.counts.change if r.counts else None,
                        destroy=r.counts.destroy if r.counts else None,
                        applied=r.plan_path in applied)
            for r in self.svc.pulls.latest_runs(record.id, "plan").values())
        found = [v.verdict.decision for v in found_verdicts]
        counted = {u.lower() for d in found for u, _ in d.counted}
        reasons = {n.user.lower(): n.reason for d in found for n in d.not_counted}
        latest: dict[str, Review] = {}
        for r in reviews:
            if r.state is not ReviewState.COMMENTED:
                latest[r.user.lower()] = r
        approvals = tuple(
            ApprovalView(user=r.user, state=r.state.value, commit_sha=r.commit_sha,
                         counted=key in counted, reason=reasons.get(key, ""))
            for key, r in latest.items())
        blocking = [f"{v.environment.name}: {reason}" if len(found_verdicts) > 1 else reason
                    for v in found_verdicts for reason in v.verdict.refusals]
        policies, policy_refusals = policy_views(self.svc, record,
                                                 current_plans(self.svc, record), applied)
        blocking += policy_refusals
        if not projects:
            blocking.append("no plans yet")
        wrong_base = base_refusal(self.svc, record.base_ref)
        if wrong_base is not None:
            blocking.insert(0, wrong_base)
        return IPRView(id=record.id, forge=record.forge, repo=record.repo,
                       pull_number=record.number, title=record.title,
                       description=record.description, author=record.author,
                       state=record.state, open=record.open, head_sha=record.head_sha,
                       head_ref=record.head_ref, base_ref=record.base_ref, projects=projects,
                       approvals=approvals, blocking=tuple(blocking),
                       created_at=record.created_at, updated_at=record.updated_at,
                       policies=policies)

    def after_plan(self, pull: PullRequest, actor: str) -> None:
        """After a plan: recompute the state, and ask for review if this head
        has a successful plan and still needs one."""
        record = self.svc.pulls.get(pull.repo.forge, pull.repo.full_name, pull.number)
        if record is None:
            return
        record = self.refresh(record.id, actor, "planned")
        if self.svc.announcer is not None and any(
                r.head_sha == record.head_sha and r.status is RunStatus.SUCCESS
                for r in self.svc.pulls.latest_runs(record.id, "plan").values()):
            self.svc.announcer.review_requested(record, actor, f"planned {record.head_sha[:7]}")
