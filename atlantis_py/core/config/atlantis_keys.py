"""atlantis.yaml keys beyond the project's place and workflow: the base-branch
regex, lock modes, silenced comments, plan/import requirements, autodiscover,
and the run/env/multienv step options. Kept apart from atlantis.py so the
reader of the file's shape stays short; values are checked as Atlantis checks
them (raw/project.go, raw/step.go) and refused by file, line and key."""

from __future__ import annotations

import re
from collections.abc import Mapping

from atlantis_py.core.config.reader import ConfigReader, Path, kind
from atlantis_py.domain.projects import PLAN_REQUIREMENTS, REPO_LOCK_MODES, Step

SILENCEABLE = ("plan", "apply")
AUTODISCOVER_MODES = ("auto", "enabled", "disabled")
RUN_OUTPUTS = ("show", "hide", "strip_refreshing")
MULTIENV_OUTPUTS = ("show", "hide")


class AtlantisKeys(ConfigReader):
    """The top-level repo_locks and silence_pr_comments, which projects inherit."""

    top_locks: str | None = None
    top_silenced: tuple[str, ...] | None = None

    # -- top level ------------------------------------------------------------

    def lock_mode(self, body: Mapping[str, object], path: Path) -> str | None:
        """`repo_locks: {mode: …}` of `body`, None when it has none."""
        if "repo_locks" not in body:
            return None
        at = (*path, "repo_locks")
        locks = self.mapping(body["repo_locks"], at, ("mode",))
        mode = locks.get("mode", "on_plan")
        if mode not in REPO_LOCK_MODES:
            self.fail((*at, "mode"), f"mode {mode!r} is not one of " + ", ".join(REPO_LOCK_MODES))
        return str(mode)

    def silenced(self, body: Mapping[str, object], path: Path) -> tuple[str, ...] | None:
        if "silence_pr_comments" not in body:
            return None
        at = (*path, "silence_pr_comments")
        listed = self.strings(body["silence_pr_comments"], at)
        for i, item in enumerate(listed):
            if item not in SILENCEABLE:
                self.fail((*at, i), f"{item!r} cannot be silenced; supported: "
                          + ", ".join(SILENCEABLE))
        return listed

    def autodiscover(self, top: Mapping[str, object], path: Path = ()
                     ) -> tuple[str, tuple[str, ...]]:
        """(mode, ignore_paths); Atlantis's default is `auto`."""
        if "autodiscover" not in top:
            return "auto", ()
        at: Path = (*path, "autodiscover")
        body = self.mapping({} if top["autodiscover"] is None else top["autodiscover"], at,
                            ("mode", "ignore_paths"))
        mode = body.get("mode", "auto")
        if mode not in AUTODISCOVER_MODES:
            self.fail((*at, "mode"), f"mode {mode!r} is not one of "
                      + ", ".join(AUTODISCOVER_MODES))
        ignore = self.strings(body.get("ignore_paths") or [], (*at, "ignore_paths"))
        for i, pattern in enumerate(ignore):
            if pattern.startswith("/"):
                self.fail((*at, "ignore_paths", i), "pattern must not begin with a slash '/'")
        return str(mode), ignore

    # -- projects -------------------------------------------------------------

    def branch(self, body: Mapping[str, object], path: Path) -> str | None:
        """`branch: /regex/` without its slashes."""
        if "branch" not in body:
            return None
        at = (*path, "branch")
        raw = self.string(body["branch"], at)
        if len(raw) < 2 or not (raw.startswith("/") and raw.endswith("/")):
            self.fail(at, f"{raw!r}: the regex must begin and end with a slash '/', "
                      "e.g. /^main$/")
        try:
            re.compile(raw[1:-1])
        except re.error as e:
            self.fail(at, f"{raw!r} is not a valid regex: {e}")
        return raw[1:-1]

    def project_lock_mode(self, body: Mapping[str, object], path: Path,
                          top: str | None) -> str:
        """As Atlantis merges them: `repo_locking: false` disables, then the
        file's `repo_locks`, then the project's own, each replacing the last."""
        mode = "on_plan"
        if "repo_locking" in body and not self.flag(body, path, "repo_locking", True):
            mode = "disabled"
        return self.lock_mode(body, path) or top or mode

    def requirement_list(self, body: Mapping[str, object], path: Path, key: str
                         ) -> tuple[str, ...]:
        at = (*path, key)
        listed = self.strings(body.get(key, []), at)
        for i, item in enumerate(listed):
            if item == "policies_passed":
                self.fail((*at, i), "policies_passed is an apply requirement only (as in "
                          "Atlantis): policies are checked after the plan; put it in "
                          "apply_requirements")
            if item not in PLAN_REQUIREMENTS:
                self.fail((*at, i), f"{key[:-1]} {item!r} is not supported; supported: "
                          + ", ".join(PLAN_REQUIREMENTS))
        return tuple(r for r in PLAN_REQUIREMENTS if r in listed)

    # -- steps ----------------------------------------------------------------

    def shell_of(self, body: Mapping[str, object], at: Path) -> tuple[str, ...]:
        """shell + shellArgs (default `-c`, as Atlantis's) as argv words."""
        if "shellArgs" in body and "shell" not in body:
            self.fail((*at, "shellArgs"), "shellArgs needs shell", at_key=True)
        if "shell" not in body:
            return ()
        shell = self.string(body["shell"], (*at, "shell"))
        raw = body.get("shellArgs", "-c")
        if isinstance(raw, str):
            args = tuple(raw.split())
        elif isinstance(raw, list):
            args = self.strings(raw, (*at, "shellArgs"))
        else:
            self.fail((*at, "shellArgs"), f"expected a string or a list, got {kind(raw)}")
        return (shell, *args)

    def command_step(self, name: str, arg: object, at: Path, outputs: tuple[str, ...]) -> Step:
        """`run`/`multienv`: a command, or a mapping with command, output and shell."""
        if not isinstance(arg, dict):
            return Step(name, run=self.string(arg, at))
        body = self.mapping(arg, at, ("command", "output", "shell", "shellArgs"))
        if "command" not in body:
            self.fail(at, f"a {name} step needs 'command'")
        output = body.get("output", "show")
        if output not in outputs:
            self.fail((*at, "output"), f"{name} step output {output!r} is not supported; "
                      "supported: " + ", ".join(outputs))
        return Step(name, run=self.string(body["command"], (*at, "command")),
                    output=str(output), shell=self.shell_of(body, at))

    def env_command(self, arg: object, at: Path) -> Step:
        """`env: {name, command}`: the variable is the command's output."""
        body = self.mapping(arg, at, ("name", "value", "command", "shell", "shellArgs"))
        if "value" in body and "command" in body:
            self.fail(at, "an env step takes one of 'value' or 'command', not both")
        if "command" not in body:
            return self.env_step(body, at)
        if "name" not in body:
            self.fail(at, "missing 'name'; an env step needs name and value or command")
        step = self.env_step({"name": body["name"], "value": ""}, at)
        return Step("env", env_name=step.env_name,
                    run=self.string(body["command"], (*at, "command")),
                    shell=self.shell_of(body, at))
