"""Worker processes beside the web process, woken through a pipe.

The web process only verifies, stores and acknowledges; terraform runs, forge
calls and rendering happen in children, so they never compete with the request
path for the interpreter lock. Each child gets the read end of its own pipe: a
byte means "new work", end-of-file means "the server is gone, finish and exit".
Children get their settings in their environment, never on their command line,
which every user of the machine can read.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from atlantis_py.queue.jobs import JobQueue

log = logging.getLogger(__name__)

RESPAWN_DELAY = 1.0


class _Child:
    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None) -> None:
        read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        self.proc = subprocess.Popen([*argv, "--wake-fd", str(read_fd)], pass_fds=(read_fd,),
                                     env=None if env is None else dict(env))
        os.close(read_fd)

    def wake(self) -> None:
        try:
            os.write(self.write_fd, b".")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups the child has yet to read: enough
        except OSError:
            pass  # the child is gone; the monitor restarts it

    def close(self) -> None:
        try:
            os.close(self.write_fd)
        except OSError:
            pass


class WorkerProcesses:
    """Starts `count` children running `argv` and keeps them running; `env`
    (default: this process's) is their whole environment."""

    def __init__(self, argv: Sequence[str], count: int,
                 env: Mapping[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.count = count
        self.env = None if env is None else dict(env)
        self._children: list[_Child] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="atlantis-workers",
                                         daemon=True)
        self._pending = threading.Event()
        self._waker = threading.Thread(target=self._wake_children, name="atlantis-waker",
                                       daemon=True)

    def start(self) -> None:
        with self._lock:
            self._children = [_Child(self.argv, self.env) for _ in range(self.count)]
        self._monitor.start()
        self._waker.start()
        log.info("started %d worker process(es)", self.count)

    def wake(self) -> None:
        """Called on the request path for every stored job: it only flags the
        waker thread, which writes to the pipes. A request thread then makes no
        system call that wakes another process, and a burst of jobs costs the
        children one wake-up, not one per job."""
        self._pending.set()

    def _wake_children(self) -> None:
        while True:
            self._pending.wait()
            if self._stopping.is_set():
                return
            self._pending.clear()
            with self._lock:
                children = list(self._children)
            for child in children:
                child.wake()

    def stop(self, timeout: float = 60) -> None:
        """Closing the pipes lets each child finish its current job and exit."""
        self._stopping.set()
        self._pending.set()  # lets the waker thread see _stopping and end
        with self._lock:
            children = list(self._children)
        for child in children:
            child.close()
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %d did not stop in time; terminating", child.proc.pid)
                child.proc.terminate()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                children = list(self._children)
            for i, child in enumerate(children):
                code = child.proc.poll()
                if code is None or self._stopping.is_set():
                    continue
                log.error("worker process %d exited with %s; starting a new one",
                          child.proc.pid, code)
                child.close()
                time.sleep(RESPAWN_DELAY)
                if self._stopping.is_set():
                    break
                with self._lock:
                    self._children[i] = _Child(self.argv, self.env)
                    self._children[i].wake()
            self._stopping.wait(0.5)


def follow_wake_pipe(fd: int, queue: JobQueue, on_eof: Callable[[], None]) -> threading.Thread:
    """In a worker child: turn bytes on the pipe into queue wake-ups."""
    def run() -> None:
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while True:
                data = pipe.read(4096)
                if not data:
                    break
                queue.wake()
        log.info("the server closed the wake pipe; stopping after the current job")
        on_eof()

    thread = threading.Thread(target=run, name="atlantis-wake", daemon=True)
    thread.start()
    return thread


def worker_argv(log_level: str) -> list[str]:
    """How to start a worker child; its settings come in its environment."""
    return [sys.executable, "-m", "atlantis_py", "--log-level", log_level, "worker"]
