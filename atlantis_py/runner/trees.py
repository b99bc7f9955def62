"""Trees for affected detection: a ref of a git repository, or a plain folder.

`GitTree` lists a commit with ONE `git ls-tree -r -z` and reads blobs through
ONE long-lived `git cat-file --batch` process, so reading 2,000+ stack files
costs two processes, not one per file. Blob ids are git's, which key the
detection's parse cache."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from atlantis_py.errors import WorkspaceError


def _git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"})
    env.update(extra or {})
    return env


def _git(repo: Path, args: list[str], timeout: float) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                              env=_git_env(), timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise WorkspaceError(f"git {args[0]} timed out after {timeout:.0f}s") from err
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise WorkspaceError(f"git {' '.join(args[:2])} failed: {message}")
    return done.stdout


def resolve_commit(repo: Path, ref: str, timeout: float = 60) -> str:
    """The commit sha a ref names; WorkspaceError when it names none."""
    try:
        return _git(repo, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                    timeout).decode().strip()
    except WorkspaceError as err:
        raise WorkspaceError(f"{ref!r} names no commit in {repo}") from err


def merge_base(repo: Path, base: str, head: str, timeout: float = 60) -> str:
    """Where `head` branched from `base`: the tree a pull request is compared with."""
    return _git(repo, ["merge-base", base, head], timeout).decode().strip()


def changed_paths(repo: Path, base: str, head: str, timeout: float = 60) -> list[str]:
    """Paths that differ between two commits (`git diff --name-only base head`,
    renames as delete + add so both folders count)."""
    out = _git(repo, ["diff", "--name-only", "-z", "--no-renames", base, head, "--"], timeout)
    return [p for p in out.decode("utf-8", errors="surrogateescape").split("\0") if p]


class GitTree:
    """One commit of a repository; a context manager (the cat-file process)."""

    def __init__(self, repo: Path, ref: str, timeout: float = 120) -> None:
        self.repo = repo
        self.timeout = timeout
        self.commit = resolve_commit(repo, ref, timeout)
        raw = _git(repo, ["ls-tree", "-r", "-z", "--full-tree", self.commit], timeout)
        self._blobs: dict[str, str] = {}
        for entry in raw.split(b"\0"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            _mode, kind, sha = meta.split(b" ")
            if kind == b"blob":
                self._blobs[path.decode("utf-8", errors="surrogateescape")] = sha.decode()
        self._proc: subprocess.Popen[bytes] | None = None
        self._killer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._killer is not None:
            self._killer.cancel()
        if self._proc is not None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout:
                self._proc.stdout.close()
            self._proc = None

    def files(self, prefix: str) -> dict[str, str]:
        if prefix in ("", "."):
            return dict(self._blobs)
        start = prefix.rstrip("/") + "/"
        return {p: s for p, s in self._blobs.items() if p.startswith(start)}

    def read(self, path: str) -> bytes:
        return self.read_many([path])[path]

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        wanted = list(paths)
        shas = [self._blobs[p] for p in wanted]  # KeyError for an absent path
        if not shas:
            return {}
        with self._lock:
            proc = self._batch()
            assert proc.stdin is not None and proc.stdout is not None
            request = "".join(s + "\n" for s in shas).encode()
            writer = threading.Thread(target=_write, args=(proc.stdin, request), daemon=True)
            writer.start()
            out = {}
            try:
                for path, sha in zip(wanted, shas, strict=True):
                    out[path] = _read_object(proc.stdout, sha)
            finally:
                writer.join()
        return out

    def _batch(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "-C", str(self.repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_git_env())
            self._killer = threading.Timer(self.timeout, self._proc.kill)
            self._killer.daemon = True
            self._killer.start()
        return self._proc


def _write(stream: IO[bytes], data: bytes) -> None:
    try:
        stream.write(data)
        stream.flush()
    except (BrokenPipeError, ValueError):
        pass


def _read_object(stream: IO[bytes], sha: str) -> bytes:
    header = stream.readline()
    parts = header.split()
    if len(parts) != 3 or parts[1] != b"blob":
        raise WorkspaceError(f"git cat-file: unexpected reply for {sha}: "
                             f"{header.decode(errors='replace').strip() or 'no answer'}")
    size = int(parts[2])
    data = stream.read(size + 1)
    if len(data) != size + 1:
        raise WorkspaceError(f"git cat-file: short read for {sha} (timed out?)")
    return data[:size]
