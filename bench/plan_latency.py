"""Benchmark: webhook -> plan comment, against a bare clone + init + plan + show -json.

Target: the plan comment adds <= 150 ms over a bare `git clone` + `terraform
init` + `terraform plan` + `terraform show -json` of the same change, and a
re-plan after a push is no slower than that bare sequence.

For each run the script creates a repository in a fake GitHub (one Terraform
root `network/` with terraform_data resources and a local backend whose state,
applied from `main` beforehand, lives outside the repo; plus ~130 unrelated
files and some history), and then, interleaved:

  bare        `git clone -b BRANCH` into a fresh temp dir, then in network/:
              init, plan -out, show -json (one `bash -c`, timed in Python with
              perf_counter around subprocess.run; same TF_* variables the server
              gives terraform)
  first plan  PR #1 opened -> signed `pull_request` `opened` webhook to a real
              `atlantis-py server` process -> plan comment at the fake (mirror
              created on this PR: cold)
  re-plan     a push to PR #1 -> `synchronize` -> the next plan comment
  warm plan   PR #1 closed (locks released, worktree removed), PR #2 opened in
              the same repo: mirror exists, new worktree, new init

The comment's arrival is taken inside the fake GitHub (a wrapper around its
`add_comment`, called by the HTTP handler thread), not by polling.

    .venv/bin/python bench/plan_latency.py [--runs 5] [--json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from server_process import ServerProcess, running_server, wait_drained
from webhook_ack import fake_github

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"
TARGET_OVERHEAD_MS = 150.0
# What atlantis_py.runner.terraform.Terraform.environment() adds for every run.
TF_ENV = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}


# --- the repository --------------------------------------------------------------------

def network_tf(state: Path, values: dict[str, str]) -> str:
    parts = [(
        'terraform {\n'
        '  required_version = ">= 1.4"\n'
        f'  backend "local" {{ path = "{state}" }}\n'
        '}\n\n'
        'locals {\n  env = "bench"\n  tags = { team = "platform", cost = "net" }\n}\n'
    )]
    for name, value in values.items():
        parts.append(
            f'\nresource "terraform_data" "{name}" {{\n'
            f'  input = {{\n    name  = "{name}"\n    value = "{value}"\n'
            '    env   = local.env\n    tags  = local.tags\n  }\n}\n')
    parts.append('\noutput "ids" {\n  value = { ' + ", ".join(
        f'{n} = terraform_data.{n}.id' for n in values) + ' }\n}\n')
    return "".join(parts)


BASE_VALUES = {f"subnet_{c}": f"10.0.{i}.0/24" for i, c in enumerate("abcdef")}


def unrelated_files() -> dict[str, str]:
    """~130 files (~0.5 MB) that have nothing to do with Terraform."""
    files: dict[str, str] = {"README.md": "# infra\n\nBench repository.\n" * 20}
    body = "".join(f"def handler_{i}(event):\n    return {{'id': {i}, 'ok': True}}\n\n"
                   for i in range(60))
    for i in range(100):
        files[f"app/src/module_{i:03d}.py"] = f"# module {i}\n" + body
    for i in range(30):
        files[f"docs/page_{i:02d}.md"] = f"# Page {i}\n\n" + ("Lorem ipsum dolor sit amet. " * 60
                                                               + "\n") * 4
    return files


def make_repo(fake: Any, name: str, state: Path) -> Any:
    files = unrelated_files()
    files["network/main.tf"] = network_tf(state, BASE_VALUES)
    files["network/README.md"] = "network root\n"
    repo = fake.create_repo(name, files)
    for i in range(10):  # some history
        fake.commit_to_base(repo, {f"docs/page_{i:02d}.md": f"# Page {i}\n\nrevised {i}\n"})
    return repo


def tf_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(TF_ENV)
    return env


def apply_main(repo: Any, tmp: Path) -> None:
    """Put main's resources into the state, so a plan refreshes real state."""
    work = Path(tempfile.mkdtemp(prefix="apply-", dir=tmp))
    subprocess.run(["git", "clone", "-q", repo.clone_url, str(work / "c")], check=True)
    for args in (["init", "-input=false", "-no-color"],
                 ["apply", "-input=false", "-no-color", "-auto-approve"]):
        subprocess.run(["terraform", *args], cwd=work / "c" / "network", env=tf_env(),
                       check=True, capture_output=True)
    shutil.rmtree(work)


BARE_SEQUENCE = ("git clone -q -b \"$1\" \"$2\" c && cd c/network && "
                 "terraform init -input=false -no-color >/dev/null && "
                 "terraform plan -input=false -no-color -out=p.tfplan >/dev/null && "
                 "terraform show -json p.tfplan >/dev/null")


def bare_steps(clone_url: str, branch: str, tmp: Path) -> list[tuple[str, float]]:
    """The same sequence step by step, each step timed (for the breakdown only)."""
    work = Path(tempfile.mkdtemp(prefix="bare-", dir=tmp))
    steps = [("git clone", ["git", "clone", "-q", "-b", branch, clone_url, "c"], work),
             ("terraform init", ["terraform", "init", "-input=false", "-no-color"],
              work / "c" / "network"),
             ("terraform plan", ["terraform", "plan", "-input=false", "-no-color",
                                 "-out=p.tfplan"], work / "c" / "network"),
             ("terraform show -json", ["terraform", "show", "-json", "p.tfplan"],
              work / "c" / "network")]
    out = []
    try:
        for name, argv, cwd in steps:
            started = time.perf_counter()
            subprocess.run(argv, cwd=cwd, env=tf_env(), check=True, capture_output=True)
            out.append((name, time.perf_counter() - started))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bare_sequence(clone_url: str, branch: str, tmp: Path) -> float:
    """Seconds for clone + init + plan + show -json in a fresh directory."""
    work = Path(tempfile.mkdtemp(prefix="bare-", dir=tmp))
    try:
        started = time.perf_counter()
        subprocess.run(["bash", "-c", BARE_SEQUENCE, "bare", branch, clone_url], cwd=work,
                       env=tf_env(), check=True)
        return time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- watching the fake GitHub ----------------------------------------------------------

class CommentClock:
    """Wraps the fake's add_comment/record: wall and perf times of each API comment."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.cv = threading.Condition()
        self.arrivals: list[tuple[int, float, str]] = []  # (pull id, perf time, body)
        self.requests: list[tuple[float, str, str]] = []
        add, record = fake.add_comment, fake.record

        def add_comment(pull: Any, user: str, body: str, via_api: bool) -> Any:
            comment = add(pull, user, body, via_api)
            if via_api:
                with self.cv:
                    self.arrivals.append((pull.id, time.perf_counter(), body))
                    self.cv.notify_all()
            return comment

        def rec(method: str, path: str) -> None:
            self.requests.append((time.perf_counter(), method, path))
            record(method, path)

        fake.add_comment, fake.record = add_comment, rec

    def count(self, pull: Any) -> int:
        with self.cv:
            return sum(1 for p, _, _ in self.arrivals if p == pull.id)

    def wait(self, pull: Any, seen: int, timeout: float = 120) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                mine = [(t, b) for p, t, b in self.arrivals if p == pull.id]
                if len(mine) > seen:
                    return mine[seen]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no comment on #{pull.number} after {timeout} s")
                self.cv.wait(left)


@dataclass
class Timing:
    kind: str
    run: int
    seconds: float
    summary: str = ""
    wall_sent: float = 0.0
    requests: list[str] = field(default_factory=list)


def deliver_and_wait(fake: Any, clock: CommentClock, url: str, pull: Any, action: str,
                     kind: str, run: int) -> Timing:
    payload = fake.pull_request_payload(pull, action)
    seen = clock.count(pull)
    first_request = len(clock.requests)
    wall = time.time()
    started = time.perf_counter()
    status, _ = fake.send_webhook(url, "pull_request", payload, SECRET)
    if status >= 300:
        raise RuntimeError(f"webhook answered {status}")
    arrived, body = clock.wait(pull, seen)
    m = re.search(r"Plan: [^\n]*|No changes[^\n]*", body)
    reqs = [f"{(t - started) * 1000:7.1f} ms {m_} {p}"
            for t, m_, p in clock.requests[first_request:] if t <= arrived + 0.001]
    return Timing(kind, run, arrived - started, m.group(0) if m else body[:80], wall, reqs)


def settle(server: ServerProcess) -> None:
    drained, _ = wait_drained(server.db_path, 120, since=time.perf_counter())
    if not drained:
        raise RuntimeError("jobs did not drain")


# --- where the time goes (server log) --------------------------------------------------

_LOG = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+ \[([^\]]*)\] ([\w.]+): (.*)$")


def log_breakdown(log_path: Path, t: Timing) -> list[str]:
    """Server log lines of the job that handled this delivery, ms after the send."""
    lines = []
    job = None
    for raw in log_path.read_text(errors="replace").splitlines():
        m = _LOG.match(raw)
        if not m:
            continue
        stamp = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if stamp < t.wall_sent - 0.002:
            continue
        ctx, msg = m.group(2), m.group(4)
        if job is None and "started" in msg and ctx.startswith("job="):
            job = ctx
        if ctx == job or (job is None and ctx == "-"):
            msg = re.sub(r"/\S*/(worktrees|mirrors)/\S*/", r"…/\1/…/", msg)
            lines.append(f"{(stamp - t.wall_sent) * 1000:7.0f} ms  {msg[:120]}")
            if "finished" in msg and ctx == job:
                break
    return lines


# --- main ------------------------------------------------------------------------------

def stats(xs: list[float]) -> dict[str, float]:
    ms = [x * 1000 for x in xs]
    return {"n": len(ms), "min": min(ms), "median": statistics.median(ms), "max": max(ms)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=5, help="repositories (each: bare x2, plan, "
                   "re-plan, warm plan)")
    p.add_argument("--verbose", action="store_true", help="print API calls and log lines")
    p.add_argument("--keep", action="store_true", help="keep the temp dir and server log")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-check", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loadavg = os.getloadavg()
    timings: list[Timing] = []
    bare: list[float] = []
    breakdowns: dict[str, list[str]] = {}
    steps: dict[str, list[float]] = {}
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="atlantis-bench-")) if args.keep else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="atlantis-bench-")))
        fake = stack.enter_context(fake_github(tmp))
        clock = CommentClock(fake)
        server = stack.enter_context(running_server(
            tmp / "data", gh_token=fake.token, secret=SECRET, api_url=fake.api_url,
            allowlist="bench/*"))
        url = f"http://127.0.0.1:{server.port}/events"
        for run in range(args.runs):
            state = tmp / "state" / f"r{run}" / "network.tfstate"
            state.parent.mkdir(parents=True, exist_ok=True)
            repo = make_repo(fake, f"bench/infra-{run}", state)
            apply_main(repo, tmp)
            v1 = {**BASE_VALUES, "subnet_b": "10.0.99.0/24", f"subnet_new{run}": "10.1.0.0/24"}
            pull = fake.open_pull(repo, branch=f"change-{run}",
                                  changes={"network/main.tf": network_tf(state, v1)})
            bare.append(bare_sequence(repo.clone_url, pull.branch, tmp))
            for name, secs in bare_steps(repo.clone_url, pull.branch, tmp):
                steps.setdefault(name, []).append(secs)
            timings.append(deliver_and_wait(fake, clock, url, pull, "opened", "first", run))
            settle(server)
            v2 = {**v1, "subnet_c": "10.0.98.0/24"}
            fake.push(pull, {"network/main.tf": network_tf(state, v2)}, "second change")
            bare.append(bare_sequence(repo.clone_url, pull.branch, tmp))
            timings.append(deliver_and_wait(fake, clock, url, pull, "synchronize", "replan",
                                            run))
            settle(server)
            fake.close_pull(pull)
            fake.send_webhook(url, "pull_request", fake.pull_request_payload(pull, "closed"),
                              SECRET)
            settle(server)
            other = fake.open_pull(repo, branch=f"other-{run}",
                                   changes={"network/main.tf": network_tf(state, v1)})
            timings.append(deliver_and_wait(fake, clock, url, other, "opened", "warm", run))
            settle(server)
            for t in timings[-3:]:
                if run == args.runs - 1 or args.verbose:
                    breakdowns[f"{t.kind} run {run}"] = (t.requests + ["-- server log --"]
                                                         + log_breakdown(server.log_path, t))
            print(f"run {run}: bare {bare[-2] * 1000:.0f}/{bare[-1] * 1000:.0f} ms, "
                  + ", ".join(f"{t.kind} {t.seconds * 1000:.0f} ms ({t.summary})"
                              for t in timings[-3:]), file=sys.stderr)
        if args.keep:
            print(f"kept {tmp} (server log: {server.log_path})", file=sys.stderr)
    result: dict[str, Any] = {
        "bare": stats(bare),
        **{k: stats([t.seconds for t in timings if t.kind == k])
           for k in ("first", "replan", "warm")},
        "bare_steps": {k: stats(v) for k, v in steps.items()},
        "nproc": os.cpu_count(), "python": platform.python_version(),
        "loadavg_before": loadavg[0], "loadavg_after": os.getloadavg()[0],
    }
    bare_median = result["bare"]["median"]
    result["first_overhead_ms"] = result["first"]["median"] - bare_median
    result["warm_overhead_ms"] = result["warm"]["median"] - bare_median
    result["replan_vs_bare_ms"] = result["replan"]["median"] - bare_median
    result["passed"] = (result["first_overhead_ms"] <= TARGET_OVERHEAD_MS
                        and result["replan_vs_bare_ms"] <= 0)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name in ("bare", "first", "replan", "warm"):
            s = result[name]
            print(f"{name:<7} n={s['n']:<3} min {s['min']:7.1f}  median {s['median']:7.1f}  "
                  f"max {s['max']:7.1f} ms")
        print(f"overhead (median vs bare median): first plan {result['first_overhead_ms']:+.1f}"
              f" ms (target <= +{TARGET_OVERHEAD_MS:g}), warm-mirror plan "
              f"{result['warm_overhead_ms']:+.1f} ms, re-plan {result['replan_vs_bare_ms']:+.1f}"
              f" ms (target <= 0): {'PASS' if result['passed'] else 'FAIL'}")
        print("bare sequence step by step (separate runs), median ms: " + ", ".join(
            f"{k} {v['median']:.1f}" for k, v in result["bare_steps"].items()))
        print(f"{result['nproc']} cores, Python {result['python']}, load average "
              f"{result['loadavg_before']:.2f} before, {result['loadavg_after']:.2f} after")
        for name, lines in breakdowns.items():
            print(f"\n[{name}] ms after the webhook was sent")
            for line in lines:
                print("   " + line)
    return 0 if result["passed"] or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
