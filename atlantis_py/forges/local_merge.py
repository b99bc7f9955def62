"""Merging a deployed local pull request into its base, and telling the server.

GitHub users merge after the apply; on the local forge we do it for them once
the apply succeeded (the `atlantis/apply` status turns success, the moment the
IPR becomes DEPLOYED): `git merge --no-ff` in a scratch worktree inside the
repository's git folder, then the base branch is moved with a compare-and-swap
`update-ref`, so a push that raced us is never overwritten. The server learns of
the merge as it learns of pushes: a "merged" delivery to its /events, which
releases the locks and closes the IPR.
"""

from __future__ import annotations

import json
import logging
import shutil
import urllib.request
import uuid
from pathlib import Path

from atlantis_py.domain.local import LocalPull
from atlantis_py.errors import ForgeError
from atlantis_py.forges.local import git

log = logging.getLogger(__name__)

APPLY_CONTEXT = "atlantis/apply"  # flows/apply.py's status context
BOT = ("-c", "user.name=atlantis", "-c", "user.email=atlantis@localhost")


def merge(path: Path, pull: LocalPull, head_sha: str, base_sha: str) -> str:
    """The merge commit now at the head of `pull.base_ref`."""
    git_dir = Path(git(path, "rev-parse", "--absolute-git-dir").stdout.strip())
    scratch = git_dir / "atlantis-merges" / uuid.uuid4().hex
    scratch.parent.mkdir(exist_ok=True)
    git(path, "worktree", "add", "--detach", str(scratch), base_sha)
    try:
        message = f"Merge {pull.head_ref} into {pull.base_ref} (#{pull.number}: {pull.title})"
        merged = git(scratch, *BOT, "merge", "--no-ff", "--no-edit", "-m", message, head_sha,
                     check=False)
        if merged.returncode != 0:
            raise ForgeError(f"local: {pull.head_ref} does not merge cleanly into "
                             f"{pull.base_ref}: {merged.stdout.strip()[-300:]}", 409)
        new = git(scratch, "rev-parse", "HEAD").stdout.strip()
        git(path, "update-ref", "-m", f"atlantis: {message}", f"refs/heads/{pull.base_ref}",
            new, base_sha)
        return new
    finally:
        git(path, "worktree", "remove", "--force", str(scratch), check=False)
        shutil.rmtree(scratch, ignore_errors=True)
        git(path, "worktree", "prune", check=False)


def announce_merge(conf: dict[str, str] | None, repo: str, number: int) -> bool:
    """Tell the server where its push hooks post (local_hooks.py); False when
    it does not listen yet or is down."""
    from atlantis_py.forges.local_hooks import DELIVERY_HEADER, SECRET_HEADER

    if conf is None:
        log.warning("could not tell the server that %s#%d was merged: it is not listening",
                    repo, number)
        return False
    try:
        body = json.dumps({"repo": repo, "merged": number}).encode()
        req = urllib.request.Request(conf["url"], data=body, method="POST", headers={
            "Content-Type": "application/json", SECRET_HEADER: conf["secret"],
            DELIVERY_HEADER: f"merged-{uuid.uuid4()}"})
        with urllib.request.urlopen(req, timeout=10):
            return True
    except (OSError, ValueError, KeyError) as err:
        log.warning("could not tell the server that %s#%d was merged: %s", repo, number, err)
        return False
