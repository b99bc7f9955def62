"""Real bare git repositories for the fake forges, written with plumbing commands.

Commits are built with a throwaway index (hash-object, update-index, write-tree,
commit-tree), so no working tree is needed and every operation is a few fast
git calls. Clone URLs are plain paths, usable by `git clone` and `git fetch`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# GitHub's names for `git diff --name-status` letters.
_STATUS_NAMES = {
    "A": "added",
    "M": "modified",
    "D": "removed",
    "R": "renamed",
    "C": "copied",
    "T": "changed",
}


@dataclass(frozen=True)
class DiffEntry:
    status: str  # added | modified | removed | renamed | copied | changed
    path: str
    previous_path: str | None = None
    blob_sha: str | None = None


class GitError(RuntimeError):
    pass


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Fake Forge",
        GIT_AUTHOR_EMAIL="fake@forge.invalid",
        GIT_COMMITTER_NAME="Fake Forge",
        GIT_COMMITTER_EMAIL="fake@forge.invalid",
        GIT_TERMINAL_PROMPT="0",
    )
    return env


class BareRepo:
    """One bare repository on disk. Not thread-safe: the fake forge serialises calls."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, path: Path, files: Mapping[str, str], branch: str = "main") -> BareRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "--bare", "--quiet", f"--initial-branch={branch}")
        repo.commit(branch, files, "Initial commit")
        return repo

    @property
    def url(self) -> str:
        return str(self.path)

    def git(self, *args: str, input: bytes | None = None, env: Mapping[str, str] = {}) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            input=input,
            capture_output=True,
            env={**_git_env(), **env},
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
        return proc.stdout.decode()

    def rev_parse(self, ref: str) -> str:
        return self.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()

    def has_commit(self, sha: str) -> bool:
        try:
            self.rev_parse(sha)
        except GitError:
            return False
        return True

    def branch_sha(self, branch: str) -> str | None:
        try:
            return self.rev_parse(f"refs/heads/{branch}")
        except GitError:
            return None

    def commit(
        self,
        branch: str,
        changes: Mapping[str, str | None],
        message: str,
        start: str | None = None,
    ) -> str:
        """Commit `changes` (None deletes a path) on `branch`, starting from the
        branch tip, or from `start` when the branch does not exist yet."""
        parent = self.branch_sha(branch) or (self.rev_parse(start) if start else None)
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent:
                self.git("read-tree", parent, env=env)
            entries = []
            for path, content in changes.items():
                if content is None:
                    entries.append(f"0 {'0' * 40}\t{path}\0")  # mode 0 removes the path
                    continue
                blob = self.git("hash-object", "-w", "--stdin", input=content.encode()).strip()
                entries.append(f"100644 {blob}\t{path}\0")
            if entries:
                self.git(
                    "update-index", "-z", "--index-info", input="".join(entries).encode(), env=env
                )
            tree = self.git("write-tree", env=env).strip()
        parents = ["-p", parent] if parent else []
        sha = self.git("commit-tree", tree, *parents, "-m", message).strip()
        self.git("update-ref", f"refs/heads/{branch}", sha)
        return sha

    def merge(self, base: str, head: str, message: str) -> str:
        """A merge commit of `head` into branch `base`, as GitHub's merge button makes."""
        base_sha = self.rev_parse(f"refs/heads/{base}")
        head_sha = self.rev_parse(head)
        tree = self.git("merge-tree", "--write-tree", base_sha, head_sha).splitlines()[0]
        sha = self.git("commit-tree", tree, "-p", base_sha, "-p", head_sha, "-m", message)
        self.git("update-ref", f"refs/heads/{base}", sha.strip())
        return sha.strip()

    def merge_base(self, a: str, b: str) -> str:
        return self.git("merge-base", a, b).strip()

    def diff(self, old: str, new: str) -> list[DiffEntry]:
        """Files changed from `old` to `new`, renames detected, in path order."""
        out = self.git("diff", "--raw", "-z", "-M", "--no-abbrev", old, new)
        fields = out.split("\0")
        entries: list[DiffEntry] = []
        i = 0
        while i < len(fields) and fields[i]:
            meta = fields[i].lstrip(":").split()
            letter, new_blob = meta[4][0], meta[3]
            if letter in "RC":
                previous, path = fields[i + 1], fields[i + 2]
                i += 3
            else:
                previous, path = None, fields[i + 1]
                i += 2
            entries.append(
                DiffEntry(
                    status=_STATUS_NAMES.get(letter, "modified"),
                    path=path,
                    previous_path=previous,
                    blob_sha=None if letter == "D" else new_blob,
                )
            )
        return entries

    def read(self, ref: str, path: str) -> str:
        return self.git("show", f"{ref}:{path}")
