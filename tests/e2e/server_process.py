"""`atlantis-py server` as a real child process, for restart and crash tests (and
for the benchmarks in bench/, which drive the same process)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """Settings come from `env` (ATLANTIS_* variables) and `args` (flags).
    `new_session` starts it in its own process group, so a crash test can kill
    the server and its worker processes at once (os.killpg) and nothing else."""

    def __init__(self, data_dir: Path, env: Mapping[str, str], port: int,
                 args: Sequence[str] = (), log_level: str = "info",
                 new_session: bool = False) -> None:
        self.new_session = new_session
        self.data_dir = data_dir
        self.env = dict(env)
        self.port = port
        self.args = list(args)
        self.log_level = log_level
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "atlantis.db"

    def start(self, timeout: float = 120) -> None:
        env = {**os.environ, **self.env, "ATLANTIS_DATA_DIR": str(self.data_dir),
               "ATLANTIS_PORT": str(self.port), "ATLANTIS_HOST": "127.0.0.1"}
        argv = [sys.executable, "-m", "atlantis_py", "--log-level", self.log_level, "server",
                *self.args]
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=self.new_session)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not become ready; see {self.log_path}")

    def pending(self) -> int:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("atlantis_jobs_pending "):
                    return int(line.split()[1])
        raise RuntimeError("no atlantis_jobs_pending metric")

    def settle(self, timeout: float = 120) -> None:
        """Across processes there is no condition to wait on: poll the metric."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return
            if self.pending() == 0:
                return
            time.sleep(0.05)
        raise TimeoutError("jobs did not settle")

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (Linux /proc)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def wait_exit(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
