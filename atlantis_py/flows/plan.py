"""The plan operation: check out the PR head, read its config, pick projects,
lock, run, report. Autoplan and `atlantis plan` both end here."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from atlantis_py.core.approvals import eligible_approvers
from atlantis_py.core.config.load import base_config, config_in, rules_config
from atlantis_py.core.detect.atmos import StackError, TemplateError
from atlantis_py.core.outcomes import plan_status, unsilenced
from atlantis_py.core.selection import (
    Selection,
    environment_of,
    for_base_branch,
    with_file_defaults,
)
from atlantis_py.domain.commands import Command
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.forge import ChangedFile, FileStatus, StatusState
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import PullRecord
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.errors import ForgeError, RepoConfigError
from atlantis_py.flows.detection import Detector
from atlantis_py.flows.gate import environment
from atlantis_py.flows.ordered import Order, run_ordered
from atlantis_py.flows.plan_requirements import unmet
from atlantis_py.flows.policy import record_checks, report_status, sets_for
from atlantis_py.flows.server_policy import refuse_branch, run_workflow_hooks
from atlantis_py.flows.services import CredentialsUnavailable, Services
from atlantis_py.runner.plans import PlanUnavailable
from atlantis_py.runner.versions import VersionUnavailable
from atlantis_py.runner.workflow import run_plan

log = logging.getLogger(__name__)

PLAN_CONTEXT = "atlantis/plan"


class Planner:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.detector = Detector(svc.commands.autoplan_files)
        self.forge_calls = ThreadPoolExecutor(4, thread_name_prefix="atlantis-forge")

    def _select(self, pull: PullRequest, config: RepoConfig, base: RepoConfig, tree: Path,
                files: Sequence[ChangedFile], command: Command | None) -> Selection:
        stacks = config.atmos is not None or (tree / "atmos.yaml").is_file()
        removes_tf = any(f.status in (FileStatus.REMOVED, FileStatus.RENAMED)
                         and (f.previous_path or f.path).endswith(".tf") for f in files)
        ws = self.svc.workspaces
        # nothing to compare at the merge base: skip its git processes
        source = (ws.merge_base(pull.repo, pull.base_ref, pull.head_sha)
                  if stacks or removes_tf else "")
        return self.detector.select(
            ws.mirror_path(pull.repo), f"{pull.repo.forge}:{pull.repo.full_name}", source,
            pull.head_sha, config, base, tree, [f.path for f in files], command,
            compare=stacks or removes_tf)

    def plan(self, pull: PullRequest, actor: str, command: Command | None) -> None:
        svc = self.svc
        forge = svc.forges[pull.repo.forge]
        record = svc.pulls.upsert(pull)
        repo = pull.repo.full_name
        policy = svc.policy_of(pull.repo.forge, repo)
        if refuse_branch(svc, pull, record, policy, actor, command, "planned"):
            return
        env = forge.clone_env
        # the forge lists the changed files and names the rules branch while git
        # fetches and checks out
        listing = self.forge_calls.submit(forge.changed_files, repo, pull.number)
        rules_branch = self.forge_calls.submit(svc.rules_branch_of, pull.repo)
        svc.workspaces.fetch(pull.repo, [pull.base_ref, pull.head_ref, pull.head_sha], env)
        with ExitStack() as held:
            tree = held.enter_context(
                svc.workspaces.checkout(pull.repo, pull.number, pull.head_sha, env))
            hook_failed = run_workflow_hooks(svc, pull, policy, "pre", "plan", tree, actor,
                                             command)
            if hook_failed is not None:
                svc.say(pull.repo.forge, repo, pull.number, hook_failed)
                forge.set_status(repo, pull.head_sha, PLAN_CONTEXT, StatusState.FAILURE,
                                 "a pre workflow hook failed")
                svc.ipr.note(record, actor, "hook:failed", detail="pre workflow hook")
                return
            try:
                config = config_in(tree, policy)
                branch = rules_branch.result()
                rules_text = svc.config_text(pull.repo, branch)
                rules = rules_config(rules_text, branch, policy)
                base = rules if branch == pull.base_ref else \
                    base_config(svc.config_text(pull.repo, pull.base_ref), pull.base_ref,
                                policy)
            except RepoConfigError as err:
                svc.say(pull.repo.forge, repo, pull.number, svc.renderer.config_error(err))
                forge.set_status(repo, pull.head_sha, PLAN_CONTEXT, StatusState.FAILURE,
                                 f"{err.file} is invalid (line {err.line})")
                svc.ipr.note(record, actor, "config_error", detail=str(err))
                return
            svc.pulls.set_details(record.id, base_config=rules_text)
            config = for_base_branch(config, pull.base_ref)  # atlantis.yaml's `branch`
            # plans of earlier heads can never be applied: they go now
            svc.plans.discard_older(pull.repo, pull.number, pull.head_sha)
            changed = listing.result()
            try:
                selection = self._select(pull, config, base, tree, changed, command)
            except (StackError, TemplateError) as err:
                svc.say(pull.repo.forge, repo, pull.number, svc.renderer.stacks_invalid(str(err)))
                forge.set_status(repo, pull.head_sha, PLAN_CONTEXT, StatusState.FAILURE,
                                 "Atmos stacks are invalid")
                svc.ipr.note(record, actor, "config_error", detail=str(err))
                return
            selection = replace(selection, projects=[
                with_file_defaults(p, config) for p in selection.projects])
            if selection.problem:
                svc.say(pull.repo.forge, repo, pull.number,
                        svc.renderer.plan_not_run(selection.problem))
                return
            if not selection.projects:
                if command is not None:
                    svc.say(pull.repo.forge, repo, pull.number, svc.renderer.nothing_to_plan())
                forge.set_status(repo, pull.head_sha, PLAN_CONTEXT, StatusState.SUCCESS,
                                 "no Terraform projects changed")
                post_failed = run_workflow_hooks(svc, pull, policy, "post", "plan", tree,
                                                 actor, command, has_errors=False)
                if post_failed is not None:
                    svc.say(pull.repo.forge, repo, pull.number, post_failed)
                return
            # the pending status goes out beside the plans, not before them; it is
            # joined before the final status so the two can't arrive out of order
            # in this job's context, so the write goes through its journal (outbox.py)
            pending = self.forge_calls.submit(
                contextvars.copy_context().run, forge.set_status, repo, pull.head_sha,
                PLAN_CONTEXT, StatusState.PENDING, f"planning {len(selection.projects)} projects")
            extra = command.extra_args if command else ()
            envs = {p.name: environment_of(p, config, rules) for p in selection.projects}
            sources = {p.source_ref for p in selection.projects if p.deleted and p.source_ref}
            trees = {"": tree}
            for source in sources:  # at most one: the merge base
                trees[source] = held.enter_context(
                    svc.workspaces.checkout_base(pull.repo, pull.number, source, env))
            refused = unmet(svc, record, pull, config, rules, selection.projects, envs)
            ran = {r.project: r for r in self._run_all(
                record, pull, config, trees,
                [p for p in selection.projects if p.name not in refused], extra, actor, envs)}
            results = [ran.get(p.name) or _not_planned(p, pull.head_sha, refused[p.name])
                       for p in selection.projects]
            post_failed = run_workflow_hooks(
                svc, pull, policy, "post", "plan", tree, actor, command,
                has_errors=any(r.status is not RunStatus.SUCCESS for r in results))
        try:
            pending.result()
        except ForgeError as err:
            log.warning("the pending status was not set: %s", err)
        self._report(pull, results, review_request(svc, rules, pull.author, results, envs,
                                                    opened_by=record.opened_by),
                     silenced={p.name for p in selection.projects
                               if "plan" in p.silence_pr_comments})
        if post_failed is not None:
            svc.say(pull.repo.forge, repo, pull.number, post_failed)

    def _run_all(self, record: PullRecord, pull: PullRequest, config: RepoConfig,
                 trees: dict[str, Path], projects: Sequence[Project], extra: Sequence[str],
                 actor: str, envs: dict[str, str]) -> list[ProjectResult]:
        """Projects plan group by group (execution_order_group); within a group,
        with `parallel_plan` (the default), dirs plan at once (up to the pool
        size) and workspaces of one dir in turn, since they share its .terraform
        folder. Deleted projects run in the worktree of the commit they still
        exist at (`trees[source_ref]`)."""
        order: Order[Project] = Order(name=lambda p: p.name, group=lambda p: p.execution_order_group,
                      serial=lambda p: (p.source_ref or "", p.dir),
                      skipped=lambda p, why: ProjectResult(
                          project=p.name, dir=p.dir, workspace=p.workspace, command="plan",
                          status=RunStatus.ERROR, head_sha=pull.head_sha, error=why,
                          skipped=why, reasons=p.reasons, deleted=p.deleted))
        return run_ordered(
            projects, order, lambda p: self._plan_one(record, pull, config,
                                                      trees[p.source_ref or ""], p, extra,
                                                      actor, envs[p.name]),
            parallel=config.options.parallel_plan, pool=self.svc.pool,
            abort=config.options.abort_on_execution_order_fail, command="plan")

    def _plan_one(self, record: PullRecord, pull: PullRequest, config: RepoConfig, tree: Path,
                  project: Project, extra: Sequence[str], actor: str,
                  environment: str) -> ProjectResult:
        svc = self.svc
        lock = None
        if project.repo_locks == "on_plan":  # atlantis.yaml's repo_locks; ours by default
            lock = svc.locks.acquire(pull.repo.forge, pull.repo.full_name, project.dir,
                                     project.workspace, record.id, pull.number, project.name)
        if lock is not None and lock.pull_number != pull.number:
            return ProjectResult(
                project=project.name, dir=project.dir, workspace=project.workspace,
                command="plan", status=RunStatus.ERROR, head_sha=pull.head_sha,
                error=f"locked by pull request #{lock.pull_number}", locked_by=lock.pull_number,
                reasons=project.reasons, deleted=project.deleted)
        plan_file = svc.plans.path(pull.repo, pull.number, pull.head_sha, project.dir,
                                   project.workspace, project.name)
        plan_file.parent.mkdir(parents=True, exist_ok=True)
        run_id = svc.pulls.start_run(record.id, project.name, project.dir, project.workspace,
                                     "plan", pull.head_sha, actor, str(plan_file), environment,
                                     reasons=project.reasons, deleted=project.deleted,
                                     source_sha=project.source_ref)
        try:
            result = run_plan(project, config.workflow_for(project), tree, plan_file,
                              svc.terraform_for(project, tree / project.dir),
                              extra_args=extra,
                              allow_custom_steps=svc.allow_custom_steps,
                              env=svc.terraform_env(environment), head_sha=pull.head_sha,
                              policy_check=svc.policy_check
                              if sets_for(svc, pull.repo.forge, pull.repo.full_name) else None)
        except Exception as exc:
            error = str(exc)
            if not isinstance(exc, CredentialsUnavailable | VersionUnavailable):
                log.exception("plan of %s crashed", project.name)
                error = f"{type(exc).__name__}: {exc}"
            result = ProjectResult(project=project.name, dir=project.dir,
                                   workspace=project.workspace, command="plan",
                                   status=RunStatus.ERROR, head_sha=pull.head_sha,
                                   error=error,
                                   reasons=project.reasons, deleted=project.deleted)
        if result.status is RunStatus.SUCCESS:
            try:
                svc.plans.share(pull.repo, pull.number, pull.head_sha, plan_file)
            except PlanUnavailable as err:
                result = replace(result, status=RunStatus.FAILURE, counts=None, error=str(err))
        result = svc.masked(result)
        svc.pulls.finish_run(run_id, result)
        record_checks(svc, record, actor, run_id, project.name, result.policies)
        summary = result.counts.summary() if result.counts else (result.error or "")
        svc.ipr.note(record, actor, f"plan:{result.status.value}", project=project.name,
                     detail=summary)
        return result

    def _report(self, pull: PullRequest, results: Sequence[ProjectResult],
                extra: str = "", silenced: Collection[str] = ()) -> None:
        """The plan comment, without the successful plans of projects that
        silence_pr_comments silences (none left: no comment); the status
        counts every project."""
        forge = self.svc.forges[pull.repo.forge]
        shown = unsilenced(results, silenced)
        if shown:
            self.svc.say(pull.repo.forge, pull.repo.full_name, pull.number,
                         self.svc.renderer.plan(shown, extra=extra))
        state, description = plan_status(results)
        forge.set_status(pull.repo.full_name, pull.head_sha, PLAN_CONTEXT, state, description)
        report_status(self.svc, pull)


def _not_planned(project: Project, head_sha: str, why: str) -> ProjectResult:
    return ProjectResult(project=project.name, dir=project.dir, workspace=project.workspace,
                         command="plan", status=RunStatus.ERROR, head_sha=head_sha, error=why,
                         reasons=project.reasons, deleted=project.deleted)


def review_request(svc: Services, rules: RepoConfig, author: str,
                   results: Sequence[ProjectResult],
                   envs: Mapping[str, str], opened_by: str = "") -> str:
    """The line that asks the eligible approvers (per the rules branch) to
    review, mentioning them so the forge notifies them; not whoever opened it
    through the API, when authors may not approve."""
    asks = []
    for name in sorted({envs[r.project] for r in results
                        if r.status is RunStatus.SUCCESS}):
        env = environment(svc, rules, name)
        destroying = any(r.counts is not None and (r.counts.destroy or r.counts.replace)
                         for r in results if envs[r.project] == name)
        people = [p for p in eligible_approvers(env, author, destroying=destroying)
                  if env.allow_self_approval or p.lower() != opened_by.lower()]
        if people and env.required_approvals:
            asks.append(f"{name}: " + ", ".join(f"@{p}" for p in people))
    return ("**Review requested** (" + "; ".join(asks) + ")\n") if asks else ""
