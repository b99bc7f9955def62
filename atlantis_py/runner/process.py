"""One child process (terraform, a run step, a hook): an argv list, never a
shell; its own process group; a deadline, after which it is interrupted so
terraform can release its state locks; output followed line by line when a
sink listens (runner/output.py)."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atlantis_py.runner.output import current_sink, follow

log = logging.getLogger(__name__)

TIMEOUT_RETURNCODE = 124
NOT_FOUND_RETURNCODE = 127
# After the deadline terraform gets SIGINT and this long to release state locks.
_INTERRUPT_GRACE = 30.0


@dataclass(frozen=True)
class TerraformRun:
    """One finished process. `output` is stdout and stderr interleaved."""

    argv: tuple[str, ...]
    returncode: int
    output: str
    duration: float
    ok_codes: tuple[int, ...] = (0,)

    @property
    def ok(self) -> bool:
        return self.returncode in self.ok_codes


def _parent_death_guard() -> tuple[str, ...]:
    """`setpriv --pdeathsig INT --` execs the command with the parent-death signal
    set: one exec of a small binary, instead of an unsafe preexec_fn in a process
    full of threads. Without setpriv (not Linux's util-linux) there is no guard."""
    found = shutil.which("setpriv")
    if found is None:
        log.warning("setpriv not found: terraform may outlive a worker killed mid-run")
        return ()
    return (found, "--pdeathsig", "INT", "--")


_GUARD = _parent_death_guard()


def _runnable(program: str, cwd: Path, env: Mapping[str, str]) -> bool:
    """Whether exec would find `program` (a relative path is relative to `cwd`)."""
    if "/" in program:
        path = Path(program) if program.startswith("/") else cwd / program
        return path.is_file() and os.access(path, os.X_OK)
    return shutil.which(program, path=env.get("PATH", os.defpath)) is not None


def execute(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    ok_codes: tuple[int, ...] = (0,),
    announce: bool = True,
) -> TerraformRun:
    """Run argv (never through a shell) in its own process group. With a sink
    (runner/output.py) each line goes there as it is printed, after argv itself
    unless `announce` is off (a `run` step shows its command as written instead:
    the expanded one may hold a variable's value). On timeout the
    group gets SIGINT (terraform then stops cleanly and unlocks its state),
    then SIGKILL; the result has returncode 124 and says so in its output.
    If this process dies first (kill -9, OOM), the child gets SIGINT too, through
    the parent-death signal, so no terraform outlives the worker that started it."""
    started = time.monotonic()
    args = tuple(argv)
    if not _runnable(args[0], cwd, env):
        message = f"cannot run {args[0]}: not found or not executable\n"
        return TerraformRun(args, NOT_FOUND_RETURNCODE, message, 0.0, ok_codes)
    try:
        proc = subprocess.Popen(
            (*_GUARD, *args),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError) as e:
        message = f"cannot run {args[0]}: {e.strerror}\n"
        return TerraformRun(args, NOT_FOUND_RETURNCODE, message, 0.0, ok_codes)
    sink = current_sink()
    if sink is not None:
        if announce:
            sink.line("$ " + shlex.join((Path(args[0]).name, *args[1:])))
        out, timed_out = follow(proc, timeout, sink, _INTERRUPT_GRACE)
    else:
        out, timed_out = _collect(proc, timeout)
    returncode = proc.returncode
    if timed_out:
        log.warning("%s timed out after %.0f s and was interrupted", args[0], timeout)
        stopped = f"{args[0]} timed out after {timeout:g} seconds and was stopped."
        out += f"\n{stopped}\n".encode()
        if sink is not None:
            sink.line(stopped)
        returncode = TIMEOUT_RETURNCODE
    duration = time.monotonic() - started
    return TerraformRun(args, returncode, out.decode("utf-8", "replace"), duration, ok_codes)


def _collect(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bool]:
    """All output at the end; True when the deadline stopped the process."""
    try:
        out, _ = proc.communicate(timeout=timeout)
        return out, False
    except subprocess.TimeoutExpired:
        return _stop(proc), True


def _stop(proc: subprocess.Popen[bytes]) -> bytes:
    try:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=_INTERRUPT_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    except ProcessLookupError:
        out, _ = proc.communicate()
    return out
