"""Pre and post workflow hooks (repos.yaml), run in the pull request's worktree.

The administrator wrote them, so they need no --allow-custom-steps; still they
run without a shell, as every process here does: a `run:` string is split like
a shell would and `$NAME`/`${NAME}` are replaced from the hook's environment,
argument by argument, with nothing else interpreted; only an explicit list
such as `[sh, -c, "…"]` reaches a shell, because it names one. The
environment is the fixed few variables every child gets (PATH, HOME, locale,
proxies) plus Atlantis's hook variables: never the server's settings, tokens,
--tf-env-passthrough variables or --credentials, which belong to terraform.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from atlantis_py.domain.server_config import Hook
from atlantis_py.runner.terraform import execute, passthrough_env

log = logging.getLogger(__name__)

HOOK_TIMEOUT = 600.0  # seconds; a hook that hangs must not hold the pull request's job
OUTPUT_LIMIT = 3000  # characters of a failing hook's output shown in its comment


@dataclass(frozen=True)
class HookRun:
    """One finished hook. `name` is its description, or Atlantis's
    "pre workflow hook #0" when it has none."""

    name: str
    argv: tuple[str, ...]
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def hook_environment(values: Mapping[str, str]) -> dict[str, str]:
    """What a hook sees: the fixed few variables and `values` (Atlantis's names)."""
    return {**passthrough_env(()), **values}


def run_hooks(hooks: Sequence[Hook], kind: str, command: str, cwd: Path,
              values: Mapping[str, str], timeout: float = HOOK_TIMEOUT) -> list[HookRun]:
    """Run the hooks meant for `command` in order, stopping after the first that
    fails (as Atlantis does); `kind` is "pre" or "post", for their names."""
    env = hook_environment(values)
    done: list[HookRun] = []
    for index, hook in enumerate(hooks):
        if not hook.runs_for(command):
            continue
        name = hook.description or f"{kind} workflow hook #{index}"
        argv = tuple(string.Template(arg).safe_substitute(env) for arg in hook.argv) \
            if hook.expand else hook.argv
        result = execute(argv, cwd, env, timeout)
        run = HookRun(name, argv, result.returncode, result.output)
        log.info("%s (%s) exited %d after %.1f s; its output (last %d characters): %s",
                 name, argv[0], run.returncode, result.duration, OUTPUT_LIMIT,
                 tail(run.output))
        done.append(run)
        if not run.ok:
            break
    return done


def tail(output: str, limit: int = OUTPUT_LIMIT) -> str:
    """The end of `output`, where a failure usually says why."""
    if len(output) <= limit:
        return output
    return "…(earlier output cut)\n" + output[-limit:]


def comment_args(args: Sequence[str]) -> str:
    """Atlantis's COMMENT_ARGS: every character escaped, arguments joined by commas
    (`-- -var a=b` → `\\-\\v\\a\\r,\\a\\=\\b`)."""
    return ",".join("".join("\\" + c for c in arg) for arg in args)
