"""Apply: exactly the reviewed plan, for the current head, once, with approval."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from atlantis_py.core.config.load import config_in
from atlantis_py.core.ipr import IllegalTransition, Transition
from atlantis_py.core.outcomes import after_apply, apply_status, unsilenced
from atlantis_py.core.selection import for_base_branch, project_for, wanted
from atlantis_py.domain.commands import Command
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import StatusState
from atlantis_py.domain.projects import RepoConfig
from atlantis_py.domain.records import IPRState, PullRecord, RunRecord
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.errors import RepoConfigError
from atlantis_py.flows.apply_order import ApplyOrder
from atlantis_py.flows.automerge import maybe_merge, merge_again, project_setting
from atlantis_py.flows.drift import verify_applies
from atlantis_py.flows.gate import EnvVerdict, all_reviews, base_refusal, verdicts
from atlantis_py.flows.policy import apply_blocked
from atlantis_py.flows.server_policy import refuse_branch, run_workflow_hooks
from atlantis_py.flows.services import CredentialsUnavailable, Services
from atlantis_py.runner.plans import PlanUnavailable
from atlantis_py.runner.versions import VersionUnavailable
from atlantis_py.runner.workflow import run_apply

log = logging.getLogger(__name__)

APPLY_CONTEXT = "atlantis/apply"


class Applier:
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def apply(self, pull: PullRequest, actor: str, command: Command) -> None:
        svc = self.svc
        forge = svc.forges[pull.repo.forge]
        repo, number = pull.repo.full_name, pull.number
        record = svc.pulls.upsert(pull)
        policy = svc.policy_of(pull.repo.forge, repo)
        if refuse_branch(svc, pull, record, policy, actor, command, "applied"):
            return
        wrong_base = base_refusal(svc, pull.base_ref)
        if wrong_base is not None:
            svc.ipr.note(record, actor, "apply:refused", detail=wrong_base)
            svc.say(pull.repo.forge, repo, number, svc.renderer.apply_refused(
                environment=None, head_sha=pull.head_sha, refusals=[wrong_base]))
            return
        plans = [r for r in svc.pulls.latest_runs(record.id, "plan").values()
                 if wanted(r, command)]
        if not plans:
            svc.say(pull.repo.forge, repo, number, svc.renderer.no_plans())
            return
        outdated = [r for r in plans if r.head_sha != pull.head_sha]
        if outdated:
            svc.ipr.note(record, actor, "apply:refused", detail="plan is for an older commit")
            svc.say(pull.repo.forge, repo, number,
                    svc.renderer.plan_outdated(outdated[0].head_sha, pull.head_sha))
            return
        failed = [r for r in plans if r.status is not RunStatus.SUCCESS]
        if failed:
            svc.say(pull.repo.forge, repo, number,
                    svc.renderer.apply_without_plan([r.project for r in failed]))
            return
        used = {r.plan_path for r in svc.pulls.runs(record.id, "apply")}
        plans = [r for r in plans if r.plan_path not in used]
        env = forge.clone_env
        refs = [pull.base_ref, pull.head_ref, pull.head_sha]
        if not plans:
            merge = merge_again(svc, record, pull, actor,
                                lambda: svc.workspaces.fetch(pull.repo, refs, env))
            svc.say(pull.repo.forge, repo, number,
                    merge.text or svc.renderer.nothing_to_apply())
            if merge.retry is not None:
                raise merge.retry
            return
        blocked, owners = apply_blocked(svc, record, plans)
        if blocked:
            sets = ", ".join(dict.fromkeys(f"{f.project}/{f.result.name}" for f in blocked))
            svc.ipr.note(record, actor, "apply:refused", detail=f"policy checks failed: {sets}")
            svc.say(pull.repo.forge, repo, number, svc.renderer.policy_refused(
                head_sha=pull.head_sha, blocked=blocked, owners=owners))
            return
        svc.workspaces.fetch(pull.repo, refs, env)
        with ExitStack() as held:
            tree = held.enter_context(
                svc.workspaces.checkout(pull.repo, number, pull.head_sha, env))
            hook_failed = run_workflow_hooks(svc, pull, policy, "pre", "apply", tree, actor,
                                             command)
            if hook_failed is not None:
                svc.ipr.note(record, actor, "apply:refused", detail="a pre workflow hook failed")
                svc.say(pull.repo.forge, repo, number, hook_failed)
                return
            try:
                head_cfg, rules = config_in(tree, policy), svc.rules(pull)
                head_cfg = for_base_branch(head_cfg, pull.base_ref)
            except RepoConfigError as err:
                svc.say(pull.repo.forge, repo, number, svc.renderer.config_error(err))
                return
            refused = self._refusal(record, pull, plans, rules, actor)
            if refused is not None:
                verdict = refused.verdict
                svc.ipr.note(record, actor, "apply:refused",
                             detail=f"{refused.environment.name}: " + "; ".join(verdict.refusals))
                svc.say(pull.repo.forge, repo, number, svc.renderer.apply_refused(
                    environment=refused.environment.name, head_sha=pull.head_sha,
                    refusals=verdict.refusals, approvals=verdict.decision.counted,
                    ignored=[(n.user, n.commit_sha, n.reason)
                             for n in verdict.decision.not_counted]))
                return
            order = ApplyOrder(svc, record, pull.head_sha, plans, head_cfg)
            waiting = order.refusals()
            if len(waiting) == len(plans):
                self._refuse_all(pull, record, actor, order, waiting)
                return
            started = self._start(record, actor, len(plans) - len(waiting))
            if started is None:
                return
            record = started
            try:
                forge.set_status(repo, pull.head_sha, APPLY_CONTEXT, StatusState.PENDING,
                                 f"applying {len(plans)} projects")
                trees = {"": tree}
                for source in {r.source_sha for r in plans if r.source_sha}:
                    # a destroy applies where it was planned: the base commit's worktree
                    trees[source] = held.enter_context(
                        svc.workspaces.checkout_base(pull.repo, number, source, env))
                results = order.run(lambda run: self._apply_one(
                    record, pull, trees[run.source_sha or ""], head_cfg, run, actor), actor)
                unsettled = verify_applies(svc, pull, trees, head_cfg, plans, results)
                post_failed = run_workflow_hooks(
                    svc, pull, policy, "post", "apply", tree, actor, command,
                    has_errors=any(r.status is not RunStatus.SUCCESS for r in results))
            except Exception as exc:
                svc.ipr.move(Transition(record, IPRState.FAILED, actor,
                                        f"apply stopped by {type(exc).__name__}; "
                                        "the server log has the details"))
                raise
            state, description = apply_status(results)
            ran = [r for r in results if r.skipped is None]
            svc.ipr.move(Transition(record, after_apply(ran), actor, description))
        merge = maybe_merge(svc, record, pull, head_cfg.options, actor,
                            project_setting(plans, head_cfg))
        silenced = {run.project for run in plans
                    if "apply" in project_for(run, head_cfg).silence_pr_comments}
        shown = unsilenced(results, silenced)  # atlantis.yaml's silence_pr_comments
        if shown or merge.text:
            svc.say(pull.repo.forge, repo, number,
                    svc.renderer.apply(shown, unsettled, merge=merge.text))
        forge.set_status(repo, pull.head_sha, APPLY_CONTEXT, state, description)
        if post_failed is not None:
            svc.say(pull.repo.forge, repo, number, post_failed)
        if merge.retry is not None:
            raise merge.retry

    def _refuse_all(self, pull: PullRequest, record: PullRecord, actor: str,
                    order: ApplyOrder, refused: dict[str, str]) -> None:
        """Every plan waits for a dependency: nothing starts, the IPR keeps its state."""
        svc = self.svc
        results = [order.skipped(run, refused[run.project]) for run in order.plans]
        for run in order.plans:
            svc.ipr.note(record, actor, "apply:refused", project=run.project,
                         detail=refused[run.project])
        svc.say(pull.repo.forge, pull.repo.full_name, pull.number, svc.renderer.apply(results))
        state, description = apply_status(results)
        svc.forges[pull.repo.forge].set_status(pull.repo.full_name, pull.head_sha,
                                               APPLY_CONTEXT, state, description)

    def _start(self, record: PullRecord, actor: str, count: int) -> PullRecord | None:
        """Move the IPR to APPLYING, judged on its stored state at this moment: from
        then on reviews and cancels are refused until the outcome is recorded. None,
        with the refusal posted, when its state allows no apply (REJECTED, CANCELLED)."""
        svc = self.svc
        reason = f"applying {count} {'project' if count == 1 else 'projects'}"
        if record.state is IPRState.PENDING:
            reason = f"approvals satisfied at apply: {reason}"
        try:
            svc.ipr.move(Transition(record, IPRState.APPLYING, actor, reason))
        except IllegalTransition as err:
            current = svc.pulls.by_id(record.id) or record
            svc.ipr.note(current, actor, "apply:refused", detail=str(err))
            svc.say(current.forge, current.repo, current.number,
                    svc.renderer.apply_blocked(current.state.value))
            return None
        return svc.pulls.by_id(record.id) or record

    def _refusal(self, record: PullRecord, pull: PullRequest, plans: Sequence[RunRecord],
                 rules: RepoConfig, actor: str) -> EnvVerdict | None:
        """The first environment whose policy refuses this apply by `actor`, if any."""
        reviews = all_reviews(self.svc, record)
        for found in verdicts(self.svc, record, rules, plans, reviews, requester=actor,
                              applying=pull):
            if not found.verdict.ok:
                return found
        return None

    def _apply_one(self, record: PullRecord, pull: PullRequest, tree: Path,
                   head_cfg: RepoConfig, run: RunRecord, actor: str) -> ProjectResult:
        svc = self.svc
        project = project_for(run, head_cfg)
        # on_plan and on_apply both hold the lock through the apply; it stays
        # until the pull request is merged or closed, as Atlantis keeps it
        lock = None if project.repo_locks == "disabled" else svc.locks.acquire(
            pull.repo.forge, pull.repo.full_name, run.dir, run.workspace, record.id,
            pull.number, run.project)
        if lock is not None and lock.pull_number != pull.number:
            return ProjectResult(project=run.project, dir=run.dir, workspace=run.workspace,
                                 command="apply", status=RunStatus.ERROR,
                                 head_sha=pull.head_sha,
                                 error=f"locked by pull request #{lock.pull_number}",
                                 locked_by=lock.pull_number)
        # the plan may have been made on another replica: this one's copy of it
        plan_file = svc.plans.path(pull.repo, pull.number, pull.head_sha, run.dir,
                                   run.workspace, run.project)
        try:
            svc.plans.fetch(pull.repo, pull.number, pull.head_sha, plan_file)
        except PlanUnavailable as err:
            return ProjectResult(project=run.project, dir=run.dir, workspace=run.workspace,
                                 command="apply", status=RunStatus.ERROR,
                                 head_sha=pull.head_sha, error=str(err), deleted=run.deleted)
        run_id = svc.pulls.start_run(record.id, run.project, run.dir, run.workspace, "apply",
                                     pull.head_sha, actor, run.plan_path, run.environment,
                                     reasons=run.reasons, deleted=run.deleted,
                                     source_sha=run.source_sha)
        try:
            # the environment the plan was judged by, recorded on its run
            result = run_apply(project, head_cfg.workflow_for(project), tree,
                               plan_file, svc.terraform_for(project, tree / project.dir),
                               allow_custom_steps=svc.allow_custom_steps,
                               env=svc.terraform_env(run.environment), head_sha=pull.head_sha)
        except Exception as exc:
            error = str(exc)
            if not isinstance(exc, CredentialsUnavailable | VersionUnavailable):
                log.exception("apply of %s crashed", run.project)
                error = f"{type(exc).__name__}: {exc}"
            result = ProjectResult(project=run.project, dir=run.dir, workspace=run.workspace,
                                   command="apply", status=RunStatus.ERROR,
                                   head_sha=pull.head_sha, error=error,
                                   deleted=run.deleted)
        result = svc.masked(result)
        svc.pulls.finish_run(run_id, result)
        svc.ipr.note(record, actor, f"apply:{result.status.value}", project=run.project)
        return result
