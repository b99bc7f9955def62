"""Automerge (`automerge: true`, Atlantis's key): once every project of a pull
request is applied successfully, the forge merges it, as of the head that was
applied, and (`delete_source_branch_on_merge`) deletes its branch: the first
applied project's own setting decides when it has one, as in Atlantis, else
the repository's. What
happened is said in the apply comment, never left silent: merged, refused by
the forge (conflict, not mergeable: with what to do), or, when the forge is
down or rate limiting, pending: the job then ends in that TransientError after
its report is sent, and its retry (flows/apply.py: nothing left to apply)
tries the merge again without applying anything."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from atlantis_py.core.config.load import head_config
from atlantis_py.core.selection import project_for
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.projects import RepoConfig, RepoOptions
from atlantis_py.domain.records import PullRecord, RunRecord
from atlantis_py.domain.results import RunStatus
from atlantis_py.errors import ForgeError, RepoConfigError, TransientError
from atlantis_py.flows.services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MergeReport:
    """The apply comment's last paragraph ("" when automerge did not act) and,
    when the forge failed for now, the error the job ends in after its report."""

    text: str = ""
    retry: TransientError | None = None


def every_project_applied(svc: Services, record: PullRecord, head_sha: str) -> bool:
    """Whether every project planned for `head_sha` has its current plan applied
    successfully (Atlantis merges only then)."""
    plans = [r for r in svc.pulls.latest_runs(record.id, "plan").values()
             if r.head_sha == head_sha]
    if not plans or any(r.status is not RunStatus.SUCCESS for r in plans):
        return False
    applied = {r.plan_path for r in svc.pulls.runs(record.id, "apply")
               if r.status is RunStatus.SUCCESS and r.head_sha == head_sha}
    return all(r.plan_path in applied for r in plans)


def project_setting(runs: Sequence[RunRecord], config: RepoConfig) -> bool | None:
    """The first project's own `delete_source_branch_on_merge` (Atlantis reads
    the first project of the apply, its commands being in the file's order),
    None when it sets none. The runs' own order is when their plans finished,
    which parallel planning leaves to chance."""
    if not runs:
        return None
    order = {p.name: i for i, p in enumerate(config.projects)}
    first = min(runs, key=lambda r: (order.get(r.project, len(order)), r.id))
    return project_for(first, config).delete_source_branch_on_merge


def maybe_merge(svc: Services, record: PullRecord, pull: PullRequest, options: RepoOptions,
                actor: str, delete_branch: bool | None = None) -> MergeReport:
    """Merge `pull` when `options` ask for it and every project is applied;
    `delete_branch` (a project's setting) wins over the options' when given."""
    if not options.automerge or not every_project_applied(svc, record, pull.head_sha):
        return MergeReport()
    forge = svc.forges[pull.repo.forge]
    render = svc.renderer.merge
    if delete_branch is None:
        delete_branch = options.delete_source_branch_on_merge
    try:
        merged = forge.merge_pull(pull.repo.full_name, pull.number, pull.head_sha,
                                  delete_branch=delete_branch)
    except TransientError as err:
        log.warning("automerge of %s#%d waits for the forge: %s", pull.repo.full_name,
                    pull.number, err)
        svc.ipr.note(record, actor, "merge:pending", detail=str(err))
        return MergeReport(render(merged=False, base_ref=pull.base_ref, head_ref=pull.head_ref,
                                  error=str(err), retrying=True), err)
    except ForgeError as err:
        log.warning("automerge of %s#%d refused: %s", pull.repo.full_name, pull.number, err)
        svc.ipr.note(record, actor, "merge:failed", detail=str(err))
        return MergeReport(render(merged=False, base_ref=pull.base_ref, head_ref=pull.head_ref,
                                  error=str(err)))
    svc.ipr.note(record, actor, "merge:done",
                 detail=f"merged into {pull.base_ref} at {pull.head_sha[:12]}")
    return MergeReport(render(merged=True, base_ref=pull.base_ref, head_ref=pull.head_ref,
                              branch_deleted=merged.branch_deleted,
                              branch_error=merged.branch_error))


def merge_again(svc: Services, record: PullRecord, pull: PullRequest, actor: str,
                fetch: Callable[[], None]) -> MergeReport:
    """Nothing is left to apply: if automerge is on and every project is
    applied (an earlier merge was refused or waits for the forge), merge now.
    `fetch` brings the mirror up to date, to read the head's config from it."""
    if not record.open or not every_project_applied(svc, record, pull.head_sha):
        return MergeReport()
    fetch()
    try:
        config = head_config(svc.config_text(pull.repo, pull.head_sha),
                             svc.policy_of(pull.repo.forge, pull.repo.full_name))
    except RepoConfigError:
        return MergeReport()  # the apply that ran already said so
    runs = sorted((r for r in svc.pulls.latest_runs(record.id, "plan").values()
                   if r.head_sha == pull.head_sha), key=lambda r: r.id)
    return maybe_merge(svc, record, pull, config.options, actor,
                       project_setting(runs, config))
