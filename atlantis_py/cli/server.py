"""`atlantis-py server` and `atlantis-py worker`: the long-running processes."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from atlantis_py import __version__, logs
from atlantis_py import settings as settings_mod
from atlantis_py.errors import ConfigError
from atlantis_py.settings import Settings

log = logging.getLogger(__name__)


def _settings(args: argparse.Namespace, command: str) -> Settings | None:
    try:
        settings = settings_mod.load(args, require_forge=False)
    except ConfigError as err:
        print(f"atlantis-py {command}: {err}", file=sys.stderr)
        return None
    logs.configure(args.log_level, [settings.gh_token, settings.gh_webhook_secret,
                                    settings.gitlab_token, settings.gitlab_webhook_secret,
                                    settings.gh_app_key], settings.log_format)
    return settings


def run_server(args: argparse.Namespace) -> int:
    from atlantis_py.app import HTTPServer, create_service
    from atlantis_py.queue.processes import WorkerProcesses, worker_argv

    settings = _settings(args, "server")
    if settings is None:
        return 2
    if not settings.github_configured and not settings.gitlab_token \
            and settings.local_repos is None:
        log.warning("no forge configured: webhooks are refused until --gh-token or "
                    "--gitlab-token (with its webhook secret) is set")
    children = None
    if settings.worker_processes:
        children = WorkerProcesses(
            worker_argv(args.log_level), settings.worker_processes,
            env={**os.environ, **settings_mod.child_environ(args)})
    try:
        # with worker children, they run SQLite's checkpoints, off the webhook path
        service = create_service(settings, children.wake if children else None,
                                 checkpoints=children is None)
    except ConfigError as err:
        print(f"atlantis-py server: {err}", file=sys.stderr)
        return 2
    http = HTTPServer(service, settings.host, settings.port)
    service.listening(http.port)
    if children:
        children.start()
    else:
        service.start()

    def _stop(signum: int, _frame: object) -> None:
        log.info("signal %d: shutting down", signum)
        http.close()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("atlantis-py %s listening on %s:%d", __version__, settings.host, http.port)
    try:
        http.serve_forever()
    finally:
        if children:
            children.stop()
        service.stop()
    return 0


def run_worker(args: argparse.Namespace) -> int:
    """A worker process: claims jobs until stopped. Started by `server` with a wake
    pipe; started alone (another machine, PostgreSQL), it checks for work every
    few seconds instead."""
    from atlantis_py.app import create_service
    from atlantis_py.queue.processes import follow_wake_pipe

    settings = _settings(args, "worker")
    if settings is None:
        return 2
    try:
        service = create_service(settings)
    except ConfigError as err:
        print(f"atlantis-py worker: {err}", file=sys.stderr)
        return 2
    done = threading.Event()
    if args.wake_fd is not None:
        follow_wake_pipe(args.wake_fd, service.queue, done.set)
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    service.start()
    log.info("atlantis-py worker %s ready", __version__)
    done.wait()
    service.stop()
    return 0


def add_server_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    server = sub.add_parser("server", help="run the webhook server and its workers")
    settings_mod.add_arguments(server)
    server.set_defaults(func=run_server)
    worker = sub.add_parser("worker", help="run background workers only")
    settings_mod.add_arguments(worker)
    worker.add_argument("--wake-fd", type=int, default=None, help=argparse.SUPPRESS)
    worker.set_defaults(func=run_worker)
