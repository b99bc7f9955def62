"""bench/faults.py --quick runs in the suite, so the fault benchmark cannot rot:
a real server process, the fake GitHub failing on demand, real terraform, and
kill -9 mid-apply. Its figures of time are not checked here (bench/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


def test_the_quick_fault_benchmark_loses_duplicates_and_reapplies_nothing() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--json"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    cases = {c["case"]: c for c in result["cases"]}
    assert set(cases) == {"outage: autoplan", "outage: command", "outage: apply report",
                          "rate limit", "kill -9 mid-apply #1", "kill -9 mid-apply #2"}
    assert result["totals"] == {"lost": 0, "duplicated": 0, "reapplied": 0}
    assert all(c["delay_s"] is not None for c in cases.values()), "every case was answered"
