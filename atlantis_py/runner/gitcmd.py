"""One git command at a time, as an argv list through GitPython: never a shell,
never an interactive prompt, never a repository above `root`; failures become
WorkspaceError with any credentials in URLs masked, and a remote that is down
or unreachable a TransientWorkspaceError, worth another try later."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import git

from atlantis_py.errors import TransientWorkspaceError, WorkspaceError

_URL_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")
# git talking to the forge: a failure that says the forge or the network is down
# (not "repository not found" or a refused login) is worth another try later
_REMOTE_COMMANDS = frozenset({"fetch", "clone", "ls-remote"})
_UNREACHABLE = re.compile(
    r"returned error: (5\d\d|429)|could not resolve host|failed to connect|"
    r"connection (timed out|reset|refused)|operation timed out|rpc failed|early eof|"
    r"unexpected disconnect|remote end hung up|gnutls|ssl_(read|connect|error)|"
    r"tls connection", re.IGNORECASE)


class GitRunner:
    """git under `root` (mirrors and worktrees), each command killed after `timeout`."""

    def __init__(self, root: Path, timeout: float) -> None:
        self.root = root
        self.git_timeout = timeout

    def run(
        self,
        cwd: Path,
        *args: str,
        env: Mapping[str, str] | None = None,
        strip: bool = True,
        mkdir: bool = False,
        bare: bool = False,
    ) -> str:
        """Run one git command as an argv list. GitPython layers `env` over the
        server's environment; we add only what keeps git non-interactive.
        `bare` names the mirror explicitly instead of letting git search for it."""
        if mkdir:
            cwd.mkdir(parents=True, exist_ok=True)
        if not cwd.is_dir():
            raise WorkspaceError(f"git {args[0]}: no directory {cwd}")
        if bare:
            args = (f"--git-dir={cwd}", *args)
        run_env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            # Never let a broken checkout fall through to a repository above root.
            "GIT_CEILING_DIRECTORIES": str(self.root.resolve()),
            **(env or {}),
        }
        try:
            out = git.Git(str(cwd)).execute(
                ["git", *args],
                env=run_env,
                kill_after_timeout=self.git_timeout,
                strip_newline_in_stdout=strip,
                stdout_as_string=True,
            )
        except git.GitCommandError as e:
            detail = str(e.stderr or "").strip().removeprefix("stderr:").strip().strip("'")
            detail = _URL_USERINFO.sub(r"\1***@", detail)
            command = next(a for a in args if not a.startswith("--git-dir="))
            if command in _REMOTE_COMMANDS and (e.status == -9 or _UNREACHABLE.search(detail)):
                raise TransientWorkspaceError(f"git {command} failed: {detail or e}") from e
            raise WorkspaceError(f"git {command} failed: {detail or e}") from e
        except git.GitCommandNotFound as e:
            raise WorkspaceError("git is not installed or not on PATH") from e
        return out

    def mirror(
        self, mirror: Path, *args: str, env: Mapping[str, str] | None = None, strip: bool = True
    ) -> str:
        return self.run(mirror, *args, env=env, strip=strip, bare=True)

    def has_commit(self, mirror: Path, sha: str) -> bool:
        try:
            self.mirror(mirror, "cat-file", "-e", f"{sha}^{{commit}}")
        except WorkspaceError:
            return False
        return True

    def resolve_commit(self, mirror: Path, ref: str) -> str:
        if not mirror.exists():
            raise WorkspaceError(f"no mirror at {mirror}: fetch first")
        try:
            return self.mirror(mirror, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except WorkspaceError:
            raise WorkspaceError(f"{ref} not found in the mirror: fetch it first") from None

    def check_ref(self, ref: str) -> None:
        """Branch or ref names come from webhooks: refuse anything git could
        read as an option or a revision expression."""
        if not ref or ref.startswith("-") or "@{" in ref or ":" in ref:
            raise WorkspaceError(f"invalid ref name {ref!r}")
        try:
            self.run(self.root, "check-ref-format", "--branch", ref, mkdir=True)
        except WorkspaceError:
            raise WorkspaceError(f"invalid ref name {ref!r}") from None
