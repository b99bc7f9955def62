"""The order an apply runs its plans in, and the ones it refuses: Atlantis's
`execution_order_group`, `depends_on`, `parallel_apply` and
`abort_on_execution_order_fail` (core/ordering.py decides, flows/ordered.py
runs), read from the pull request's own config like its workflows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from atlantis_py.core.ordering import Dependencies, dependency_refusal, sequential_order
from atlantis_py.core.selection import project_for
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import PullRecord, RunRecord
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.flows.ordered import Order, run_ordered
from atlantis_py.flows.services import Services


class ApplyOrder:
    def __init__(self, svc: Services, record: PullRecord, head_sha: str,
                 plans: Sequence[RunRecord], head_cfg: RepoConfig) -> None:
        self.svc = svc
        self.record = record
        self.options = head_cfg.options
        self.head_sha = head_sha
        self.projects: dict[str, Project] = {r.project: project_for(r, head_cfg) for r in plans}
        listed = {p.name: i for i, p in enumerate(head_cfg.projects)}
        # the config's order, as the plan comment lists them (discovered: as stored)
        in_file = sorted(plans, key=lambda r: listed.get(r.project, len(listed)))
        self.plans = sequential_order(in_file, self._group)
        current = [r for r in svc.pulls.latest_runs(record.id, "plan").values()
                   if r.head_sha == head_sha]
        paths = {r.plan_path for r in current}
        applied = {r.project for r in svc.pulls.runs(record.id, "apply")
                   if r.status is RunStatus.SUCCESS and r.plan_path in paths}
        unchanged = {r.project for r in current if r.status is RunStatus.SUCCESS
                     and r.counts is not None and not r.counts.has_changes}
        self.deps = Dependencies(touched={r.project for r in current},
                                 settled=applied | unchanged,
                                 groups={r.project: self._group(r) for r in plans})

    def _group(self, run: RunRecord) -> int:
        return self.projects[run.project].execution_order_group

    def refusals(self) -> dict[str, str]:
        """Plans refused before anything runs: a dependency neither applied
        before nor applied by this apply first."""
        out = {}
        for run in self.plans:
            unmet = self.deps.unmet(run.project, self.projects[run.project].depends_on)
            if unmet:
                out[run.project] = dependency_refusal(run.project, unmet)
        return out

    def skipped(self, run: RunRecord, reason: str) -> ProjectResult:
        return ProjectResult(project=run.project, dir=run.dir, workspace=run.workspace,
                             command="apply", status=RunStatus.ERROR, head_sha=self.head_sha,
                             error=reason, skipped=reason, deleted=run.deleted)

    def run(self, apply_one: Callable[[RunRecord], ProjectResult], actor: str
            ) -> list[ProjectResult]:
        """Every plan applied or, with the reason, not: each written to the audit trail."""
        refused = self.refusals()

        def check(run: RunRecord, succeeded: set[str]) -> str | None:
            if run.project in refused:
                return refused[run.project]
            failed = self.deps.failed(self.projects[run.project].depends_on, succeeded)
            return dependency_refusal(run.project, failed, ran=True) if failed else None

        order = Order(name=lambda r: r.project, group=self._group,
                      serial=lambda r: (r.source_sha or "", r.dir), skipped=self.skipped)
        results = run_ordered(self.plans, order, apply_one,
                              parallel=self.options.parallel_apply, pool=self.svc.pool,
                              abort=self.options.abort_on_execution_order_fail,
                              command="apply", check=check)
        for result in results:
            if result.skipped is not None:
                self.svc.ipr.note(self.record, actor, "apply:not_run", project=result.project,
                                  detail=result.skipped)
        return results
