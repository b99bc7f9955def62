"""Git checkouts: one bare mirror per repository, one worktree per pull request.

A mirror is fetched incrementally, so a push to a big repository costs a small
fetch instead of a clone; the pull request's worktree is reused across pushes,
which keeps each project's `.terraform/` (providers, modules, backend state) and
makes the next `terraform init` nearly free.

Credentials arrive as environment variables (for instance
`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_0=http.extraHeader`/`GIT_CONFIG_VALUE_0`, or
`GIT_ASKPASS`), never inside the clone URL, so they are not written to the
mirror's config and not shown in error messages.
"""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from atlantis_py.domain.events import Repo
from atlantis_py.errors import WorkspaceError
from atlantis_py.runner.gitcmd import GitRunner

log = logging.getLogger(__name__)

_SHA = re.compile(r"[0-9a-f]{40}")
_PATH_PART = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*")
_BRANCHES = "+refs/heads/*:refs/heads/*"
# Kept by `git clean` so a new push reuses the init of the previous one.
_KEEP_UNTRACKED = (".terraform", ".terraform.lock.hcl")


def is_sha(value: str) -> bool:
    """True for a full, lower-case 40-hex commit id (the only form we check out)."""
    return _SHA.fullmatch(value) is not None


def repo_parts(repo: Repo) -> list[str]:
    """forge, owner(s), name: as path parts, refused when one could escape its folder."""
    parts = [repo.forge, *repo.full_name.split("/")]
    for part in parts:
        if not _PATH_PART.fullmatch(part) or part in (".", ".."):
            raise WorkspaceError(f"unsafe repository name {repo.forge}:{repo.full_name!r}")
    return parts


class Workspaces:
    """Mirrors under `root/mirrors`, worktrees under `root/worktrees`.

    Locks are `flock`s on files under `root/locks`: they serialise threads of
    one process and worker processes sharing one `root` alike. Lock order is
    always worktree, then mirror.
    """

    def __init__(self, root: Path, git_timeout: float = 300) -> None:
        self.root = root
        self.git_timeout = git_timeout
        self._cmd = GitRunner(root, git_timeout)

    # -- paths -------------------------------------------------------------

    def mirror_path(self, repo: Repo) -> Path:
        return self.root / "mirrors" / Path(*self._parts(repo)).with_suffix(".git")

    def worktree_path(self, repo: Repo, pull_number: int) -> Path:
        if pull_number <= 0:
            raise WorkspaceError(f"invalid pull request number {pull_number}")
        return self.root / "worktrees" / Path(*self._parts(repo)) / str(pull_number)

    @staticmethod
    def _parts(repo: Repo) -> list[str]:
        return repo_parts(repo)

    # -- public operations -------------------------------------------------

    def fetch(self, repo: Repo, refs: Sequence[str], env: Mapping[str, str]) -> None:
        """Bring the mirror up to date: all branches, plus each ref in `refs`:
        a commit sha (fetched only when missing) or a full `refs/...` name.
        Plain branch names are only validated: the branch fetch covers them,
        and a fork's head branch does not exist here (its sha is fetched)."""
        for ref in refs:
            if not is_sha(ref):
                self._cmd.check_ref(ref)
        mirror = self.mirror_path(repo)
        with self._lock(mirror):
            self._ensure_mirror(repo, mirror, env)
            self._cmd.mirror(mirror, "fetch", "--prune", "--no-tags", "origin", _BRANCHES, env=env)
            for ref in refs:
                if is_sha(ref):
                    if not self._cmd.has_commit(mirror, ref):
                        self._cmd.mirror(mirror, "fetch", "--no-tags", "origin", ref, env=env)
                elif ref.startswith("refs/") and not ref.startswith("refs/heads/"):
                    self._cmd.mirror(mirror, "fetch", "--no-tags", "origin", f"+{ref}:{ref}", env=env)
        log.info("fetched %s (%d extra refs)", repo.full_name, len(refs))

    @contextmanager
    def checkout(
        self, repo: Repo, pull_number: int, sha: str, env: Mapping[str, str]
    ) -> Iterator[Path]:
        """The pull request's worktree at `sha`, held exclusively until the
        `with` block ends. Tracked files match `sha` exactly; untracked files
        are removed except `.terraform/` and `.terraform.lock.hcl`."""
        with self._checkout(repo, self.worktree_path(repo, pull_number), sha, env) as path:
            yield path

    @contextmanager
    def checkout_base(
        self, repo: Repo, pull_number: int, sha: str, env: Mapping[str, str]
    ) -> Iterator[Path]:
        """A second worktree of the pull request, at a base commit: projects the
        pull request deletes are planned (`-destroy`) and applied here, where
        their code and vars still exist. Same rules as `checkout`."""
        path = self.worktree_path(repo, pull_number)
        with self._checkout(repo, path.with_name(f"{path.name}.base"), sha, env) as base:
            yield base

    @contextmanager
    def checkout_drift(self, repo: Repo, sha: str, env: Mapping[str, str]) -> Iterator[Path]:
        """The repository's drift-check worktree at `sha` (a default branch head),
        apart from every pull request's. Same rules as `checkout`."""
        path = self.root / "worktrees" / Path(*self._parts(repo)) / "drift"
        with self._checkout(repo, path, sha, env) as tree:
            yield tree

    def remote_default_branch(self, repo: Repo, env: Mapping[str, str]) -> str:
        """The branch the remote's HEAD names (its default branch), asked over git
        itself: the drift scheduler looks every few minutes, and the forge's API
        (and its rate limit) is left to the work that needs it."""
        mirror = self.mirror_path(repo)
        with self._lock(mirror):
            self._ensure_mirror(repo, mirror, env)
            out = self._cmd.mirror(mirror, "ls-remote", "--symref", "origin", "HEAD", env=env)
        for line in out.splitlines():
            ref, _, name = line.partition("\t")
            if ref.startswith("ref: refs/heads/") and name == "HEAD":
                return ref.removeprefix("ref: refs/heads/")
        raise WorkspaceError(f"the remote of {repo.full_name} names no default branch")

    def commit_of(self, repo: Repo, branch: str) -> str:
        """The commit `branch` points at in the mirror (fetch first)."""
        self._cmd.check_ref(branch)
        return self._cmd.resolve_commit(self.mirror_path(repo), branch)

    def merge_base(self, repo: Repo, base_ref: str, head_sha: str) -> str:
        """The commit `head_sha` branched from `base_ref`: what a pull request's
        changes are measured against (the mirror must hold both)."""
        mirror, base = self._base_and_head(repo, base_ref, head_sha)
        try:
            return self._cmd.mirror(mirror, "merge-base", base, head_sha)
        except WorkspaceError:
            return base  # unrelated histories: compare with the base tip

    def commits_behind(self, repo: Repo, base_ref: str, head_sha: str) -> int:
        """How many commits of `base_ref` `head_sha` does not contain; 0 exactly
        when the merge base of the two is the base's head (the pull request is
        undiverged). Read from the mirror as last fetched, so fetch first."""
        mirror, base = self._base_and_head(repo, base_ref, head_sha)
        return int(self._cmd.mirror(mirror, "rev-list", "--count", f"{head_sha}..{base}"))

    def _base_and_head(self, repo: Repo, base_ref: str, head_sha: str) -> tuple[Path, str]:
        """The mirror and the base's commit, once both refs are known to be there."""
        if not is_sha(head_sha):
            raise WorkspaceError(f"not a full commit sha: {head_sha!r}")
        if not is_sha(base_ref):
            self._cmd.check_ref(base_ref)
        mirror = self.mirror_path(repo)
        base = self._cmd.resolve_commit(mirror, base_ref)
        self._cmd.resolve_commit(mirror, head_sha)
        return mirror, base

    @contextmanager
    def _checkout(
        self, repo: Repo, path: Path, sha: str, env: Mapping[str, str]
    ) -> Iterator[Path]:
        if not is_sha(sha):
            raise WorkspaceError(f"not a full commit sha: {sha!r}")
        mirror = self.mirror_path(repo)
        with self._lock(path):
            if not (mirror.exists() and self._cmd.has_commit(mirror, sha)):
                self.fetch(repo, [sha], env)
            if not self._cmd.has_commit(mirror, sha):
                raise WorkspaceError(f"commit {sha} not found in {repo.full_name}")
            if not self._reuse_worktree(path, sha, env):
                self._add_worktree(mirror, path, sha, env)
            excludes = [arg for name in _KEEP_UNTRACKED for arg in ("-e", name)]
            self._cmd.run(path, "clean", "-ffdx", *excludes, env=env)
            log.info("checked out %s at %s in %s", repo.full_name, sha[:12], path.name)
            yield path

    def read_file(self, repo: Repo, ref: str, path: str) -> str | None:
        """A file's text at `ref` in the mirror (e.g. workflows.yaml on the base
        branch), or None when the file does not exist there."""
        if not is_sha(ref):
            self._cmd.check_ref(ref)
        rel = path.removeprefix("./")
        if not rel or rel.startswith(("/", "-")) or ".." in rel.split("/"):
            raise WorkspaceError(f"invalid path {path!r}")
        mirror = self.mirror_path(repo)
        self._cmd.resolve_commit(mirror, ref)
        spec = f"{ref}:{rel}"
        try:
            kind = self._cmd.mirror(mirror, "cat-file", "-t", spec).strip()
        except WorkspaceError:
            return None
        if kind != "blob":
            return None
        return self._cmd.mirror(mirror, "cat-file", "blob", spec, strip=False)

    def changed_files(self, repo: Repo, base_ref: str, head_sha: str) -> list[str]:
        """Paths changed between the merge base of `base_ref` and `head_sha`,
        renames listed as delete + add (a fallback to the forge's file list)."""
        mirror, _ = self._base_and_head(repo, base_ref, head_sha)
        out = self._cmd.mirror(
            mirror, "diff", "--name-only", "--no-renames", "-z", f"{base_ref}...{head_sha}", "--"
        )
        return [name for name in out.split("\0") if name]

    def remove(self, repo: Repo, pull_number: int) -> None:
        """Drop a closed pull request's worktrees; waits for a job still using
        them. Its saved plans are `runner.plans.SavedPlans`'s to drop."""
        mirror = self.mirror_path(repo)
        path = self.worktree_path(repo, pull_number)
        for tree in (path.with_name(f"{path.name}.base"), path):
            with self._lock(tree), self._lock(mirror):
                if mirror.exists() and (tree / ".git").is_file():
                    try:
                        self._cmd.mirror(mirror, "worktree", "remove", "--force", str(tree))
                    except WorkspaceError as e:
                        log.warning("worktree remove failed, deleting the directory: %s", e)
                shutil.rmtree(tree, ignore_errors=True)
        with self._lock(path), self._lock(mirror):
            if mirror.exists():
                self._cmd.mirror(mirror, "worktree", "prune")
        log.info("removed worktree %s#%d", repo.full_name, pull_number)

    # -- helpers -----------------------------------------------------------

    def _ensure_mirror(self, repo: Repo, mirror: Path, env: Mapping[str, str]) -> None:
        if (mirror / "HEAD").exists():
            url = self._cmd.mirror(mirror, "config", "--get", "remote.origin.url").strip()
            if url != repo.clone_url:
                self._cmd.mirror(mirror, "config", "remote.origin.url", repo.clone_url)
            return
        if repo.clone_url.startswith("-"):
            raise WorkspaceError(f"invalid clone url {repo.clone_url!r}")
        mirror.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(mirror, ignore_errors=True)
        self._cmd.run(mirror.parent, "init", "--quiet", "--bare", str(mirror), env=env)
        self._cmd.mirror(mirror, "config", "remote.origin.url", repo.clone_url)
        # Commits checked out in worktrees must survive `gc` even when their
        # branch is force-pushed away; worktree HEADs already protect them.
        self._cmd.mirror(mirror, "config", "gc.auto", "0")
        log.info("created mirror %s", mirror)

    def _reuse_worktree(self, path: Path, sha: str, env: Mapping[str, str]) -> bool:
        """Move an existing worktree to `sha`; False when there is none or it
        is broken (say the mirror was rebuilt) and must be added afresh."""
        if not (path / ".git").is_file():
            return False
        try:
            self._cmd.run(path, "checkout", "--force", "--detach", sha, "--", env=env)
        except WorkspaceError as e:
            log.warning("recreating worktree %s: %s", path, e)
            return False
        return True

    def _add_worktree(self, mirror: Path, path: Path, sha: str, env: Mapping[str, str]) -> None:
        with self._lock(mirror):
            if path.exists():
                shutil.rmtree(path)
            self._cmd.mirror(mirror, "worktree", "prune")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._cmd.mirror(
                mirror, "worktree", "add", "--force", "--detach", "--", str(path), sha, env=env
            )

    @contextmanager
    def _lock(self, path: Path) -> Iterator[None]:
        lock_file = self.root / "locks" / path.relative_to(self.root)
        lock_file = lock_file.with_name(lock_file.name + ".lock")
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_file, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
