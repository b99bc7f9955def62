"""`atlantis-py server` as a real child process, for restart and crash tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path


class ServerProcess:
    def __init__(self, data_dir: Path, env: Mapping[str, str], port: int) -> None:
        self.data_dir = data_dir
        self.env = dict(env)
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        env = {**os.environ, **self.env, "ATLANTIS_DATA_DIR": str(self.data_dir),
               "ATLANTIS_PORT": str(self.port), "ATLANTIS_HOST": "127.0.0.1"}
        out = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "atlantis_py", "server"],
                                     env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not become ready")

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

    def wait_exit(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
