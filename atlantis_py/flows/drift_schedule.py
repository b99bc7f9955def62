"""Which drift checks to queue, and when: the due-check the housekeeping runs
on every replica, and the checks the API (or `atlantis-py drift run`) asks for.

Schedules live in the rules branch's workflows.yaml (`environments.<name>.drift`),
re-read at most every few minutes per repository, over git alone (no forge API
call: looking must not spend the forge's rate limit). A due slot is claimed in the
store together with its job (store/drift.py), so however many replicas look,
one check runs per slot.

The repositories checked are those a pull request was seen on, and those the
server's configuration names exactly (`configured`: repos.yaml ids and
--repo-allowlist names, core/drift.configured_repos), whose clone URL
`clone_url(forge, name)` gives."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from atlantis_py.core.config.load import rules_config
from atlantis_py.core.drift import due_slot
from atlantis_py.core.ports import DriftRecords
from atlantis_py.domain.drift import DriftResult, DriftSchedule
from atlantis_py.domain.events import Repo
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.errors import ForgeError, Invalid, NotFound, RepoConfigError, WorkspaceError
from atlantis_py.flows.services import Services
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.payloads import DriftJob, drift_key

log = logging.getLogger(__name__)

CONFIG_REFRESH = 300.0  # seconds a repository's schedules are trusted before a re-read


@dataclass(frozen=True)
class Queued:
    job: int
    forge: str
    repo: str
    environment: str = ""
    project: str = ""
    slot: str = ""


@dataclass(frozen=True)
class DriftRun:
    """What a request queued, and the repositories whose schedules could not be read."""

    queued: tuple[Queued, ...]
    problems: tuple[str, ...] = ()


class DriftScheduler:
    def __init__(self, svc: Services, records: DriftRecords, queue: JobQueue,
                 max_parallel: int, clock: Callable[[], datetime] | None = None,
                 refresh: float = CONFIG_REFRESH, *,
                 configured: Sequence[tuple[str, str]] = (),
                 clone_url: Callable[[str, str], str] | None = None) -> None:
        self.svc = svc
        self.configured = tuple(configured)
        self.clone_url = clone_url
        self.records = records
        self.queue = queue
        self.max_parallel = max_parallel
        self.clock = clock or svc.clock
        self.refresh = refresh
        self._schedules: dict[tuple[str, str], tuple[float, dict[str, DriftSchedule]]] = {}

    def tick(self) -> None:
        """The housekeeping task: queue every slot due now."""
        run = self.due(self.clock())
        for job in run.queued:
            log.info("drift check of %s (%s, slot %s) queued as job %d", job.repo,
                     job.environment, job.slot, job.job)

    def due(self, now: datetime, repo: str | None = None, fresh: bool = False) -> DriftRun:
        """Claim and queue the slots due at `now`; a slot claimed before (here or on
        another replica) is left alone. `fresh` re-reads the schedules first."""
        queued: list[Queued] = []
        problems: list[str] = []
        for known in self._repos(repo):
            schedules, problem = self._schedules_of(known, fresh)
            if problem:
                problems.append(problem)
            for environment, schedule in sorted(schedules.items()):
                slot = due_slot(schedule, now)
                if slot is None:
                    continue
                job = DriftJob(known.forge, known.full_name, known.clone_url,
                               environment=environment, slot=slot.isoformat(),
                               trigger="schedule")
                job_id = self.records.claim_slot(
                    known.forge, known.full_name, environment, slot, job.KIND,
                    drift_key(known.forge, known.full_name, self.max_parallel), job.encode())
                if job_id is not None:
                    queued.append(Queued(job_id, known.forge, known.full_name, environment,
                                         slot=job.slot))
        if queued:
            self.queue.announce()
        return DriftRun(tuple(queued), tuple(problems))

    def run(self, repo: str | None, project: str | None, actor: str,
            at: datetime | None = None) -> DriftRun:
        """The API's `POST /drift/run`: check now, or (with `at`) queue the slots
        that were due at `at`, which may not be later than the server's clock,
        so no future slot can be used up early."""
        if repo is not None and (problem := repo_name_problem(repo)) is not None:
            raise Invalid(f"repo: {problem}")
        if project and not repo:
            raise Invalid("project needs repo: project names are per repository")
        if at is not None:
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            if at > self.clock():
                raise Invalid("at may not be later than the server's clock")
            return self.due(at, repo, fresh=True)
        queued = []
        for known in self._repos(repo):
            job = DriftJob(known.forge, known.full_name, known.clone_url,
                           project=project or "", trigger="manual")
            job_id = self.records.enqueue_once(job.KIND, drift_key(
                known.forge, known.full_name, self.max_parallel), job.encode())
            log.info("drift check of %s asked for by %s: job %d", known.full_name, actor,
                     job_id)
            queued.append(Queued(job_id, known.forge, known.full_name, project=project or ""))
        if queued:
            self.queue.announce()
        return DriftRun(tuple(queued))

    def latest(self, repo: str | None = None) -> list[DriftResult]:
        if repo is not None and (problem := repo_name_problem(repo)) is not None:
            raise Invalid(f"repo: {problem}")
        return self.records.latest(repo)

    def _repos(self, repo: str | None) -> list[Repo]:
        seen = self.records.known_repos()
        known = {(r.forge, r.full_name.lower()) for r in seen}
        resolve = self.clone_url
        named = [] if resolve is None else [
            Repo(forge, name, resolve(forge, name)) for forge, name in self.configured
            if (forge, name.lower()) not in known and (repo is None or name == repo)]
        repos = [r for r in [*seen, *named]
                 if r.forge in self.svc.forges and self.svc.repo_allowed(r.full_name)
                 and r.clone_url and (repo is None or r.full_name == repo)]
        if repo is not None and not repos:
            raise NotFound(f"no pull request of {repo} was seen yet, and neither repos.yaml "
                           "nor --repo-allowlist names it exactly: drift checks cover the "
                           "repositories the server serves")
        return repos

    def _schedules_of(self, repo: Repo, fresh: bool) -> tuple[dict[str, DriftSchedule], str]:
        key = (repo.forge, repo.full_name)
        cached = self._schedules.get(key)
        if cached is not None and not fresh and time.monotonic() - cached[0] < self.refresh:
            return cached[1], ""
        problem = ""
        try:
            env = self.svc.forges[repo.forge].clone_env
            branch = self.svc.rules_branch or \
                self.svc.workspaces.remote_default_branch(repo, env)
            self.svc.workspaces.fetch(repo, [branch], env)
            rules = rules_config(self.svc.config_text(repo, branch), branch)
            found = {name: env.drift for name, env in rules.environments.items()
                     if env.drift is not None}
        except (RepoConfigError, WorkspaceError, ForgeError) as err:
            problem = f"{repo.full_name}: {err}"
            log.warning("drift schedules of %s not read: %s", repo.full_name, err)
            found = cached[1] if cached is not None else {}
        self._schedules[key] = (time.monotonic(), found)
        return found, problem
