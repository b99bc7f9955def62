"""Autoplan: a pull request opened, reopened or pushed to (or opened through
the API) gets its IPR moved to PENDING where needed, then a plan."""

from __future__ import annotations

import logging

from atlantis_py.core.ipr import Transition
from atlantis_py.domain.events import PullAction, PullRequest, PullRequestEvent
from atlantis_py.domain.records import IPRState
from atlantis_py.domain.results import RunStatus
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.plan import Planner
from atlantis_py.flows.services import Services
from atlantis_py.queue.payloads import PlanJob

log = logging.getLogger(__name__)

FINISHED = frozenset({RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.ERROR})


class Autoplan:
    def __init__(self, svc: Services, lifecycle: Lifecycle, planner: Planner) -> None:
        self.svc = svc
        self.lifecycle = lifecycle
        self.planner = planner

    def on_event(self, event: PullRequestEvent, *, again: bool = False) -> None:
        """`again`: a retry, whose earlier attempt may have planned and reported
        (its report is sent before this runs) but not finished after_plan."""
        svc = self.svc
        pull = event.pull
        before = svc.pulls.get(pull.repo.forge, pull.repo.full_name, pull.number)
        record = svc.pulls.upsert(pull)
        if before is not None and before.state is not IPRState.PENDING:
            if before.head_sha != pull.head_sha:
                svc.ipr.move(Transition(record, IPRState.PENDING, event.sender,
                                        "new commits pushed: approvals no longer count"),
                             open=True)
            elif event.action is PullAction.OPENED and not before.open:
                svc.ipr.move(Transition(record, IPRState.PENDING, event.sender, "reopened"),
                             open=True)
        elif before is None:
            svc.ipr.note(record, event.sender, "opened", detail=pull.title)
        elif event.action is PullAction.OPENED and self.planned(pull):
            if again:
                self.lifecycle.after_plan(pull, event.sender)
            return
        self.plan(pull, event.sender)

    def on_request(self, job: PlanJob, *, again: bool = False) -> None:
        """An IPR created through the API: plan it unless the forge's own
        "opened" webhook got there first."""
        pull = self.svc.forges[job.forge].pull_request(job.repo, job.number)
        if not self.planned(pull):
            self.plan(pull, job.actor)
        elif again:
            self.lifecycle.after_plan(pull, job.actor)

    def plan(self, pull: PullRequest, actor: str) -> None:
        """Unless the server turned autoplan off (--disable-autoplan), or off for
        pull requests with a label (--disable-autoplan-label): then the pull
        request is planned only when someone comments `atlantis plan`."""
        if not self.svc.commands.autoplan:
            log.info("%s#%d: not planned: autoplan is disabled on this server",
                     pull.repo.full_name, pull.number)
            return
        label = self.svc.commands.skip_label
        if label and label in pull.labels:
            log.info("%s#%d: not planned: it has the label %s (--disable-autoplan-label)",
                     pull.repo.full_name, pull.number, label)
            return
        self.planner.plan(pull, actor, None)
        self.lifecycle.after_plan(pull, actor)

    def planned(self, pull: PullRequest) -> bool:
        """Whether this head was already planned while open (the API's create and
        the forge's own "opened" webhook both ask for the first plan). Only a plan
        that finished counts: one cut short by a crash is planned again."""
        record = self.svc.pulls.get(pull.repo.forge, pull.repo.full_name, pull.number)
        if record is None or not record.open:
            return False
        return any(r.head_sha == pull.head_sha and r.status in FINISHED
                   for r in self.svc.pulls.latest_runs(record.id, "plan").values())
