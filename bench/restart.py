"""Benchmark: restart to ready < 2 s and < 150 MB resident with 10,000 IPRs stored.

Builds a data dir whose SQLite database holds `--iprs` pull requests (IPRs) with
what a server accumulates around them: project runs with plan output of a few
KB, audit events, finished webhook jobs with their deliveries, reviews and
locks. The schema comes from `Database(url).migrate()`; a sample of IPRs goes
through the stores (PullStore.upsert/start_run/finish_run, AuditLog.record),
the bulk through SQLAlchemy Core inserts into the same tables.

Then `--restarts` times: start `.venv/bin/atlantis-py server` (GitHub configured
against a fake GitHub in this process, default worker settings), and measure

  ready     Popen -> first `/healthz` 200 (polled every 5 ms)
  worker    Popen -> the worker child logging "worker ... ready"
  memory    VmRSS (and RssAnon/RssFile) of the server process and each child,
            at ready, after 3 s idle, and after `GET /api/v1/ipr?per_page=200`
            (pages 1 and the last) with a viewer token

and stop it with SIGTERM. The same is done on an empty data dir for comparison.

    .venv/bin/python bench/restart.py [--iprs 10000] [--restarts 5] [--json] [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from server_process import free_port
from webhook_ack import fake_github

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECRET = "bench-webhook-secret"
TARGET_READY_S = 2.0
TARGET_RSS_MB = 150.0
EXE = ROOT / ".venv" / "bin" / "atlantis-py"

PLAN_TEMPLATE = """Terraform used the selected providers to generate the following execution
plan. Resource actions are indicated with the following symbols:
  + create
  ~ update in-place

Terraform will perform the following actions:
{body}
Plan: {add} to add, {change} to change, 0 to destroy.
"""
RESOURCE = """
  # aws_security_group_rule.{name}[{i}] will be updated in-place
  ~ resource "aws_security_group_rule" "{name}" {{
        id                = "sgrule-{n}"
      ~ cidr_blocks       = [
          - "10.{i}.0.0/16",
          + "10.{j}.0.0/16",
        ]
        # (7 unchanged attributes hidden)
    }}
"""


def plan_output(rng: random.Random) -> tuple[str, int, int]:
    n = rng.randint(8, 24)  # ~2.5-7 KB
    body = "".join(RESOURCE.format(name=f"rule_{rng.randint(1, 99)}", i=i, j=i + 1,
                                   n=rng.randint(10**8, 10**9)) for i in range(n))
    add = rng.randint(0, 3)
    return PLAN_TEMPLATE.format(body=body, add=add, change=n), add, n


# --- building the database --------------------------------------------------------------

def build_data_dir(data: Path, iprs: int, seed: int = 1) -> dict[str, Any]:
    from sqlalchemy import insert

    from atlantis_py.domain.events import PullRequest, Repo
    from atlantis_py.domain.results import PlanCounts, ProjectResult, RunStatus
    from atlantis_py.store.audit import AuditLog
    from atlantis_py.store.db import Database
    from atlantis_py.store.pulls import PullStore
    from atlantis_py.store.tables import (
        AuditRow,
        DeliveryRow,
        JobRow,
        LockRow,
        PullRow,
        ReviewRow,
        RunRow,
    )

    started = time.perf_counter()
    rng = random.Random(seed)
    data.mkdir(parents=True, exist_ok=True)
    db = Database(f"sqlite:///{(data / 'atlantis.db').resolve()}")
    db.migrate()
    repos = [f"acme/service-{i:02d}" for i in range(40)]

    # A sample through the stores: the rows look exactly like the server's own.
    pulls, audit = PullStore(db), AuditLog(db)
    sample = min(iprs, 20)
    for k in range(sample):
        sample_repo = Repo(forge="github", full_name="acme/sample",
                           clone_url="https://github.com/acme/sample.git")
        pr = PullRequest(repo=sample_repo, number=k + 1, head_sha=f"{k:040x}", head_ref=f"feat-{k}",
                         base_ref="main", author="alice", title=f"Sample change {k}")
        rec = pulls.upsert(pr)
        out, add, change = plan_output(rng)
        run = pulls.start_run(rec.id, "network", "network", "default", "plan", pr.head_sha,
                              "alice", f"/data/plans/{k}.tfplan")
        pulls.finish_run(run, ProjectResult(
            project="network", dir="network", workspace="default", command="plan",
            status=RunStatus.SUCCESS, head_sha=pr.head_sha, output=out,
            counts=PlanCounts(add=add, change=change, destroy=0, replace=0)))
        audit.record(pull_id=rec.id, forge="github", repo=sample_repo.full_name, pull_number=k + 1,
                     actor="alice", action="opened", head_sha=pr.head_sha, detail=pr.title)

    states = ["PENDING"] * 3 + ["APPROVED"] * 2 + ["DEPLOYED"] * 8 + ["CANCELLED"] * 4 + [
        "REJECTED", "FAILED"]
    base = datetime(2024, 1, 1)
    counts = {"pull_requests": sample, "project_runs": sample, "audit_events": sample,
              "jobs": 0, "deliveries": 0, "reviews": 0, "locks": 0}
    with db.engine.begin() as conn:
        pull_rows, run_rows, audit_rows, job_rows, delivery_rows = [], [], [], [], []
        review_rows, lock_rows = [], []
        locked: set[tuple[str, str]] = set()
        for k in range(sample, iprs):
            pid = k + 1
            repo = repos[k % len(repos)]
            number = k // len(repos) + 1
            state = rng.choice(states)
            is_open = state in ("PENDING", "APPROVED")
            created = base + timedelta(minutes=7 * k)
            head = f"{rng.getrandbits(160):040x}"
            pull_rows.append({
                "id": pid, "forge": "github", "repo": repo, "number": number, "author": f"dev{k % 37}",
                "title": f"Change {k}: adjust network rules", "head_sha": head,
                "head_ref": f"feature/{k}", "base_ref": "main",
                "clone_url": f"https://github.com/{repo}.git", "state": state, "open": is_open,
                "created_at": created, "updated_at": created + timedelta(hours=2),
                "description": "Adjusts the security group rules.\n" * 3,
                "base_config": "version: 1\nprojects:\n  - dir: network\n",
                "pending_since": created if state == "PENDING" else None})
            for r in range(rng.choice((1, 2, 2, 3))):  # plans (a push re-plans)
                out, add, change = plan_output(rng)
                run_rows.append({
                    "pull_id": pid, "project": "network", "dir": "network", "workspace": "default",
                    "command": "plan", "head_sha": head, "status": "success", "output": out, "error": None,
                    "add": add, "change": change, "destroy": 0, "replace": 0,
                    "plan_path": f"/data/plans/github/{repo}/{number}/{head}.tfplan",
                    "actor": f"dev{k % 37}", "started_at": created + timedelta(minutes=r),
                    "finished_at": created + timedelta(minutes=r, seconds=40),
                    "environment": "production" if k % 3 == 0 else "default",
                    "reasons": "network/main.tf changed", "deleted": False, "source_sha": None})
            if state == "DEPLOYED":
                run_rows.append({
                    "pull_id": pid, "project": "network", "dir": "network", "workspace": "default",
                    "command": "apply", "head_sha": head, "status": "success",
                    "output": "Apply complete! Resources: 1 added, 4 changed, 0 destroyed.\n" * 20,
                    "error": None, "add": None, "change": None, "destroy": None, "replace": None,
                    "plan_path": "", "actor": "bob", "started_at": created + timedelta(hours=1),
                    "finished_at": created + timedelta(hours=1, seconds=50),
                    "environment": "default", "reasons": "", "deleted": False, "source_sha": None})
            for a, action in enumerate(("opened", "plan:success", "state:PENDING",
                                        "review:approved", f"state:{state}")):
                audit_rows.append({
                    "pull_id": pid, "forge": "github", "repo": repo, "pull_number": number,
                    "actor": f"dev{(k + a) % 37}", "action": action, "head_sha": head,
                    "project": "network" if action.startswith("plan") else "",
                    "at": created + timedelta(minutes=10 * a),
                    "detail": "1 to add, 4 to change, 0 to destroy" if a == 1 else ""})
            if state in ("APPROVED", "DEPLOYED"):
                review_rows.append({"pull_id": pid, "user": "bob", "state": "approved",
                                        "commit_sha": head, "comment": "lgtm",
                                        "at": created + timedelta(minutes=30)})
            if is_open and (repo, "network") not in locked:
                locked.add((repo, "network"))
                lock_rows.append({"forge": "github", "repo": repo, "dir": "network",
                                      "workspace": "default", "pull_id": pid, "pull_number": number,
                                      "project": "network", "created_at": created})
            for j in range(2):  # opened + synchronize deliveries, long finished
                delivery = f"{rng.getrandbits(128):032x}"
                body = json.dumps({"action": "synchronize" if j else "opened",
                                   "number": number, "pull_request": {
                                       "number": number, "title": f"Change {k}",
                                       "body": "x" * 2500, "head": {"sha": head}},
                                   "repository": {"full_name": repo}})
                job_rows.append({
                    "kind": "webhook", "serial_key": f"github:{repo}#{number}",
                    "payload": f"github\npull_request\n{body}", "status": "done", "attempts": 1,
                    "delivery_id": delivery, "worker": "host:1:abcd", "error": "",
                    "created_at": created + timedelta(minutes=j),
                    "started_at": created + timedelta(minutes=j),
                    "finished_at": created + timedelta(minutes=j, seconds=45), "lease_until": None})
                delivery_rows.append({"forge": "github", "delivery_id": delivery,
                                          "event_type": "pull_request",
                                          "received_at": created + timedelta(minutes=j)})
            if len(run_rows) > 5000 or k == iprs - 1:
                for table, rows, name in (
                        (PullRow, pull_rows, "pull_requests"), (RunRow, run_rows, "project_runs"),
                        (AuditRow, audit_rows, "audit_events"), (JobRow, job_rows, "jobs"),
                        (DeliveryRow, delivery_rows, "deliveries"),
                        (ReviewRow, review_rows, "reviews"), (LockRow, lock_rows, "locks")):
                    if rows:
                        conn.execute(insert(table), rows)
                        counts[name] += len(rows)
                        rows.clear()
    db.dispose()
    size = sum(p.stat().st_size for p in data.glob("atlantis.db*"))
    return {"rows": counts, "db_mb": size / 2**20, "build_s": time.perf_counter() - started}


def create_token(data: Path) -> str:
    out = subprocess.run([str(EXE), "token", "create", "--user", "bench", "--role", "viewer",
                          "--data-dir", str(data)], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[0]


# --- memory -----------------------------------------------------------------------------

def status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def descendants(pid: int) -> list[int]:
    """Children (recursively) found by scanning /proc for their parent pid."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found.extend(kids)
        frontier.extend(kids)
    return sorted(found)


def memory(pid: int) -> dict[str, Any]:
    procs = {"server": status_kb(pid)}
    for i, child in enumerate(descendants(pid)):
        try:
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            name = "worker" if b"worker" in cmd else cmd[0].decode()
            procs[f"{name}{i or ''}" if name != "worker" or i else "worker"] = status_kb(child)
        except OSError:
            continue
    total = sum(p.get("VmRSS", 0) for p in procs.values())
    return {"procs": procs, "total_mb": total / 1024}


# --- one restart ------------------------------------------------------------------------

def get(url: str, token: str | None = None, timeout: float = 5) -> tuple[int, bytes]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def one_restart(data: Path, fake: Any, token: str, idle: float, log: Path,
                extra: list[str]) -> dict[str, Any]:
    port = free_port()
    argv = [str(EXE), "server", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data), "--gh-token", fake.token, "--gh-webhook-secret", SECRET,
            "--gh-api-url", fake.api_url, "--gh-user", fake.bot_login,
            "--repo-allowlist", "acme/*", *extra]
    log.write_text("")
    base = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    result: dict[str, Any] = {}
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if get(f"{base}/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - started > 60:
                raise RuntimeError("not ready after 60 s")
            time.sleep(0.005)
        result["ready_s"] = time.perf_counter() - started
        result["mem_ready"] = memory(proc.pid)
        while extra_no_workers(extra) is False and "worker" not in "".join(
                line for line in log.read_text(errors="replace").splitlines(True)
                if line.rstrip().endswith(" ready")):
            if time.perf_counter() - started > 60:
                raise RuntimeError("worker not ready after 60 s")
            time.sleep(0.005)
        result["worker_ready_s"] = time.perf_counter() - started
        time.sleep(idle)
        result["mem_idle"] = memory(proc.pid)
        q0 = time.perf_counter()
        status, body = get(f"{base}/api/v1/ipr?per_page=200", token)
        first = json.loads(body)
        result["query1_ms"] = (time.perf_counter() - q0) * 1000
        pages = max(1, -(-int(first.get("total", 0)) // 200))
        q0 = time.perf_counter()
        status2, _ = get(f"{base}/api/v1/ipr?per_page=200&page={pages}", token)
        result["query_last_ms"] = (time.perf_counter() - q0) * 1000
        result["query_status"] = [status, status2]
        result["total_iprs"] = first.get("total")
        result["mem_query"] = memory(proc.pid)
    finally:
        t0 = time.perf_counter()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        result["stop_s"] = time.perf_counter() - t0
    return result


def extra_no_workers(extra: list[str]) -> bool:
    """With --worker-processes 0 the workers run inside the server: no child to wait for."""
    return any(a in ("--worker-processes=0",) for a in extra) or any(
        a == "--worker-processes" and b == "0" for a, b in itertools.pairwise(extra))


# --- where import memory goes -----------------------------------------------------------

IMPORT_PROBE = """
import sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
print('python', round(rss(), 1))
for name in sys.argv[1:]:
    before = rss()
    __import__(name)
    print(name, round(rss() - before, 1))
"""
PROBE_MODULES = ["sqlalchemy", "sqlalchemy.orm", "alembic.command", "flask", "waitress",
                 "jinja2", "git", "github", "gitlab", "yaml", "atlantis_py.app"]


def import_probe() -> list[tuple[str, float]]:
    out = subprocess.run([sys.executable, "-c", IMPORT_PROBE, *PROBE_MODULES], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [(name, float(mb)) for name, mb in (line.split() for line in out.splitlines())]


# --- main -------------------------------------------------------------------------------

def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def s(xs: list[float]) -> dict[str, float]:
        return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}

    out: dict[str, Any] = {"ready_s": s([r["ready_s"] for r in runs]),
                           "worker_ready_s": s([r["worker_ready_s"] for r in runs])}
    for when in ("mem_ready", "mem_idle", "mem_query"):
        procs = sorted({p for r in runs for p in r[when]["procs"]})
        out[when] = {"total_mb": s([r[when]["total_mb"] for r in runs]), **{
            p: s([r[when]["procs"][p]["VmRSS"] / 1024 for r in runs if p in r[when]["procs"]])
            for p in procs}}
    out["query1_ms"] = s([r["query1_ms"] for r in runs])
    out["query_last_ms"] = s([r["query_last_ms"] for r in runs])
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--iprs", type=int, default=10_000)
    p.add_argument("--restarts", type=int, default=5)
    p.add_argument("--idle", type=float, default=3.0, help="seconds idle before 2nd reading")
    p.add_argument("--no-empty", action="store_true", help="skip the empty data dir runs")
    p.add_argument("--data-dir", type=Path, help="reuse (or build once into) this data dir")
    p.add_argument("--server-arg", action="append", default=[], dest="server_args",
                   help="extra server flag (repeat), e.g. --server-arg=--worker-processes "
                        "--server-arg=0")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-check", action="store_true")
    return p.parse_args(argv)


def print_summary(name: str, info: dict[str, Any], summary: dict[str, Any],
                  runs: list[dict[str, Any]]) -> None:
    print(f"\n== {name} ==")
    if info:
        print(f"data: {info['rows']}, {info['db_mb']:.0f} MB on disk, built in "
              f"{info['build_s']:.1f} s")
    for i, r in enumerate(runs):
        mem = "  ".join(f"{when[4:]} " + "+".join(
            f"{p} {v['VmRSS'] / 1024:.1f}" for p, v in r[when]["procs"].items())
            + f" = {r[when]['total_mb']:.1f} MB" for when in ("mem_ready", "mem_idle",
                                                               "mem_query"))
        print(f"restart {i}: ready {r['ready_s']:.3f} s, worker {r['worker_ready_s']:.3f} s, "
              f"stop {r['stop_s']:.2f} s, query {r['query1_ms']:.0f}/{r['query_last_ms']:.0f} "
              f"ms (load {r['loadavg']:.2f})\n    {mem}")
    s = summary
    print(f"ready to /healthz: min {s['ready_s']['min']:.3f}  median "
          f"{s['ready_s']['median']:.3f}  max {s['ready_s']['max']:.3f} s; worker ready median "
          f"{s['worker_ready_s']['median']:.3f} s")
    for when in ("mem_ready", "mem_idle", "mem_query"):
        parts = "  ".join(f"{p} {v['median']:.1f}" for p, v in s[when].items()
                          if p != "total_mb")
        print(f"RSS {when[4:]:<6} median MB: {parts}  total {s[when]['total_mb']['median']:.1f}"
              f" (max {s[when]['total_mb']['max']:.1f})")
    last = runs[-1]["mem_query"]["procs"]
    print("last run after query, kB: " + "; ".join(
        f"{p}: " + ", ".join(f"{k} {v}" for k, v in vals.items()) for p, vals in last.items()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version(),
                               "loadavg_before": os.getloadavg()[0]}
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="atlantis-bench-")) if args.keep else Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="atlantis-bench-")))
        fake = stack.enter_context(fake_github(tmp))
        cases = [("full", args.iprs)] + ([] if args.no_empty else [("empty", 0)])
        for name, iprs in cases:
            data = (args.data_dir if args.data_dir and name == "full" else tmp / f"data-{name}")
            info: dict[str, Any] = {}
            if not (data / "atlantis.db").exists():
                info = build_data_dir(data, iprs)
                print(f"built {name}: {info}", file=sys.stderr)
            token = create_token(data)
            runs = []
            for i in range(args.restarts):
                load = os.getloadavg()[0]
                r = one_restart(data, fake, token, args.idle, tmp / f"server-{name}.log",
                                args.server_args)
                r["loadavg"] = load
                runs.append(r)
                print(f"{name} restart {i}: ready {r['ready_s']:.3f} s, total RSS "
                      f"{r['mem_ready']['total_mb']:.1f}/{r['mem_idle']['total_mb']:.1f}/"
                      f"{r['mem_query']['total_mb']:.1f} MB", file=sys.stderr)
            results[name] = {"iprs": iprs, "data": info, "runs": runs,
                             "summary": summarise(runs)}
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
    results["imports_mb"] = import_probe()
    results["loadavg_after"] = os.getloadavg()[0]
    full = results["full"]["summary"]
    results["passed"] = (full["ready_s"]["median"] < TARGET_READY_S
                         and full["mem_query"]["total_mb"]["max"] < TARGET_RSS_MB)
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        for name, _ in (("full", 0), ("empty", 0)):
            if name in results:
                print_summary(f"{name}: {results[name]['iprs']} IPRs", results[name]["data"],
                              results[name]["summary"], results[name]["runs"])
        print("\nimport cost in a fresh interpreter (MB RSS, cumulative order): " + ", ".join(
            f"{n} {mb:+.1f}" if n != "python" else f"python {mb:.1f}"
            for n, mb in results["imports_mb"]))
        print(f"\ntarget: ready < {TARGET_READY_S:g} s (median) and total RSS < "
              f"{TARGET_RSS_MB:g} MB (max after query): "
              f"{'PASS' if results['passed'] else 'FAIL'}; {results['nproc']} cores, Python "
              f"{results['python']}, load average {results['loadavg_before']:.2f} before, "
              f"{results['loadavg_after']:.2f} after")
    return 0 if results["passed"] or args.no_check else 1


if __name__ == "__main__":
    sys.exit(main())
