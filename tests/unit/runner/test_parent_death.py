"""A worker killed mid-run takes its terraform down with it (SIGINT through the
parent-death signal), so no orphaned apply writes state after the
"Apply interrupted" report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# A shell's background job (`pytest … &`) starts with SIGINT ignored, and an
# ignored signal stays ignored across exec, so the script would not be
# interrupted: the worker gives its children the default first.
CHILD = """\
import signal
import sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
from pathlib import Path
from atlantis_py.runner.terraform import execute
work = Path(sys.argv[1])
execute([str(work / "slow.sh")], work, {"PATH": "/usr/bin:/bin"}, timeout=120)
"""

SLOW = """\
#!/bin/sh
trap 'echo interrupted > "$(dirname "$0")/signal"; exit 130' INT
echo $$ > "$(dirname "$0")/pid"
while :; do sleep 0.1; done
"""


def _alive(pid: int) -> bool:
    """Running: a zombie (exited, not yet reaped by whoever inherited it, which
    in a container may be a PID 1 that reaps late) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.05)
    return False


def test_the_child_gets_sigint_when_the_worker_is_killed(tmp_path: Path) -> None:
    slow = tmp_path / "slow.sh"
    slow.write_text(SLOW)
    slow.chmod(0o755)
    worker = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)])
    try:
        assert _wait_for(lambda: (tmp_path / "pid").is_file()
                         and (tmp_path / "pid").read_text().strip(), 60), "child never started"
        pid = int((tmp_path / "pid").read_text())
        assert _alive(pid)
        worker.send_signal(signal.SIGKILL)
        worker.wait(60)
        assert _wait_for(lambda: not _alive(pid), 60), "the child outlived its worker"
        assert (tmp_path / "signal").read_text().strip() == "interrupted"
    finally:
        if worker.poll() is None:
            worker.kill()
