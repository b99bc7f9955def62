"""Benchmark: webhook acknowledged at p99 < 20 ms under 300 deliveries/s, none lost.

Starts `atlantis-py server` as its own process (SQLite under a temporary data
dir, a fake GitHub in this process for its API) and sends it signed deliveries
on an open-loop wall-clock schedule, one TCP connection per delivery as GitHub
does (`--keepalive` reuses connections instead).

Scenarios (`--scenario`):

- `mix` (default): what a busy installation receives. Mostly review chatter
  (ordinary comments) on a few busy pull requests, plus comment edits, the bot's
  own comments, reviews that approve (queued) or only comment, pushes to those
  pull requests (`synchronize`: queued, an autoplan that finds no Terraform) and
  event kinds we ignore (`push`, `check_run`, `status`). Meanwhile a separate pull
  request that changes a Terraform project is planned over and over
  (`atlantis plan` as soon as the previous plan comment arrived), so terraform
  runs beside the load.
- `chatter`: only ordinary comments on the busy pull requests.
- `pushes`: only `synchronize` deliveries: every one is queued and autoplanned.

`--cpu-hog` runs a process spinning on one core for the whole run, as another
tenant of the machine would.

Every delivery kind has the answer it must get (200 ignored, 202 queued); a
wrong one counts as an error. Lost = deliveries answered 202 whose id is not in
the server's deliveries table. Exits 1 when p99 >= the target, a delivery got an
error or the wrong answer, one was lost, or the queue did not drain;
`--no-check` only reports.

    .venv/bin/python bench/webhook_ack.py [--scenario mix] [--rate 300] [--duration 20]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import openloop
from server_process import (
    job_counts,
    process_cpu,
    running_server,
    stored_delivery_ids,
    wait_drained,
)

if TYPE_CHECKING:
    from tests.fakeforge.github import FakeGitHub, FakePull

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"
CHATTER = ["LGTM", "Could you rename this variable?", "nit: trailing whitespace",
           "Thanks! 🎉", "Why not a module here?\n\nSee the docs.", "+1",
           "I think the plan output above looks right", "@alice can you take a look?"]
OTHER_EVENTS = ["push", "check_run", "status"]


@dataclass(frozen=True)
class Template:
    """One kind of delivery: its event header, body, signature and expected answer."""

    kind: str
    event: str
    body: bytes
    signature: str
    expect: int


def template(kind: str, event: str, payload: dict[str, Any], expect: int) -> Template:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return Template(kind, event, body, signature, expect)


# scenario -> (kind, weight); weights are per 100 deliveries
SCENARIOS: dict[str, list[tuple[str, int]]] = {
    "mix": [("chatter", 72), ("comment edited", 4), ("bot comment", 4),
            ("review approved", 4), ("review commented", 4), ("push to pull", 2),
            ("other event", 10)],
    "chatter": [("chatter", 100)],
    "pushes": [("push to pull", 100)],
}


def build_templates(fake: FakeGitHub, pulls: list[FakePull]) -> dict[str, list[Template]]:
    out: dict[str, list[Template]] = {}
    for n, pull in enumerate(pulls):
        for i, text in enumerate(CHATTER):
            out.setdefault("chatter", []).append(template(
                "chatter", "issue_comment",
                fake.comment_payload(pull, ["bob", "carol", "dave"][i % 3], text), 200))
        edited = fake.comment_payload(pull, "bob", "atlantis plan")
        edited["action"] = "edited"  # an edit never runs a command again
        out.setdefault("comment edited", []).append(
            template("comment edited", "issue_comment", edited, 200))
        out.setdefault("bot comment", []).append(template(
            "bot comment", "issue_comment",
            fake.comment_payload(pull, fake.bot_login, "atlantis plan\n\nRan Plan"), 200))
        fake.review(pull, "bob", "APPROVED")
        out.setdefault("review approved", []).append(template(
            "review approved", "pull_request_review",
            fake.review_payload(pull, "bob", "approved"), 202))
        out.setdefault("review commented", []).append(template(
            "review commented", "pull_request_review",
            fake.review_payload(pull, "carol", "commented"), 200))
        out.setdefault("push to pull", []).append(template(
            "push to pull", "pull_request", fake.pull_request_payload(pull, "synchronize"), 202))
        out.setdefault("other event", []).append(template(
            "other event", OTHER_EVENTS[n % len(OTHER_EVENTS)],
            {"ref": "refs/heads/main", "repository": {"full_name": pull.repo.full_name}}, 200))
    return out


class Deliveries:
    """Builds request i: a delivery of a kind drawn by weight (seeded), with its own
    delivery id; remembers what was sent so answers can be checked."""

    def __init__(self, templates: dict[str, list[Template]], weights: list[tuple[str, int]],
                 count: int, seed: int) -> None:
        rng = random.Random(seed)
        kinds = [k for k, w in weights for _ in range(w)]
        self.plan: list[Template] = []
        for _ in range(count):
            choices = templates[rng.choice(kinds)]
            self.plan.append(choices[rng.randrange(len(choices))])
        self.ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(count)]

    def __call__(self, index: int) -> openloop.Request:
        t = self.plan[index]
        return t.body, {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/bench",
            "X-GitHub-Event": t.event,
            "X-GitHub-Delivery": self.ids[index],
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": t.signature,
        }


class PlanLoop:
    """Keeps one plan running: comments `atlantis plan` on a pull request that
    changes a Terraform project each time the previous plan comment arrived."""

    def __init__(self, fake: FakeGitHub, pull: FakePull, url: str) -> None:
        self.fake, self.pull, self.url = fake, pull, url
        self.plans = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-plans", daemon=True)

    def _run(self) -> None:
        self.fake.webhook_url, self.fake.webhook_secret = self.url, SECRET
        while not self._stop.is_set():
            before = len(self.fake.comments(self.pull))
            payload = self.fake.comment_payload(self.pull, "alice", "atlantis plan")
            status, _ = self.fake.deliver("issue_comment", payload)
            if status != 202:
                raise RuntimeError(f"atlantis plan answered {status}")
            while not self._stop.is_set() and len(self.fake.comments(self.pull)) <= before:
                time.sleep(0.05)
            if len(self.fake.comments(self.pull)) > before:
                self.plans += 1

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


@contextmanager
def cpu_hog(enabled: bool) -> Iterator[None]:
    """A process spinning on one core, for runs beside other work."""
    if not enabled:
        yield
        return
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        hog.kill()
        hog.wait()


@contextmanager
def fake_github(tmp: Path) -> Iterator[FakeGitHub]:
    sys.path.insert(0, str(ROOT))
    from tests.fakeforge.github import FakeGitHub

    with FakeGitHub(tmp) as fake:
        yield fake


TF_PROJECT = 'resource "terraform_data" "bench" {\n  input = "%s"\n}\n'


def make_pulls(fake: FakeGitHub, busy: int) -> tuple[list[FakePull], FakePull]:
    """`busy` pull requests changing no Terraform, and one that changes a project."""
    repo = fake.create_repo("bench/infra", {"README.md": "bench\n",
                                            "network/main.tf": TF_PROJECT % "v1"})
    pulls = [fake.open_pull(repo, branch=f"busy-{n}", changes={f"notes/{n}.txt": "x\n"})
             for n in range(busy)]
    planned = fake.open_pull(repo, branch="planned", changes={"network/main.tf": TF_PROJECT % "v2"})
    return pulls, planned


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass(frozen=True)
class Figures:
    scenario: str
    rate: float
    duration: float
    senders: int
    keepalive: bool
    cpu_hog: bool
    warmup_sent: int
    sent: int
    acknowledged: int
    errors: int
    wrong_answers: int
    by_kind: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    client_lag_p99_ms: float
    throughput: float
    queued: int
    lost: int
    drained: bool
    drain_s: float
    jobs: dict[str, int]
    plans_during_load: int
    web_cpu_cores: float
    worker_cpu_cores: float
    web_cpu_ms_per_delivery: float
    bench_cpu_cores: float
    target_p99_ms: float
    nproc: int
    python: str
    loadavg_before: float  # 1-minute load average before the run: other work on the machine

    @property
    def passed(self) -> bool:
        return (self.p99_ms < self.target_p99_ms and self.lost == 0 and self.errors == 0
                and self.wrong_answers == 0 and self.drained)


def print_table(f: Figures) -> None:
    conns = "keep-alive" if f.keepalive else "new connection each"
    hog = ", beside a CPU hog on one core" if f.cpu_hog else ""
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(f.by_kind.items()))
    jobs = ", ".join(f"{k} {v}" for k, v in sorted(f.jobs.items())) or "none"
    verdict = "PASS" if f.passed else "FAIL"
    rows = [
        ("load", (f"{f.scenario}: {f.rate:g}/s for {f.duration:g} s, {f.senders} senders, "
                 f"{conns}{hog}")),
        ("sent", f"{f.sent} (+{f.warmup_sent} warm-up, not timed): {kinds}"),
        ("acknowledged", f"{f.acknowledged} (2xx)"),
        ("errors", (f"{f.errors} (non-2xx or no response); {f.wrong_answers} wrong answers "
                   "(200 for work or 202 for chatter); warm-up included")),
        ("ack latency", (f"p50 {f.p50_ms:.1f} ms  p90 {f.p90_ms:.1f} ms  "
                         f"p99 {f.p99_ms:.1f} ms  max {f.max_ms:.1f} ms")),
        ("client lag", f"p99 {f.client_lag_p99_ms:.1f} ms (send started after its due time)"),
        ("throughput", f"{f.throughput:.1f} acks/s"),
        ("queued", f"{f.queued} answered 202; lost {f.lost} (not in the deliveries table)"),
        ("drain", f"{f.drain_s:.2f} s after the last ack" if f.drained
                  else f"NOT drained after {f.drain_s:.0f} s"),
        ("jobs", jobs),
        ("plans", f"{f.plans_during_load} plan comments while loaded"),
        ("cpu", (f"web {f.web_cpu_cores:.2f} cores ({f.web_cpu_ms_per_delivery:.2f} ms a "
                 f"delivery), workers {f.worker_cpu_cores:.2f} cores with git/terraform, "
                 f"bench {f.bench_cpu_cores:.2f} cores ({f.nproc} cores, Python {f.python}; "
                 f"load average {f.loadavg_before:.2f} before the run)")),
        ("target", f"p99 < {f.target_p99_ms:g} ms, all answered right, none lost: {verdict}"),
    ]
    for name, value in rows:
        print(f"{name:<13} {value}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="mix")
    p.add_argument("--rate", type=float, default=300.0, help="deliveries per second")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of timed load")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of untimed load first")
    p.add_argument("--senders", type=int, default=32, help="sender threads")
    p.add_argument("--keepalive", action="store_true",
                   help="reuse connections instead of one TCP connection per delivery")
    p.add_argument("--busy-pulls", type=int, default=3, help="pull requests the chatter is on")
    p.add_argument("--no-plans", action="store_true",
                   help="mix without the plan running beside the load")
    p.add_argument("--cpu-hog", action="store_true", help="spin one core during the run")
    p.add_argument("--seed", type=int, default=1, help="seed of the delivery mix")
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
    warm_count, count = int(args.rate * args.warmup), int(args.rate * args.duration)
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="atlantis-bench-")) if args.keep else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="atlantis-bench-")))
        fake = stack.enter_context(fake_github(tmp))
        pulls, planned = make_pulls(fake, args.busy_pulls)
        templates = build_templates(fake, pulls)
        weights = SCENARIOS[args.scenario]
        warm = Deliveries(templates, weights, warm_count, args.seed)
        timed = Deliveries(templates, weights, count, args.seed + 1)
        server = stack.enter_context(running_server(
            tmp / "data", gh_token=fake.token, secret=SECRET, api_url=fake.api_url,
            allowlist="bench/*", worker_threads=args.worker_threads, log_level=args.log_level,
            gh_user=fake.bot_login))
        assert server.proc is not None
        stack.enter_context(cpu_hog(args.cpu_hog))
        keepalive = args.keepalive
        warm_load = openloop.run("127.0.0.1", server.port, "/events", warm, rate=args.rate,
                                 count=warm_count, senders=args.senders, keepalive=keepalive)
        plans = stack.enter_context(PlanLoop(fake, planned, f"{server.url}/events")) \
            if args.scenario == "mix" and not args.no_plans else None
        web_before, workers_before = process_cpu(server.proc.pid)
        bench_before = own_cpu_seconds()
        planned_before = plans.plans if plans else 0
        load = openloop.run("127.0.0.1", server.port, "/events", timed, rate=args.rate,
                            count=count, senders=args.senders, keepalive=keepalive)
        wall = max(load.wall, 1e-9)
        web_after, workers_after = process_cpu(server.proc.pid)
        bench_cpu = (own_cpu_seconds() - bench_before) / wall
        plans_during = (plans.plans - planned_before) if plans else 0
        if plans:
            plans.__exit__()
        drain = wait_drained(server.db_path, args.drain_timeout, since=load.finished)
        stored = stored_delivery_ids(server.db_path)
        answers = [(warm, o) for o in warm_load.outcomes] + [(timed, o) for o in load.outcomes]
        queued_ids = [d.ids[o.index] for d, o in answers if o.status == 202]
        ms = [o.latency * 1000 for o in load.acked]
        result = Figures(
            scenario=args.scenario, rate=args.rate, duration=args.duration,
            senders=args.senders, keepalive=keepalive, cpu_hog=args.cpu_hog,
            warmup_sent=len(warm_load.outcomes), sent=len(load.outcomes),
            acknowledged=len(load.acked),
            errors=len(warm_load.errors) + len(load.errors),
            wrong_answers=sum(1 for d, o in answers
                              if 200 <= o.status < 300 and o.status != d.plan[o.index].expect),
            by_kind=dict(Counter(t.kind for t in timed.plan)),
            p50_ms=openloop.percentile(ms, 50), p90_ms=openloop.percentile(ms, 90),
            p99_ms=openloop.percentile(ms, 99), max_ms=max(ms, default=0.0),
            client_lag_p99_ms=openloop.percentile([o.lag * 1000 for o in load.outcomes], 99),
            throughput=len(load.acked) / wall,
            queued=len(queued_ids), lost=sum(1 for i in queued_ids if i not in stored),
            drained=drain[0], drain_s=drain[1], jobs=job_counts(server.db_path),
            plans_during_load=plans_during,
            web_cpu_cores=(web_after - web_before) / wall,
            worker_cpu_cores=(workers_after - workers_before) / wall,
            web_cpu_ms_per_delivery=(web_after - web_before) * 1000 / max(1, len(load.outcomes)),
            bench_cpu_cores=bench_cpu, target_p99_ms=args.target_p99_ms,
            nproc=os.cpu_count() or 0, python=platform.python_version(),
            loadavg_before=loadavg)
        if args.keep:
            print(f"kept {tmp} (server log: {server.log_path})", file=sys.stderr)
    if args.json:
        print(json.dumps({**asdict(result), "passed": result.passed}, indent=2))
    else:
        print_table(result)
    return 0 if result.passed or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
