"""Composition root: settings in, a running service out. The only place that
chooses implementations; everything else receives them."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from atlantis_py import logs
from atlantis_py.core.approvals import PolicyLimits
from atlantis_py.core.config.repo_policy import RepoPolicies
from atlantis_py.core.dispatch import Router
from atlantis_py.core.drift import configured_repos
from atlantis_py.core.ipr import IPRMachine
from atlantis_py.domain.commands import CommandPolicy
from atlantis_py.flows.awaiting import AwaitingReview
from atlantis_py.flows.cleanup import forget_closed_plans
from atlantis_py.flows.drift import DriftCheck
from atlantis_py.flows.drift_schedule import DriftScheduler
from atlantis_py.flows.heads import BranchHeads
from atlantis_py.flows.kept_comments import KeptComments
from atlantis_py.flows.lifecycle import Lifecycle
from atlantis_py.flows.notify import Announcer, Notifier, load_targets
from atlantis_py.flows.outbox import Outbox
from atlantis_py.flows.runner import FlowRunner
from atlantis_py.flows.services import Services
from atlantis_py.flows.unlocks import Unlocks
from atlantis_py.forges.base import Forge, WebhookVerifier
from atlantis_py.forges.clone_urls import CloneUrls, github_web_root
from atlantis_py.forges.lazy import LazyForge
from atlantis_py.logs import throttle_noisy_loggers
from atlantis_py.queue.housekeeping import Housekeeping
from atlantis_py.queue.jobs import JobQueue
from atlantis_py.queue.retry import RetryPolicy
from atlantis_py.queue.worker import WorkerPool
from atlantis_py.report.render import Renderer
from atlantis_py.runner.credentials import Credentials
from atlantis_py.runner.download import DISTRIBUTIONS
from atlantis_py.runner.plans import SavedPlans
from atlantis_py.runner.policies import PolicyEngine
from atlantis_py.runner.terraform import Terraform, matching_env
from atlantis_py.runner.versions import Binaries
from atlantis_py.runner.workspace import Workspaces
from atlantis_py.settings import DEFAULT_TF_DOWNLOAD_URLS, Settings
from atlantis_py.store.audit import AuditLog
from atlantis_py.store.console import ConsoleQueries
from atlantis_py.store.db import Database
from atlantis_py.store.drift import DriftStore
from atlantis_py.store.job_logs import JobLogStore
from atlantis_py.store.job_views import JobViews
from atlantis_py.store.jobs import JobStore
from atlantis_py.store.journal import JournalStore
from atlantis_py.store.locks import LockStore
from atlantis_py.store.login_failures import LoginFailures
from atlantis_py.store.plan_blobs import PlanBlobStore
from atlantis_py.store.policies import PolicyStore
from atlantis_py.store.pulls import PullStore
from atlantis_py.store.reviews import ReviewStore
from atlantis_py.store.tokens import TokenStore
from atlantis_py.store.wakeups import PgWakeups
from atlantis_py.store.web_sessions import WebSessionStore

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)


@dataclass
class Service:
    """A wired server: the stores and workers, and (built on demand, since worker
    processes never serve HTTP) the Flask app in front of them."""

    settings: Settings
    db: Database
    queue: JobQueue
    workers: WorkerPool
    services: Services
    jobs: JobStore
    pulls: PullStore
    lifecycle: Lifecycle
    verifiers: list[WebhookVerifier]
    raw_forges: dict[str, Forge] = field(default_factory=dict)
    wakeups: PgWakeups | None = None
    policy_engine: PolicyEngine | None = None
    drift: DriftScheduler | None = None
    drift_store: DriftStore | None = None
    _started: bool = False
    _web: Flask | None = None
    _web_stops: list[Callable[[], None]] = field(default_factory=list)

    @property
    def web_app(self) -> Flask:
        if self._web is None:
            self._web = create_web_app(self)
        return self._web

    def start(self) -> None:
        """Start this process's workers (inline mode, worker children, tests)."""
        if not self._started:
            if self.wakeups is not None:
                self.wakeups.listen(self.queue.wake)
            self.workers.start()
            self._started = True

    def stop(self) -> None:
        for stop_web_thread in self._web_stops:
            stop_web_thread()
        if self._started:
            if self.wakeups is not None:
                self.wakeups.stop()
            self.workers.stop()
            self._started = False
        self.services.pool.shutdown(wait=False, cancel_futures=True)
        self.db.dispose()

    def listening(self, port: int) -> None:
        """The HTTP server is up on `port`: point the local repositories' push
        hooks at it (--local-repos)."""
        if self.settings.local_repos is None:
            return
        from atlantis_py.forges.local import LocalForge
        from atlantis_py.forges.local_push import LocalPushes

        pushes = next((v for v in self.verifiers if isinstance(v, LocalPushes)), None)
        local = self.raw_forges.get("local")
        if pushes is None or not isinstance(local, LocalForge) or local.hooks is None:
            return
        host = self.settings.host
        loopback = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        local.hooks.configure(f"http://{loopback}:{port}/events", pushes.secret)
        names = local.hooks.install_all()
        log.info("local forge: serving %s from %s", ", ".join(names) or "no repositories yet",
                 self.settings.local_repos)

    def settle(self, timeout: float = 120) -> bool:
        """Wait until every accepted job has finished (tests, benchmarks)."""
        return self.queue.wait_idle(timeout)


def build_forges(settings: Settings, db: Database | None = None,
                 ) -> tuple[dict[str, Forge], dict[str, WebhookVerifier]]:
    """Verifiers now; forge clients (and their libraries) on first use."""
    forges: dict[str, Forge] = {}
    verifiers: dict[str, WebhookVerifier] = {}
    if settings.local_repos is not None and db is not None:
        from atlantis_py.forges.local import LocalForge
        from atlantis_py.forges.local_hooks import PushHooks
        from atlantis_py.forges.local_push import LocalPushes, new_secret
        from atlantis_py.store.local_forge import LocalForgeStore

        hooks = PushHooks(settings.local_repos, settings.data_dir.resolve() / "local-push.json")
        local = LocalForge(settings.local_repos, LocalForgeStore(db), hooks=hooks)
        forges["local"] = local
        verifiers["local"] = LocalPushes(local, new_secret())
    if settings.github_configured:
        from atlantis_py.forges.github_webhooks import GitHubWebhooks

        def github() -> Forge:
            from atlantis_py.forges.github import GitHubApp, GitHubForge

            app = None if settings.gh_app_id is None else GitHubApp(
                settings.gh_app_id, settings.gh_app_key, settings.gh_app_installation_id)
            return GitHubForge(settings.gh_token, settings.gh_api_url,
                               settings.github_bot_user,
                               write_interval=settings.gh_write_interval, app=app)

        forges["github"] = LazyForge("github", 65536, github)
        verifiers["github"] = GitHubWebhooks(settings.gh_webhook_secret)
    if settings.gitlab_token:
        from atlantis_py.forges.gitlab_webhooks import GitLabWebhooks

        def gitlab() -> Forge:
            from atlantis_py.forges.gitlab import GitLabForge

            return GitLabForge(settings.gitlab_token, settings.gitlab_url, settings.gitlab_user,
                               command_access_level=settings.gitlab_command_access_level,
                               approver_access_level=settings.gitlab_approver_access_level)

        forges["gitlab"] = LazyForge("gitlab", 1_000_000, gitlab)
        verifiers["gitlab"] = GitLabWebhooks(settings.gitlab_webhook_secret)
    return forges, verifiers


def terraform_credentials(settings: Settings) -> Credentials:
    """What terraform may see beyond the fixed few variables, its values masked from
    now on: the passed-through server variables, and the credentials file checked
    (ConfigError naming file, line and key when a variable is unset or a file
    unreadable)."""
    logs.SECRETS.add([settings.gh_token, settings.gh_webhook_secret, settings.gitlab_token,
                      settings.gitlab_webhook_secret, settings.gh_app_key])
    logs.SECRETS.add(matching_env(settings.tf_env_passthrough, os.environ).values(),
                     logs.CREDENTIAL_MIN_LENGTH)
    credentials = Credentials(
        settings.credentials, os.environ,
        reveal=lambda values: logs.SECRETS.add(values, logs.CREDENTIAL_MIN_LENGTH))
    credentials.check()
    return credentials


def terraform_binaries(settings: Settings, data: Path) -> dict[str, Binaries]:
    """Projects' terraform_version from --tf-bin-dir, PATH or downloads into
    DATA_DIR/bin (where Atlantis keeps its own), per distribution: the server's
    (--tf-distribution) with its flags, the other for projects that name it
    (`terraform_distribution`) with its own binary name and releases."""
    folders = [settings.tf_bin_dir] if settings.tf_bin_dir else []
    found = {}
    for name, dist in DISTRIBUTIONS.items():
        own = name == settings.tf_distribution
        found[name] = Binaries(
            dist, settings.terraform_bin if own else dist.binary, folders, data / "bin",
            download_enabled=settings.tf_download,
            download_url=settings.tf_download_url if own else DEFAULT_TF_DOWNLOAD_URLS[name],
            default_version=settings.default_tf_version if own else "")
    return found


def create_service(settings: Settings, notify: Callable[[], None] | None = None,
                   idle_check: float = 30.0, *, checkpoints: bool = True,
                   retry: RetryPolicy | None = None) -> Service:
    """`notify` is called after new work is stored, to wake workers in other processes.
    `retry` replaces the backoff built from --forge-retry-limit (tests: short waits)."""
    data = settings.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    credentials = terraform_credentials(settings)
    db = Database(settings.db_url, checkpoints=checkpoints)
    db.migrate()
    raw_forges, verifiers = build_forges(settings, db)
    outbox = Outbox(JournalStore(db), raw_forges,
                    bot_users={"github": settings.github_bot_user, "gitlab": settings.gitlab_user,
                               "local": "atlantis"})
    forges = outbox.forges
    pulls, audit = PullStore(db), AuditLog(db)
    drift_store, locks = DriftStore(db), LockStore(db)
    notifier = (Notifier(load_targets(settings.notifications_file))
                if settings.notifications_file else None)
    announcer = Announcer(pulls, notifier)
    plugin_cache = data / "plugin-cache"
    plugin_cache.mkdir(exist_ok=True)
    engine = PolicyEngine(settings.policies) if settings.policies else None
    if engine is not None:
        engine.check()  # broken sets are logged now and shown in /healthz
    binaries = terraform_binaries(settings, data)
    services = Services(
        forges=forges,
        verifiers=verifiers,
        workspaces=Workspaces(data / "repos"),
        plans=SavedPlans(data / "plans", PlanBlobStore(db),
                         max_bytes=settings.max_plan_size_mb * 1024 * 1024),
        terraform=Terraform(settings.terraform_bin, plugin_cache_dir=plugin_cache,
                            passthrough=settings.tf_env_passthrough),
        credentials=credentials,
        binaries=binaries[settings.tf_distribution],
        other_binaries=binaries,
        secrets=logs.SECRETS,
        pulls=pulls,
        locks=locks,
        reviews=ReviewStore(db),
        audit=audit,
        ipr=IPRMachine(pulls, audit, [announcer]),
        renderer=Renderer(),
        pool=ThreadPoolExecutor(settings.parallel_pool_size, thread_name_prefix="atlantis-plan"),
        bot_users={"github": settings.github_bot_user, "gitlab": settings.gitlab_user,
                   "local": "atlantis"},
        allow_custom_steps=settings.allow_custom_steps,
        repo_allowed=settings.repo_allowed,
        limits=PolicyLimits(min_approvals=settings.min_approvals,
                            allow_self_approval=settings.allow_self_approval,
                            max_approval_ttl=settings.max_approval_ttl,
                            max_review_deadline=settings.max_review_deadline),
        announcer=announcer,
        rules_branch=settings.rules_branch,
        apply_base_branches=settings.apply_base_branches,
        repo_policies=RepoPolicies(settings.repo_config, settings.forge_hosts),
        policy_sets=settings.policies,
        policy_check=engine.evaluate if engine else None,
        policy_records=PolicyStore(db) if engine else None,
        commands=CommandPolicy(allowed=settings.allow_commands,
                               autoplan=not settings.disable_autoplan,
                               skip_label=settings.disable_autoplan_label,
                               autoplan_files=settings.autoplan_file_list),
        drift=drift_store,
    )
    jobs = JobStore(db)
    queue = JobQueue(jobs, notify)
    heads = BranchHeads(services, queue, [n for n in raw_forges if n == "local"],
                        pulls.open_on)
    lifecycle = Lifecycle(services, queue, heads)
    drift = DriftScheduler(
        services, drift_store, queue, settings.drift_max_parallel,
        configured=configured_repos(settings.repo_config, settings.repo_allowlist,
                                    settings.forge_hosts, raw_forges),
        clone_url=CloneUrls(raw_forges, {"github": github_web_root(settings.gh_api_url),
                                         "gitlab": settings.gitlab_url}))
    housekeeping = Housekeeping(jobs, every_pass=[lifecycle.expire_overdue, drift.tick,
                                                  heads.sweep, *local_scans(raw_forges)],
                                hourly=[lambda: forget_closed_plans(services)])
    runner = FlowRunner(services, lifecycle, outbox, DriftCheck(services, drift_store, locks),
                        JobLogStore(db))
    workers = WorkerPool(queue, runner, settings.worker_threads,
                         housekeeping=housekeeping, idle_check=idle_check,
                         lease=timedelta(seconds=settings.job_lease_seconds),
                         retry=retry or RetryPolicy(limit=settings.forge_retry_limit))
    return Service(settings=settings, db=db, queue=queue, workers=workers, pulls=pulls,
                   services=services, jobs=jobs, lifecycle=lifecycle,
                   verifiers=list(verifiers.values()), raw_forges=raw_forges,
                   wakeups=None if db.is_sqlite else PgWakeups(db), policy_engine=engine,
                   drift=drift, drift_store=drift_store)


def local_scans(forges: dict[str, Forge]) -> list[Callable[[], object]]:
    """Housekeeping of the local forge: the push hook into repositories added
    under --local-repos since the start, or whose hook was removed."""
    from atlantis_py.forges.local import LocalForge

    local = forges.get("local")
    return [local.hooks.install_all] if isinstance(local, LocalForge) and local.hooks else []


def create_web_app(service: Service) -> Flask:
    from flask import Flask

    from atlantis_py.web.api import api_blueprint
    from atlantis_py.web.console import console_blueprint
    from atlantis_py.web.console.jobs import JobSources
    from atlantis_py.web.health import WebhookCounts, health_blueprint
    from atlantis_py.web.spool import Spool, SpoolReplayer
    from atlantis_py.web.webhooks import webhooks_blueprint

    app = Flask("atlantis_py")
    counts = WebhookCounts()
    router = Router(service.services.bot_users, service.services.repo_allowed)
    spool = Spool(service.settings.data_dir.resolve() / "spool" / "webhooks.jsonl")
    replayer = SpoolReplayer(spool, service.queue)
    replayer.start()
    service._web_stops.append(replayer.stop)
    app.register_blueprint(webhooks_blueprint(service.verifiers, service.queue, counts, router,
                                              spool, replayer))
    app.register_blueprint(health_blueprint(
        service.jobs.pending_count, service.jobs.reachable, service.jobs.status_counts,
        service.pulls.state_counts, counts, spool,
        service.policy_engine.recent_problems if service.policy_engine else None,
        drift_counts=service.drift_store.state_counts if service.drift_store else None,
        policy_counts=service.services.policy_records.result_counts
        if service.services.policy_records else None))
    tokens = TokenStore(service.db)
    kept = kept_comments(service, router)
    app.register_blueprint(api_blueprint(service.lifecycle, tokens.owner,
                                         comments=kept.read if kept else None,
                                         post_comment=kept.post if kept else None,
                                         drift=service.drift))
    console = ConsoleQueries(service.db)
    views, job_logs = JobViews(service.db), JobLogStore(service.db)

    def retry_now(job_id: int) -> bool:
        found = views.retry_now(job_id)
        if found:
            service.queue.announce()
        return found

    jobs = JobSources(page=views.page, job=views.job, tail=job_logs.tail,
                      lines_after=job_logs.lines_after, retry_now=retry_now,
                      version=views.version)
    app.register_blueprint(console_blueprint(
        service.lifecycle, WebSessionStore(service.db), AwaitingReview(service.services, console),
        lambda ipr_id: list(service.pulls.latest_runs(ipr_id, "plan").values()),
        console.locks, Unlocks(service.services, console.release_lock), console.version,
        secure_cookies=service.settings.web_secure_cookies,
        limiter=LoginFailures(service.db),
        comments=kept.read if kept else None,
        drift=service.drift_store.latest if service.drift_store else None, jobs=jobs,
        jobs_of=lambda record: views.of_pull(record.forge, record.repo, record.number)))
    return app


def kept_comments(service: Service, router: Router) -> KeptComments | None:
    """The comments of IPRs whose forge keeps them with us (--local-repos)."""
    from atlantis_py.forges.local import LocalForge

    local = service.raw_forges.get("local")
    if not isinstance(local, LocalForge):
        return None
    return KeptComments(service.lifecycle, local, service.queue, router)


class HTTPServer:
    """waitress on a background thread; `serve_forever` for the CLI."""

    def __init__(self, service: Service, host: str, port: int, threads: int = 8) -> None:
        from waitress.server import create_server

        from atlantis_py.web.webhooks import MAX_BODY

        throttle_noisy_loggers()
        # a body without Content-Length (chunked) is capped by waitress itself,
        # before the app reads it into memory
        self.app = service.web_app
        self.server = create_server(self.app, host=host, port=port, threads=threads,
                                    channel_timeout=30, ident="atlantis-py",
                                    max_request_body_size=MAX_BODY)
        self.port = int(self.server.effective_port)
        self._thread: threading.Thread | None = None
        self._closing = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="atlantis-http",
                                        daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        try:
            self.server.run()
        except OSError:
            if not self._closing:
                raise  # closing the sockets under the poll loop is how it stops

    def close(self) -> None:
        """Streams end and request threads stop before the sockets close: a
        thread that ended after them would write to a closed descriptor, or to
        whatever socket reused its number."""
        from atlantis_py.web.console.stream import STOPPING

        self._closing = True
        stop = self.app.extensions.get(STOPPING)
        if stop is not None:
            stop.set()
        self.server.task_dispatcher.shutdown()
        self.server.close()
        if self._thread:
            self._thread.join(5)
