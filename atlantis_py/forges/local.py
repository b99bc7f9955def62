"""A forge on the server's own disk: plain git repositories under --local-repos.

For a machine with no GitHub or GitLab account. A repository DIR/infra is named
`local/infra`; pull requests, comments and commit statuses live in the server's
database (through the LocalStore handed in), reviews in the same review table
API reviews use, and write access is the role of the user's API tokens. Only
this module knows the forge is local; everything above speaks the Forge
protocol. git runs as argv lists, never through a shell.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.forge import (
    ChangedFile,
    Comment,
    FileStatus,
    Mergeability,
    Merged,
    Review,
    StatusState,
)
from atlantis_py.domain.local import LocalComment, LocalPull
from atlantis_py.domain.records import Role
from atlantis_py.domain.repo_names import repo_name_problem
from atlantis_py.errors import ForgeError

if TYPE_CHECKING:
    from atlantis_py.forges.local_hooks import PushHooks

log = logging.getLogger(__name__)

NAME = "local"
OWNER = "local"
MAX_DEPTH = 4  # folders below --local-repos searched for repositories
GIT_TIMEOUT = 60
_STATUSES = {"A": FileStatus.ADDED, "C": FileStatus.ADDED, "M": FileStatus.MODIFIED,
             "T": FileStatus.MODIFIED, "D": FileStatus.REMOVED, "R": FileStatus.RENAMED}
WRITERS = frozenset({Role.REVIEWER, Role.ADMIN})


class LocalStore(Protocol):
    """store/local_forge.py's LocalForgeStore, as this forge needs it."""

    def open_pull(self, repo: str, author: str, head: str, base: str, title: str,
                  body: str) -> LocalPull | None: ...

    def pull(self, repo: str, number: int) -> LocalPull | None: ...

    def open_pulls(self, repo: str, head: str | None) -> list[LocalPull]: ...

    def set_state(self, repo: str, number: int, state: str) -> None: ...

    def add_comment(self, repo: str, number: int, author: str, body: str) -> int: ...

    def comments(self, repo: str, number: int) -> list[LocalComment]: ...

    def set_status(self, repo: str, sha: str, context: str, state: str,
                   description: str) -> None: ...

    def role(self, user: str) -> Role | None: ...


def git(path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """git in `path`, its hooks and the user's config out of the way."""
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(path),
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    result = subprocess.run(["git", "-C", str(path), *args], capture_output=True, text=True,
                            env=env, timeout=GIT_TIMEOUT, check=False)
    if check and result.returncode != 0:
        raise ForgeError(f"local: git {args[0]} failed in {path.name}: "
                         f"{result.stderr.strip()[:300]}")
    return result


def find_repositories(root: Path) -> dict[str, Path]:
    """name -> path of every git repository under `root` (bare or not),
    named `local/<path below root>`."""
    found: dict[str, Path] = {}
    root = root.resolve()

    def walk(folder: Path, depth: int) -> None:
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
            found[_name(root, folder)] = folder
            return
        if (folder / ".git").is_dir():
            found[_name(root, folder)] = folder
            return
        if depth >= MAX_DEPTH:
            return
        for child in sorted(folder.iterdir()):
            if child.is_dir() and not child.is_symlink() and not child.name.startswith("."):
                walk(child, depth + 1)

    if root.is_dir():
        for child in sorted(root.iterdir()):
            if child.is_dir() and not child.is_symlink() and not child.name.startswith("."):
                walk(child, 1)
    return {name: path for name, path in found.items()
            if repo_name_problem(name, NAME) is None}


def _name(root: Path, folder: Path) -> str:
    rel = folder.relative_to(root).as_posix().removesuffix(".git")
    return f"{OWNER}/{rel}"


class LocalForge:
    name = NAME
    comment_limit = 1_000_000

    def __init__(self, root: Path, store: LocalStore, user: str = "atlantis",
                 hooks: PushHooks | None = None) -> None:
        self.root = root.resolve()
        self.store = store
        self.user = user
        self.hooks = hooks

    def __repr__(self) -> str:
        return f"LocalForge(root={str(self.root)!r})"

    def path(self, repo: str) -> Path:
        """The repository's folder; ForgeError 404 when there is none."""
        if (problem := repo_name_problem(repo, NAME)) is not None:
            raise ForgeError(f"local: {problem}", 422)
        owner, _, rest = repo.partition("/")
        candidates = [self.root / rest, self.root / f"{rest}.git"]
        for folder in candidates:
            resolved = folder.resolve()
            if owner == OWNER and resolved.is_relative_to(self.root) and (
                    (resolved / ".git").is_dir() or (resolved / "HEAD").is_file()):
                return resolved
        raise ForgeError(f"local: no repository {repo} under {self.root} "
                         f"(names are {OWNER}/<folder>)", 404)

    def clone_url(self, repo: str) -> str:
        return str(self.path(repo))

    def head_sha(self, repo: str, branch: str) -> str:
        found = git(self.path(repo), "rev-parse", "--verify", "--quiet",
                    f"refs/heads/{branch}^{{commit}}", check=False)
        if found.returncode != 0:
            raise ForgeError(f"local: {repo} has no branch {branch!r}", 422)
        return found.stdout.strip()

    def _pull_record(self, repo: str, number: int) -> LocalPull:
        found = self.store.pull(repo, number)
        if found is None:
            raise ForgeError(f"local: {repo} has no pull request #{number}", 404)
        return found

    def _pull(self, found: LocalPull) -> PullRequest:
        return PullRequest(
            repo=Repo(forge=NAME, full_name=found.repo, clone_url=str(self.path(found.repo))),
            number=found.number, author=found.author,
            head_sha=self.head_sha(found.repo, found.head_ref), head_ref=found.head_ref,
            base_ref=found.base_ref, title=found.title, url="")

    def pull_request(self, repo: str, number: int) -> PullRequest:
        return self._pull(self._pull_record(repo, number))

    def open_pulls(self, repo: str, branch: str) -> list[PullRequest]:
        """Open pull requests from `branch`: those a push to it re-plans."""
        return [self._pull(p) for p in self.store.open_pulls(repo, branch)]

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]:
        found = self._pull_record(repo, number)
        base = self.head_sha(repo, found.base_ref)
        head = self.head_sha(repo, found.head_ref)
        out = git(self.path(repo), "diff", "--name-status", "-M", "-z", f"{base}...{head}")
        return parse_name_status(out.stdout)

    def post_comment(self, repo: str, number: int, body: str) -> None:
        self._pull_record(repo, number)
        self.store.add_comment(repo, number, self.user, body)

    def comments(self, repo: str, number: int) -> list[Comment]:
        return [Comment(author=c.author, body=c.body) for c in self.store.comments(repo, number)]

    def add_user_comment(self, repo: str, number: int, author: str, body: str) -> int:
        """A comment by an API user (flows/kept_comments.py); its id."""
        self._pull_record(repo, number)
        return self.store.add_comment(repo, number, author, body)

    def comment_log(self, repo: str, number: int) -> list[LocalComment]:
        """The comments with their times, for `ipr show --comments` and the page."""
        return self.store.comments(repo, number)

    def set_status(self, repo: str, sha: str, context: str, state: StatusState,
                   description: str) -> None:
        self.store.set_status(repo, sha, context, state.value, description)
        from atlantis_py.forges.local_merge import APPLY_CONTEXT

        if context == APPLY_CONTEXT and state is StatusState.SUCCESS:
            for found in self.store.open_pulls(repo, None):
                if self.head_sha(repo, found.head_ref) == sha:
                    self._merge(found, sha)

    def _merge(self, found: LocalPull, head_sha: str) -> None:
        """Merge a deployed pull request into its base; a conflict is said on it."""
        from atlantis_py.forges.local_merge import announce_merge, merge

        path = self.path(found.repo)
        try:
            merged = merge(path, found, head_sha, self.head_sha(found.repo, found.base_ref))
        except ForgeError as err:
            self.post_comment(found.repo, found.number,
                              f"**Not merged**: {err}. The apply is done; merge "
                              f"`{found.head_ref}` into `{found.base_ref}` by hand.")
            return
        self.store.set_state(found.repo, found.number, "merged")
        log.info("merged %s#%d into %s at %s", found.repo, found.number, found.base_ref,
                 merged[:12])
        if not announce_merge(self.hooks.settings() if self.hooks else None, found.repo,
                              found.number):
            self.post_comment(found.repo, found.number,
                              f"Merged into `{found.base_ref}` at `{merged[:12]}`, but the "
                              "server could not be told (its log says why): the IPR stays open "
                              "and keeps its locks.")

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        """What a deploy does here anyway (local_merge.py), asked for by automerge;
        the source branch is deleted only if it still points at `head_sha`."""
        from atlantis_py.forges.local_merge import announce_merge, merge

        found = self._pull_record(repo, number)
        if found.state != "open":
            raise ForgeError(f"local: {repo}#{number} is {found.state}", 405)
        path = self.path(repo)
        merge(path, found, head_sha, self.head_sha(repo, found.base_ref))
        self.store.set_state(repo, number, "merged")
        announce_merge(self.hooks.settings() if self.hooks else None, repo, number)
        if not delete_branch:
            return Merged()
        gone = git(path, "update-ref", "-d", f"refs/heads/{found.head_ref}", head_sha,
                   check=False)
        if gone.returncode != 0:
            return Merged(False, gone.stderr.strip() or "git update-ref failed")
        return Merged(True)

    def reviews(self, repo: str, number: int) -> list[Review]:
        """None here: reviews of local pull requests are given through the API or
        CLI and read from the review table with every other API review."""
        self._pull_record(repo, number)
        return []

    def can_run_commands(self, repo: str, user: str) -> bool:
        return self.store.role(user) in WRITERS

    def can_approve(self, repo: str, user: str) -> bool:
        return self.can_run_commands(repo, user)

    def default_branch(self, repo: str) -> str:
        found = git(self.path(repo), "symbolic-ref", "--short", "HEAD", check=False)
        return found.stdout.strip() or "main"

    def mergeable(self, repo: str, number: int) -> Mergeability:
        found = self._pull_record(repo, number)
        if found.state != "open":
            return Mergeability(False, found.state)
        base = self.head_sha(repo, found.base_ref)
        head = self.head_sha(repo, found.head_ref)
        merged = git(self.path(repo), "merge-tree", "--write-tree", "--no-messages", base,
                     head, check=False)
        if merged.returncode == 0:
            return Mergeability(True, "clean")
        if merged.returncode == 1:
            return Mergeability(False, "conflict")
        raise ForgeError(f"local: git merge-tree failed in {repo}: {merged.stderr.strip()}")

    def in_team(self, team: str, user: str) -> bool:
        return False  # the local forge has users (token owners) but no teams

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str,
                    opened_by: str) -> PullRequest:
        """The author is the API user who opened it, never the name on a commit
        (anyone can commit under any name), so they cannot approve it."""
        path = self.path(repo)
        self.head_sha(repo, base)
        self.head_sha(repo, head)
        if head == base:
            raise ForgeError(f"local: head and base are both {head!r}", 422)
        if not opened_by.strip():
            raise ForgeError("local: a pull request needs the user who opens it", 422)
        if self.hooks is not None:
            self.hooks.ensure(repo, path)  # a repository added since the server started
        opened = self.store.open_pull(repo, opened_by, head, base, title, body)
        if opened is None:
            raise ForgeError(f"local: a pull request from {head} into {base} is already open "
                             f"on {repo}", 422)
        return self._pull(opened)

    @property
    def clone_env(self) -> dict[str, str]:
        return {"GIT_TERMINAL_PROMPT": "0"}


def parse_name_status(out: str) -> list[ChangedFile]:
    """`git diff --name-status -z` output: status, path (and the new path after
    a rename or copy), NUL-separated."""
    parts = out.split("\0")
    files: list[ChangedFile] = []
    i = 0
    while i < len(parts) and parts[i]:
        code = parts[i][0]
        status = _STATUSES.get(code, FileStatus.MODIFIED)
        if code in ("R", "C"):
            old, new = parts[i + 1], parts[i + 2]
            files.append(ChangedFile(path=new, status=status,
                                     previous_path=old if code == "R" else None))
            i += 3
        else:
            files.append(ChangedFile(path=parts[i + 1], status=status))
            i += 2
    return files
