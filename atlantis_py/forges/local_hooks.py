"""The post-receive hook that tells the server about pushes to a local repository.

The hook is a small Python program (no shell): it reads the pushed refs from
stdin and posts each updated branch to the server's /events on loopback,
authenticated with a secret made at each server start and kept beside the
hook (mode 0600). The web process writes where to post and the secret to one
file in its data folder (mode 0600) once it listens; from then on any process
can put the hook into a repository: every one under --local-repos at start,
one added later when it is first used or found by the periodic scan, and one
whose hook was removed. A repository with a post-receive hook of its own keeps
it; its pushes are noticed by the branch-head check instead (flows/heads.py).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from atlantis_py.forges.local import find_repositories

log = logging.getLogger(__name__)

MARK = "# atlantis-py local push hook"
SETTINGS_FILE = "atlantis-push.json"
SECRET_HEADER = "X-Atlantis-Local-Push"
DELIVERY_HEADER = "X-Atlantis-Delivery"

HOOK = '''#!{python}
{mark}: posts the pushed branches to the atlantis-py server
import json, sys, urllib.request, uuid
from pathlib import Path

conf = json.loads((Path(__file__).resolve().parent / "{settings}").read_text())
for line in sys.stdin:
    old, new, ref = line.split()
    if not ref.startswith("refs/heads/") or set(new) == {{"0"}}:
        continue
    body = json.dumps({{"repo": conf["repo"], "ref": ref, "after": new}}).encode()
    req = urllib.request.Request(conf["url"], data=body, method="POST", headers={{
        "Content-Type": "application/json", "{secret_header}": conf["secret"],
        "{delivery_header}": str(uuid.uuid4())}})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = json.loads(resp.read() or b"{{}}")
        if answer.get("status") == "queued":
            print(f"atlantis-py: {{ref[11:]}} will be planned again")
    except Exception as err:
        print(f"atlantis-py: could not tell the server about {{ref}}: {{err}}", file=sys.stderr)
'''


def hooks_dir(repo: Path) -> Path:
    return repo / ".git" / "hooks" if (repo / ".git").is_dir() else repo / "hooks"


def write_private(path: Path, data: dict[str, str]) -> None:
    """JSON readable by the owner only, from the first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(data, out)


class PushHooks:
    """Puts the hook into the repositories under `root`, posting to what
    `settings` (the web process's file) says."""

    def __init__(self, root: Path, settings: Path) -> None:
        self.root = root.resolve()
        self.settings_path = settings
        self._told: set[str] = set()  # repositories with a hook of their own, logged once

    def configure(self, url: str, secret: str) -> None:
        """The web process listens at `url`, with this start's secret."""
        self.settings_path.parent.mkdir(parents=True, exist_ok=True)
        write_private(self.settings_path, {"url": url, "secret": secret})

    def settings(self) -> dict[str, str] | None:
        """{"url", "secret"} of the running web process; None before it listens."""
        try:
            data = json.loads(self.settings_path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("url", "secret")):
            return None
        return {"url": data["url"], "secret": data["secret"]}

    def install_all(self) -> list[str]:
        """Every repository under the root that has our hook now (written where
        missing or out of date); the housekeeping scan and the server's start."""
        conf = self.settings()
        if conf is None:
            return []
        return [name for name, path in find_repositories(self.root).items()
                if self._ensure(name, path, conf)]

    def ensure(self, name: str, path: Path) -> bool:
        """Our hook is in the repository (written if it was missing)."""
        conf = self.settings()
        return conf is not None and self._ensure(name, path, conf)

    def _ensure(self, name: str, path: Path, conf: dict[str, str]) -> bool:
        hooks = hooks_dir(path)
        hook, conf_file = hooks / "post-receive", hooks / SETTINGS_FILE
        wanted = {"repo": name, **conf}
        try:
            text = hook.read_text(errors="replace") if hook.exists() else None
        except OSError as err:
            log.warning("cannot read the post-receive hook of %s: %s", name, err)
            return False
        if text is not None and MARK not in text:
            if name not in self._told:
                self._told.add(name)
                log.warning("%s has its own post-receive hook: its pushes are noticed when "
                            "its IPRs are next read and by the periodic check, not at once",
                            name)
            return False
        try:
            if text is not None and hook.stat().st_mode & 0o111 and \
                    json.loads(conf_file.read_text()) == wanted:
                return True
        except (OSError, ValueError):
            pass
        hooks.mkdir(parents=True, exist_ok=True)
        write_private(conf_file, wanted)
        hook.write_text(HOOK.format(python=sys.executable, mark=MARK, settings=SETTINGS_FILE,
                                    secret_header=SECRET_HEADER,
                                    delivery_header=DELIVERY_HEADER))
        hook.chmod(0o755)
        log.info("push hook installed in %s", name)
        return True
