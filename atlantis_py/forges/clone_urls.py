"""Clone URLs of repositories no pull request has told us about (drift checks
of repositories named only in the server's configuration). A forge that can
say its repositories' clone URL (`clone_url(repo)`: the local forge, and any
forge given the method) is asked; otherwise the URL is built from the forge's
web address, as GitHub and GitLab name their HTTPS clone URLs
(`https://github.com/acme/infra.git`); fetches authenticate through the
forge's clone_env either way."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from urllib.parse import urlparse

from atlantis_py.errors import ForgeError

log = logging.getLogger(__name__)


def github_web_root(api_url: str) -> str:
    """https://github.com for api.github.com; GitHub Enterprise serves its API
    under /api/v3 of the web host."""
    parsed = urlparse(api_url)
    host = parsed.netloc or "api.github.com"
    if host == "api.github.com":
        return "https://github.com"
    return f"{parsed.scheme or 'https'}://{host}"


class CloneUrls:
    """`forges`: name → forge object; `web`: name → web root for the fallback."""

    def __init__(self, forges: Mapping[str, object], web: Mapping[str, str]) -> None:
        self.forges = forges
        self.web = web
        self._known: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __call__(self, forge: str, repo: str) -> str:
        key = (forge, repo)
        with self._lock:
            if key in self._known:
                return self._known[key]
        url = self._ask(forge, repo)
        if not url and (base := self.web.get(forge, "")):
            url = f"{base.rstrip('/')}/{repo}.git"
        with self._lock:
            self._known[key] = url
        return url

    def _ask(self, forge: str, repo: str) -> str:
        own = getattr(self.forges.get(forge), "clone_url", None)
        if not callable(own):
            return ""
        try:
            found = own(repo)
        except (ForgeError, OSError) as err:  # the fallback stands; the fetch says more
            log.warning("the clone URL of %s on %s was not read: %s", repo, forge, err)
            return ""
        return found if isinstance(found, str) else ""
