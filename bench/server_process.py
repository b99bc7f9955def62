"""`atlantis-py server` as a separate process (tests/e2e/server_process.py), and
read-only looks at its database."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.server_process import ServerProcess, free_port

__all__ = ["ServerProcess", "free_port", "job_counts", "process_cpu", "running_server",
           "stored_deliveries", "stored_delivery_ids", "wait_drained"]


@contextmanager
def running_server(data_dir: Path, *, gh_token: str, secret: str, api_url: str,
                   allowlist: str, worker_threads: int = 2, log_level: str = "info",
                   gh_user: str = "atlantis", ready_timeout: float = 60.0
                   ) -> Iterator[ServerProcess]:
    """Runs `python -m atlantis_py server` until the block ends (then SIGTERM)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(data_dir, {}, free_port(), log_level=log_level, args=[
        "--gh-token", gh_token, "--gh-webhook-secret", secret, "--gh-api-url", api_url,
        "--gh-user", gh_user, "--repo-allowlist", allowlist,
        "--worker-threads", str(worker_threads)])
    try:
        server.start(ready_timeout)
        yield server
    finally:
        server.stop()


def _connect(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)


def stored_deliveries(db_path: Path) -> int:
    with closing(_connect(db_path)) as db:
        return int(db.execute("SELECT count(*) FROM deliveries").fetchone()[0])


def stored_delivery_ids(db_path: Path) -> set[str]:
    with closing(_connect(db_path)) as db:
        return {str(row[0]) for row in db.execute("SELECT delivery_id FROM deliveries")}


CLOCK_TICKS = 100  # os.sysconf("SC_CLK_TCK") on Linux


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu(pid: int) -> tuple[float, float]:
    """(CPU seconds of `pid` itself, CPU seconds of its descendants: their own time
    plus that of the processes they reaped, e.g. a worker's git and terraform)."""
    own = _stat(pid)
    children = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(int(entry.name))
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields[1] is the parent pid
            grand = process_cpu(int(entry.name))
            children += sum(int(f) for f in fields[11:15]) / CLOCK_TICKS + grand[1]
    return (int(own[11]) + int(own[12])) / CLOCK_TICKS, children


def job_counts(db_path: Path) -> dict[str, int]:
    with closing(_connect(db_path)) as db:
        rows = db.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall()
        return {str(status): int(n) for status, n in rows}


def wait_drained(db_path: Path, timeout: float, since: float) -> tuple[bool, float]:
    """(drained, seconds from `since`) once no job is queued or running."""
    with closing(_connect(db_path)) as db:
        while True:
            pending = db.execute("SELECT count(*) FROM jobs WHERE status IN "
                                 "('queued', 'running')").fetchone()[0]
            elapsed = time.perf_counter() - since
            if pending == 0:
                return True, elapsed
            if elapsed >= timeout:
                return False, elapsed
            time.sleep(0.02)
