"""`git push` to a local repository re-plans its open pull requests.

The server installs a post-receive hook in every repository under
--local-repos. The hook is a small Python program (no shell): it reads the
pushed refs from stdin and posts each updated branch to the server's own
/events on loopback, authenticated with a secret made at each server start and
kept beside the hook (mode 0600). Here the delivery is checked and turned into
an "updated" pull request event, as a GitHub synchronize webhook would be.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from atlantis_py.domain.events import Event, PullAction, PullRequestEvent
from atlantis_py.errors import ForgeError, MalformedWebhook
from atlantis_py.forges.base import Delivery, header
from atlantis_py.forges.local import NAME, LocalForge, find_repositories

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Atlantis-Local-Push"
DELIVERY_HEADER = "X-Atlantis-Delivery"
MARK = "# atlantis-py local push hook"
SETTINGS_FILE = "atlantis-push.json"

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


def install_hooks(root: Path, url: str, secret: str) -> list[str]:
    """Write the hook into every repository under `root`; returns their names.
    A post-receive hook that is not ours is left alone, with a warning."""
    installed = []
    for name, path in find_repositories(root).items():
        hooks = hooks_dir(path)
        hooks.mkdir(parents=True, exist_ok=True)
        hook = hooks / "post-receive"
        if hook.exists() and MARK not in hook.read_text(errors="replace"):
            log.warning("%s has its own post-receive hook: pushes to it are not re-planned",
                        name)
            continue
        conf = hooks / SETTINGS_FILE
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"repo": name, "url": url, "secret": secret}, out)
        hook.write_text(HOOK.format(python=sys.executable, mark=MARK, settings=SETTINGS_FILE,
                                    secret_header=SECRET_HEADER,
                                    delivery_header=DELIVERY_HEADER))
        hook.chmod(0o755)
        installed.append(name)
    return installed


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class LocalPushes:
    """The WebhookVerifier of the local forge's push hook."""

    forge = NAME

    def __init__(self, forge: LocalForge, secret: str) -> None:
        self._forge = forge
        self.secret = secret

    def recognises(self, headers: Mapping[str, str]) -> bool:
        return header(headers, SECRET_HEADER) is not None

    def verify(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        given = header(headers, SECRET_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return None
        delivery = header(headers, DELIVERY_HEADER) or ""
        if not delivery:
            return None
        return Delivery(forge=NAME, delivery_id=delivery, event_type="push", handled=True)

    def parse(self, event_type: str, payload: bytes) -> Event | None:
        try:
            data = json.loads(payload)
        except ValueError:
            raise MalformedWebhook("the push is not JSON") from None
        if isinstance(data, dict) and isinstance(data.get("merged"), int) and \
                isinstance(data.get("repo"), str):
            return self._merged(data["repo"], data["merged"])
        if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("repo", "ref", "after")):
            raise MalformedWebhook("the push needs repo, ref and after as strings")
        ref: str = data["ref"]
        if not ref.startswith("refs/heads/"):
            return None
        try:
            pulls = self._forge.open_pulls(data["repo"], ref.removeprefix("refs/heads/"))
        except ForgeError as err:
            raise MalformedWebhook(str(err)) from None
        if not pulls:
            return None
        pull = pulls[0]
        return PullRequestEvent(pull=pull, action=PullAction.UPDATED, sender=pull.author)

    def _merged(self, repo: str, number: int) -> Event:
        """We merged it (local_merge.py): the pull request is closed, as merged."""
        try:
            pull = self._forge.pull_request(repo, number)
        except ForgeError as err:
            raise MalformedWebhook(str(err)) from None
        return PullRequestEvent(pull=pull, action=PullAction.MERGED, sender="atlantis")
