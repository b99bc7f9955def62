"""The environment a child process (terraform, a run step, a hook) may see:
never the server's whole environment, which holds forge tokens and webhook
secrets, but the fixed PASSTHROUGH_ENV and the server variables the operator
names with `--tf-env-passthrough` globs (never an ATLANTIS_* one)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping, Sequence

PASSTHROUGH_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
SERVER_OWN_PREFIX = "ATLANTIS_"


def passthrough_env(globs: Sequence[str] = (),
                    environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The server variables a child process may see: the fixed few, and those
    matching `globs` (`--tf-env-passthrough`)."""
    environ = os.environ if environ is None else environ
    env = {name: environ[name] for name in PASSTHROUGH_ENV if name in environ}
    env.update(matching_env(globs, environ))
    return env


def matching_env(globs: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Server variables named by `globs` (case-sensitive, like the names), except
    the server's own ATLANTIS_* settings, which no glob hands to terraform."""
    if not globs:
        return {}
    return {name: value for name, value in environ.items()
            if not name.startswith(SERVER_OWN_PREFIX)
            and any(fnmatch.fnmatchcase(name, glob) for glob in globs)}
