"""Benchmark: webhook acknowledged at p99 < 20 ms under 300 deliveries/s, none lost.

Starts `atlantis-py server` as its own process (SQLite under a temporary data
dir, a fake GitHub in this process for its API) and sends it signed
`pull_request` `opened` deliveries on an open-loop wall-clock schedule. By
default the repository is not in --repo-allowlist, so every delivery is
verified, stored and queued, and a live worker claims and ignores it: this
measures the acknowledgement path with the queue draining behind it, not
terraform. `--allowlisted` sends deliveries for real pull requests in the fake
GitHub instead, so each one becomes an autoplan (slow to drain).

Exits 1 when p99 >= the target, a delivery was not acknowledged, or one was not
stored (lost); `--no-check` only reports.

    .venv/bin/python bench/webhook_ack.py [--rate 300] [--duration 20] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openloop
from server_process import (
    job_counts,
    running_server,
    stored_deliveries,
    wait_drained,
)

if TYPE_CHECKING:
    from tests.fakeforge.github import FakeGitHub

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "github"
SECRET = "bench-webhook-secret"
NUMBER_MARK = b"987654321"  # stands for the pull request number in the body template
OTHER_REPO_ALLOWLIST = "atlantis-bench/not-the-fixture-repo"


@dataclass(frozen=True)
class Deliveries:
    """Builds request i: a signed delivery with its own id (and own PR number when
    the body has a number mark)."""

    templates: list[bytes]
    secret: str
    first_number: int

    def __call__(self, index: int) -> openloop.Request:
        template = self.templates[index % len(self.templates)]
        body = template.replace(NUMBER_MARK, str(self.first_number + index).encode())
        signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/bench",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": "sha256=" + signature,
        }


def fixture_template() -> bytes:
    payload: dict[str, Any] = json.loads((FIXTURE / "pull_request.opened.json").read_text())
    payload["action"] = "opened"
    payload["number"] = int(NUMBER_MARK)
    payload["pull_request"]["number"] = int(NUMBER_MARK)
    return json.dumps(payload).encode()


def allowlisted_templates(fake: FakeGitHub, pulls: int) -> list[bytes]:
    """Real pull requests in the fake GitHub, changing no Terraform: each delivery
    is an autoplan that checks out the PR and finds nothing to plan."""
    repo = fake.create_repo("bench/infra", {"README.md": "bench\n"})
    return [json.dumps(fake.pull_request_payload(
                fake.open_pull(repo, branch=f"bench-{n}", changes={f"notes/{n}.txt": "x\n"}),
                "opened")).encode()
            for n in range(pulls)]


@contextmanager
def fake_github(tmp: Path) -> Iterator[FakeGitHub]:
    sys.path.insert(0, str(ROOT))
    from tests.fakeforge.github import FakeGitHub

    with FakeGitHub(tmp) as fake:
        yield fake


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass(frozen=True)
class Figures:
    rate: float
    duration: float
    senders: int
    keepalive: bool
    allowlisted: bool
    warmup_sent: int
    sent: int
    acknowledged: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    client_lag_p99_ms: float
    throughput: float
    stored: int
    lost: int
    drained: bool
    drain_s: float
    jobs: dict[str, int]
    server_cpu_cores: float
    bench_cpu_cores: float
    api_requests: int
    target_p99_ms: float
    nproc: int
    python: str
    loadavg_before: float  # 1-minute load average before the run: other work on the machine

    @property
    def passed(self) -> bool:
        return (self.p99_ms < self.target_p99_ms and self.lost == 0 and self.errors == 0
                and self.drained)


def figures(args: argparse.Namespace, warm: openloop.LoadResult, load: openloop.LoadResult,
            stored: int, drain: tuple[bool, float], jobs: dict[str, int],
            cpu: tuple[float, float],
            api_requests: int, loadavg: float) -> Figures:
    ms = [o.latency * 1000 for o in load.acked]
    sent = len(warm.outcomes) + len(load.outcomes)
    return Figures(
        rate=args.rate, duration=args.duration, senders=args.senders,
        keepalive=not args.new_connections, allowlisted=args.allowlisted,
        warmup_sent=len(warm.outcomes), sent=len(load.outcomes),
        acknowledged=len(load.acked), errors=len(warm.errors) + len(load.errors),
        p50_ms=openloop.percentile(ms, 50), p90_ms=openloop.percentile(ms, 90),
        p99_ms=openloop.percentile(ms, 99), max_ms=max(ms, default=0.0),
        client_lag_p99_ms=openloop.percentile([o.lag * 1000 for o in load.outcomes], 99),
        throughput=len(load.acked) / load.wall if load.wall > 0 else 0.0,
        stored=stored, lost=max(0, sent - stored), drained=drain[0], drain_s=drain[1],
        jobs=jobs, server_cpu_cores=cpu[0], bench_cpu_cores=cpu[1], api_requests=api_requests,
        target_p99_ms=args.target_p99_ms, nproc=os.cpu_count() or 0,
        python=platform.python_version(), loadavg_before=loadavg)


def print_table(f: Figures) -> None:
    scope = "repo allowlisted (autoplans)" if f.allowlisted else "repo not allowlisted"
    conns = "keep-alive" if f.keepalive else "new connection each"
    total = f.warmup_sent + f.sent
    jobs = ", ".join(f"{k} {v}" for k, v in sorted(f.jobs.items())) or "none"
    verdict = "PASS" if f.passed else "FAIL"
    rows = [
        ("load", f"{f.rate:g}/s for {f.duration:g} s, {f.senders} senders, {conns}, {scope}"),
        ("sent", f"{f.sent} (+{f.warmup_sent} warm-up, not timed)"),
        ("acknowledged", f"{f.acknowledged} (2xx)"),
        ("errors", f"{f.errors} (non-2xx or no response, warm-up included)"),
        ("ack latency", (f"p50 {f.p50_ms:.1f} ms  p90 {f.p90_ms:.1f} ms  "
                         f"p99 {f.p99_ms:.1f} ms  max {f.max_ms:.1f} ms")),
        ("client lag", f"p99 {f.client_lag_p99_ms:.1f} ms (send started after its due time)"),
        ("throughput", f"{f.throughput:.1f} acks/s"),
        ("stored", f"{f.stored} of {total} deliveries; lost {f.lost}"),
        ("drain", f"{f.drain_s:.2f} s after the last ack" if f.drained
                  else f"NOT drained after {f.drain_s:.0f} s"),
        ("jobs", jobs),
        ("cpu", (f"server {f.server_cpu_cores:.2f} cores, bench {f.bench_cpu_cores:.2f} cores "
                 f"while loaded ({f.nproc} cores, Python {f.python}; "
                 f"load average {f.loadavg_before:.2f} before the run)")),
        ("github api", f"{f.api_requests} requests to the fake GitHub"),
        ("target", f"p99 < {f.target_p99_ms:g} ms, all acknowledged, none lost: {verdict}"),
    ]
    for name, value in rows:
        print(f"{name:<13} {value}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rate", type=float, default=300.0, help="deliveries per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of timed load")
    p.add_argument("--warmup", type=float, default=1.0,
                   help="seconds of untimed load first (stored and counted for 'lost')")
    p.add_argument("--senders", type=int, default=32, help="sender threads (connections)")
    p.add_argument("--new-connections", action="store_true",
                   help="one TCP connection per delivery, as GitHub does, instead of keep-alive")
    p.add_argument("--allowlisted", action="store_true",
                   help="deliveries for allowlisted repos with real PRs: each is an autoplan")
    p.add_argument("--pulls", type=int, default=10, help="pull requests with --allowlisted")
    p.add_argument("--worker-threads", type=int, default=2, help="server --worker-threads")
    p.add_argument("--log-level", default="info", help="server --log-level")
    p.add_argument("--target-p99-ms", type=float, default=20.0)
    p.add_argument("--drain-timeout", type=float, default=120.0)
    p.add_argument("--keep", action="store_true", help="keep the data dir and server log")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--no-check", action="store_true", help="exit 0 whatever the figures")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loadavg = os.getloadavg()[0]
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="atlantis-bench-")) if args.keep else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="atlantis-bench-")))
        fake = stack.enter_context(fake_github(tmp))
        if args.allowlisted:
            templates, allowlist = allowlisted_templates(fake, args.pulls), "bench/*"
        else:
            templates, allowlist = [fixture_template()], OTHER_REPO_ALLOWLIST
        server = stack.enter_context(running_server(
            tmp / "data", gh_token=fake.token, secret=SECRET, api_url=fake.api_url,
            allowlist=allowlist, worker_threads=args.worker_threads,
            log_level=args.log_level))
        warm_count = int(args.rate * args.warmup)
        count = int(args.rate * args.duration)
        warm = openloop.run("127.0.0.1", server.port, "/events",
                            Deliveries(templates, SECRET, 1), rate=args.rate,
                            count=warm_count, senders=args.senders,
                            keepalive=not args.new_connections)
        cpu_before = server.cpu_seconds(), own_cpu_seconds()
        load = openloop.run("127.0.0.1", server.port, "/events",
                            Deliveries(templates, SECRET, 1 + warm_count), rate=args.rate,
                            count=count, senders=args.senders,
                            keepalive=not args.new_connections)
        wall = max(load.wall, 1e-9)
        cpu = ((server.cpu_seconds() - cpu_before[0]) / wall,
               (own_cpu_seconds() - cpu_before[1]) / wall)
        drain = wait_drained(server.db_path, args.drain_timeout, since=load.finished)
        result = figures(args, warm, load, stored_deliveries(server.db_path), drain,
                         job_counts(server.db_path), cpu, len(fake.requests), loadavg)
        if args.keep:
            print(f"kept {tmp} (server log: {server.log_path})", file=sys.stderr)
    if args.json:
        print(json.dumps({**asdict(result), "passed": result.passed}, indent=2))
    else:
        print_table(result)
    return 0 if result.passed or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
