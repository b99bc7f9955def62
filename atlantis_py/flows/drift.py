"""Drift checks: plan a repository's default branch head, on nobody's pull
request, and record whether the plan is empty. Runs as a DriftJob in the worker
pool; the plan after an apply (flows/apply.py) is judged the same way."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from atlantis_py.core.config.load import config_in, rules_config
from atlantis_py.core.detect.atmos import StackError, TemplateError
from atlantis_py.core.drift import drift_projects, plan_changes
from atlantis_py.core.ports import DriftRecords, LockHolders
from atlantis_py.core.selection import environment_of, project_for
from atlantis_py.domain.drift import DriftResult, DriftState, ResourceChange
from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.projects import Project, RepoConfig, Workflow
from atlantis_py.domain.records import RunRecord
from atlantis_py.domain.results import PlanCounts, ProjectResult, RunStatus
from atlantis_py.errors import RepoConfigError, TransientWorkspaceError, WorkspaceError
from atlantis_py.flows.detection import Detector
from atlantis_py.flows.services import CredentialsUnavailable, Services
from atlantis_py.queue.payloads import DriftJob
from atlantis_py.runner.terraform import TerraformError
from atlantis_py.runner.versions import VersionUnavailable
from atlantis_py.runner.workflow import run_plan

log = logging.getLogger(__name__)

OUTPUT_TAIL = 20  # lines of a failed plan's output kept with its error


@dataclass(frozen=True)
class Verdict:
    state: DriftState
    counts: PlanCounts = field(default_factory=PlanCounts)
    resources: tuple[ResourceChange, ...] = ()
    error: str = ""


def plan_verdict(svc: Services, project: Project, workflow: Workflow, tree: Path,
                 plan_file: Path, environment: str, head_sha: str) -> Verdict:
    """Plan `project` in `tree` and judge it: CLEAN when empty, DRIFTED with
    what it would change, ERROR with what failed (secrets masked)."""
    try:
        env = svc.terraform_env(environment)
        terraform = svc.terraform_for(project, tree / project.dir)
        result = svc.masked(run_plan(project, workflow, tree, plan_file, terraform,
                                     allow_custom_steps=svc.allow_custom_steps, env=env,
                                     head_sha=head_sha))
    except (CredentialsUnavailable, VersionUnavailable) as err:
        return Verdict(DriftState.ERROR, error=str(err))
    except Exception as exc:
        log.exception("drift plan of %s crashed", project.name)
        return Verdict(DriftState.ERROR, error=svc.secrets.mask(f"{type(exc).__name__}: {exc}"))
    if result.status is not RunStatus.SUCCESS:
        tail = "\n".join(result.output.strip().splitlines()[-OUTPUT_TAIL:])
        return Verdict(DriftState.ERROR,
                       error="\n".join(filter(None, [result.error or "plan failed", tail])))
    counts = result.counts or PlanCounts()
    if not counts.has_changes:
        return Verdict(DriftState.CLEAN, counts)
    try:
        shown = terraform.show_json((tree / project.dir).resolve(), plan_file, env)
    except TerraformError as err:
        log.warning("drift plan of %s: its resources could not be listed: %s",
                    project.name, err)
        shown = {}
    return Verdict(DriftState.DRIFTED, counts, plan_changes(shown))


def drift_result(repo: Repo, project: Project, environment: str, head_sha: str,
                 verdict: Verdict, trigger: str) -> DriftResult:
    return DriftResult(forge=repo.forge, repo=repo.full_name, project=project.name,
                       dir=project.dir, workspace=project.workspace, environment=environment,
                       state=verdict.state, head_sha=head_sha, add=verdict.counts.add,
                       change=verdict.counts.change, destroy=verdict.counts.destroy,
                       resources=verdict.resources, detail=verdict.error, trigger=trigger)


def verify_applies(svc: Services, pull: PullRequest, trees: Mapping[str, Path],
                   head_cfg: RepoConfig, runs: Sequence[RunRecord],
                   results: Sequence[ProjectResult]) -> dict[str, tuple[ResourceChange, ...]]:
    """Plan each project again, at the same commit, right after its apply worked:
    a plan that is not empty (a resource that changes on every plan, a value
    only known after apply) is returned per project for the apply comment, and
    recorded as drift. Destroyed projects are not planned again. What the apply
    did stands whatever happens here: a failure is logged, never raised."""
    unsettled: dict[str, tuple[ResourceChange, ...]] = {}
    by_project = {run.project: run for run in runs}
    for result in results:
        run = by_project.get(result.project)  # results come in execution order
        if run is None or result.status is not RunStatus.SUCCESS or run.deleted:
            continue
        try:
            found = _verify_one(svc, pull, trees, head_cfg, run)
        except Exception:
            log.exception("the plan after applying %s could not be judged", run.project)
            continue
        if found is not None:
            unsettled[run.project] = found
    return unsettled


def _verify_one(svc: Services, pull: PullRequest, trees: Mapping[str, Path],
                head_cfg: RepoConfig, run: RunRecord) -> tuple[ResourceChange, ...] | None:
    project = project_for(run, head_cfg)
    saved = svc.plans.path(pull.repo, pull.number, pull.head_sha, run.dir, run.workspace,
                           run.project)
    plan_file = saved.with_name(saved.name + ".verify")
    try:
        verdict = plan_verdict(svc, project, head_cfg.workflow_for(project),
                               trees[run.source_sha or ""], plan_file, run.environment,
                               pull.head_sha)
    finally:
        plan_file.unlink(missing_ok=True)
    if verdict.state is DriftState.ERROR:
        log.warning("the plan after applying %s failed: %s", run.project, verdict.error)
    if verdict.state is not DriftState.DRIFTED:
        return None
    result = drift_result(pull.repo, project, run.environment, pull.head_sha, verdict,
                          "apply")
    if svc.drift is not None:
        svc.drift.record(result)
    notifier = svc.announcer.notifier if svc.announcer else None
    if notifier is not None:
        notifier.emit_drift(result, pull_number=pull.number)
    return verdict.resources


class DriftCheck:
    """The operation of a DriftJob. A project a pull request has locked is not
    planned (its plan would race the pull request's apply): it is recorded as
    skipped, with the pull request's number. An Atmos repository's projects
    are its stack instances (component × stack), as its pull requests plan them."""

    def __init__(self, svc: Services, records: DriftRecords, locks: LockHolders) -> None:
        self.svc = svc
        self.records = records
        self.locks = locks
        self.detector = Detector(svc.commands.autoplan_files)

    def run(self, job: DriftJob) -> None:
        svc = self.svc
        repo = Repo(job.forge, job.repo, job.clone_url)
        forge = svc.forges[job.forge]
        env = forge.clone_env
        branch = forge.default_branch(job.repo)
        try:
            svc.workspaces.fetch(repo, [branch], env)
            head = svc.workspaces.commit_of(repo, branch)
        except TransientWorkspaceError:
            raise  # the forge's git is away for now: the queue retries the job
        except WorkspaceError as err:
            self._repo_error(job, "", f"the default branch {branch} could not be fetched: {err}")
            return
        with svc.workspaces.checkout_drift(repo, head, env) as tree, \
                tempfile.TemporaryDirectory(prefix="atlantis-drift-") as scratch:
            try:
                config = config_in(tree)
                rules_branch = svc.rules_branch or branch
                rules = rules_config(svc.config_text(repo, rules_branch), rules_branch)
            except RepoConfigError as err:
                self._repo_error(job, head, str(err))
                return
            try:
                projects = [p for p in self._projects(repo, head, config, tree)
                            if not job.project or p.name == job.project]
            except (StackError, TemplateError) as err:
                self._repo_error(job, head, f"the Atmos stacks could not be read: {err}")
                return
            if job.project and not projects:
                self._repo_error(job, head, f"no project named {job.project!r} on {branch}")
                return
            checked = 0
            for project in projects:
                environment = environment_of(project, config, rules)
                if job.environment and environment != job.environment:
                    continue
                plan_file = Path(scratch) / f"{checked}.tfplan"
                checked += 1
                result = self._check(repo, project, config.workflow_for(project), tree,
                                     plan_file, environment, head, job.trigger)
                self.records.record(result)
                log.info("drift of %s %s at %s: %s", repo.full_name, project.name, head[:12],
                         result.state.value)
                notifier = svc.announcer.notifier if svc.announcer else None
                if result.state is DriftState.DRIFTED and notifier is not None:
                    notifier.emit_drift(result)

    def _projects(self, repo: Repo, head: str, config: RepoConfig, tree: Path) -> list[Project]:
        if config.atmos is not None or (tree / "atmos.yaml").is_file():
            found = self.detector.detect(
                self.svc.workspaces.mirror_path(repo), f"{repo.forge}:{repo.full_name}",
                head, head, config, config, all_instances=True)
            if found.atmos:
                return list(found.instances)
        return drift_projects(config, tree)

    def _check(self, repo: Repo, project: Project, workflow: Workflow, tree: Path,
               plan_file: Path, environment: str, head: str, trigger: str) -> DriftResult:
        held = self.locks.holder(repo.forge, repo.full_name, project.dir, project.workspace)
        if held is not None:
            verdict = Verdict(DriftState.SKIPPED,
                              error=f"locked by pull request #{held.pull_number}")
        else:
            verdict = plan_verdict(self.svc, project, workflow, tree, plan_file, environment,
                                   head)
        return drift_result(repo, project, environment, head, verdict, trigger)

    def failed(self, job: DriftJob, error: str) -> None:
        """The job failed for good (the forge stayed unreachable)."""
        self._repo_error(job, "", error)

    def _repo_error(self, job: DriftJob, head: str, error: str) -> None:
        """No project could be planned: one result for the repository says why."""
        log.warning("drift check of %s: %s", job.repo, error)
        self.records.record(DriftResult(
            forge=job.forge, repo=job.repo, project=job.project, dir="", workspace="",
            environment=job.environment, state=DriftState.ERROR, head_sha=head,
            detail=self.svc.secrets.mask(error), trigger=job.trigger))
