"""`atlantis-py server` as a separate process, and read-only looks at its database."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ServerProcess:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path

    @property
    def db_path(self) -> Path:
        return self.data_dir / "atlantis.db"

    @classmethod
    @contextmanager
    def start(cls, data_dir: Path, *, gh_token: str, secret: str, api_url: str,
              allowlist: str, worker_threads: int = 2, log_level: str = "info",
              ready_timeout: float = 60.0) -> Iterator[ServerProcess]:
        """Runs `python -m atlantis_py server` until the block ends (then SIGTERM)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        argv = [sys.executable, "-m", "atlantis_py", "--log-level", log_level, "server",
                "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
                "--gh-token", gh_token, "--gh-webhook-secret", secret,
                "--gh-api-url", api_url, "--repo-allowlist", allowlist,
                "--worker-threads", str(worker_threads)]
        log_path = data_dir.parent / "server.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        server = cls(proc, port, data_dir, log_path)
        try:
            server._wait_ready(ready_timeout)
            yield server
        finally:
            server._stop()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see "
                                   f"{self.log_path}:\n{self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server not healthy after {timeout:g} s; see {self.log_path}")

    def _stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _connect(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)


def stored_deliveries(db_path: Path) -> int:
    with closing(_connect(db_path)) as db:
        return int(db.execute("SELECT count(*) FROM deliveries").fetchone()[0])


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
