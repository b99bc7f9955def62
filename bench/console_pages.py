"""Review-console pages render in < 100 ms with 10,000 IPRs stored.

Seeds a fresh SQLite database with --iprs pull requests (each with a plan run,
spread over a few repositories, environments and states, and a lock for some;
a finished job each, the last 200 failed, and one job with a full log of 5,000
lines),
signs in, and times the main pages through the app in-process (Flask's test
client: the rendering and the database, not the network). One pull request
also exists in a fake GitHub, since an IPR's page asks the forge for its
reviews.

    .venv/bin/python bench/console_pages.py                 # 10,000 IPRs, table
    .venv/bin/python bench/console_pages.py --iprs 500 --rounds 5 --no-check   # a quick run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from atlantis_py.app import Service, create_service
from atlantis_py.domain.records import IPRState, Role
from atlantis_py.settings import Settings
from atlantis_py.store.db import utcnow
from atlantis_py.store.job_logs import MAX_LINES
from atlantis_py.store.tables import JobLogRow, JobRow, LockRow, PullRow, RunRow
from atlantis_py.store.tokens import TokenStore
from atlantis_py.store.web_sessions import WebSessionStore
from tests.fakeforge.github import FakeGitHub

STATES = [s.value for s in IPRState]
ENVIRONMENTS = ["default", "staging", "production"]


def seed(service: Service, count: int, real_number: int) -> int:
    """Bulk-insert `count` IPRs; returns the id of the one the fake forge knows."""
    db = service.db
    now = utcnow()
    pulls = [{"forge": "github", "repo": f"bench/infra-{n % 20}", "number": n + 1000,
              "author": f"user{n % 37}", "title": f"Change {n}", "head_sha": f"{n:040x}",
              "head_ref": f"b{n}", "base_ref": "main", "clone_url": "",
              "state": STATES[n % len(STATES)], "open": True, "created_at": now,
              "updated_at": now - timedelta(seconds=n), "description": "",
              "base_config": ""} for n in range(count - 1)]
    pulls.append({**pulls[0], "repo": "bench/infra", "number": real_number,
                  "head_sha": "0" * 40, "title": "the real one",
                  "clone_url": "https://example.invalid/bench/infra.git"})
    with db.session() as s:
        s.execute(insert(PullRow), pulls)
    with db.session() as s:
        ids = [r[0] for r in s.execute(PullRow.__table__.select().with_only_columns(
            PullRow.id).order_by(PullRow.id)).all()]
        s.execute(insert(RunRow), [
            {"pull_id": pid, "project": "network", "dir": "network", "workspace": "default",
             "command": "plan", "head_sha": "0" * 40, "status": "success",
             "output": "Plan: 1 to add, 0 to change, 0 to destroy.\n" * 40, "error": None,
             "add": 1, "change": 0, "destroy": 0, "replace": 0, "plan_path": "",
             "actor": "bench", "started_at": now, "finished_at": now,
             "environment": ENVIRONMENTS[pid % 3], "reasons": "", "deleted": False,
             "source_sha": None} for pid in ids])
        s.execute(insert(LockRow), [
            {"forge": "github", "repo": f"bench/infra-{pid}", "dir": "network",
             "workspace": "default", "pull_id": pid, "pull_number": pid, "project": "network",
             "created_at": now} for pid in ids[:200]])
        s.execute(insert(JobRow), [
            {"kind": "event", "serial_key": f"github:bench/infra-{n % 20}#{n + 1000}",
             "payload": "{}", "status": "failed" if n >= count - 200 else "done",
             "attempts": 1, "delivery_id": f"d{n}", "worker": "", "error": "",
             "created_at": now, "started_at": now, "finished_at": now,
             "projects": "network"} for n in range(count)])
        logged = s.scalar(JobRow.__table__.select().with_only_columns(JobRow.id)
                          .order_by(JobRow.id.desc()).limit(1))
        s.execute(insert(JobLogRow), [
            {"job_id": logged, "line": f"[network] terraform_data.line_{n}: Creating..."}
            for n in range(MAX_LINES)])
    return ids[-1]


def newest_job(service: Service) -> int:
    with service.db.session() as s:
        found = s.scalar(JobRow.__table__.select().with_only_columns(JobRow.id)
                         .order_by(JobRow.id.desc()).limit(1))
        assert found is not None
        return int(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iprs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--target-ms", type=float, default=100.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-check", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir, FakeGitHub(Path(tmp_dir)) as fake:
        tmp = Path(tmp_dir)
        repo = fake.create_repo("bench/infra", {"README.md": "bench\n"})
        pull = fake.open_pull(repo, changes={"notes.txt": "x\n"})
        service = create_service(Settings(
            gh_token=fake.token, gh_webhook_secret="bench", gh_api_url=fake.api_url,
            gh_user=fake.bot_login, data_dir=tmp / "data", port=0))
        try:
            real = seed(service, args.iprs, pull.number)
            token = TokenStore(service.db).create("user1", Role.REVIEWER)
            started = WebSessionStore(service.db).start(token)
            assert started is not None
            client = service.web_app.test_client()
            client.set_cookie("atl_session", started[0])
            pages = {"list": "/", "awaiting": "/?tab=awaiting",
                     "filtered": "/?state=PENDING&environment=production&repo=bench/infra-3",
                     "page 100": "/?page=100", "ipr": f"/ipr/{real}", "locks": "/locks",
                     "jobs": "/jobs", "failed": "/jobs?show=failed",
                     "all jobs": "/jobs?show=all&page=100",
                     "job log": f"/jobs/{newest_job(service)}"}
            results: dict[str, dict[str, float]] = {}
            for name, path in pages.items():
                assert client.get(path).status_code == 200, path  # warm up
                times = []
                for _ in range(args.rounds):
                    t0 = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200
                times.sort()
                results[name] = {"p50_ms": statistics.median(times),
                                 "p90_ms": times[max(0, int(len(times) * 0.9) - 1)],
                                 "max_ms": times[-1]}
        finally:
            service.stop()
    if args.json:
        print(json.dumps({"iprs": args.iprs, "pages": results}, indent=2))
    else:
        print(f"{args.iprs} IPRs stored, {args.rounds} requests a page")
        print(f"{'page':<10} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8}")
        for name, r in results.items():
            print(f"{name:<10} {r['p50_ms']:8.1f} {r['p90_ms']:8.1f} {r['max_ms']:8.1f}")
    slow = [n for n, r in results.items() if r["p90_ms"] >= args.target_ms]
    if slow and not args.no_check:
        print(f"slower than {args.target_ms} ms (p90): {', '.join(slow)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
