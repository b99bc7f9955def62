"""Running terraform: argv lists, an explicit environment, a deadline.

Terraform runs code from the pull request (providers, external data sources),
so it gets only the environment it needs, never the server's whole environment
(which holds forge tokens and webhook secrets): the fixed PASSTHROUGH_ENV, the
server variables the operator names with `--tf-env-passthrough` globs (never an
ATLANTIS_* one), and a project's credentials (runner/credentials.py).
The process itself is runner/process.py's, the environment runner/child_env.py's;
their names are re-exported here.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from atlantis_py.domain.results import PlanCounts
from atlantis_py.errors import AtlantisError
from atlantis_py.runner.child_env import (
    PASSTHROUGH_ENV,
    SERVER_OWN_PREFIX,
    matching_env,
    passthrough_env,
)
from atlantis_py.runner.process import (
    NOT_FOUND_RETURNCODE,
    TIMEOUT_RETURNCODE,
    TerraformRun,
    execute,
)

log = logging.getLogger(__name__)


class TerraformError(AtlantisError):
    """Terraform ran but its output could not be used (e.g. `show -json` failed)."""


class Terraform:
    """The terraform binary with the server's settings. `env` holds variables
    every run gets; `passthrough` globs name server variables it also gets
    (cloud credentials every project may use)."""

    def __init__(
        self,
        binary: str = "terraform",
        timeout: float = 1800,
        plugin_cache_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
        passthrough: Sequence[str] = (),
    ) -> None:
        self.binary = binary
        self.timeout = timeout
        self.plugin_cache_dir = plugin_cache_dir
        self._env = dict(env or {})
        self.passthrough = tuple(passthrough)
        self.version = ""

    def using(self, binary: str, version: str = "") -> Terraform:
        """The same settings with another binary (a project's terraform_version).
        As in Atlantis, its runs and `run` steps see ATLANTIS_TERRAFORM_VERSION
        and find the versioned binary on PATH (`terraform$ATLANTIS_TERRAFORM_VERSION`)."""
        if (binary, version) == (self.binary, self.version):
            return self
        other = copy.copy(self)
        other.binary, other.version = binary, version
        return other

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The whole environment of a run; custom `run` steps get it too."""
        env = passthrough_env(self.passthrough)
        env.update(self._env)
        env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
        if self.plugin_cache_dir is not None:
            self.plugin_cache_dir.mkdir(parents=True, exist_ok=True)
            env["TF_PLUGIN_CACHE_DIR"] = str(self.plugin_cache_dir)
        if self.version:
            env["ATLANTIS_TERRAFORM_VERSION"] = self.version
            if os.path.isabs(self.binary):
                folder = os.path.dirname(self.binary)
                env["PATH"] = os.pathsep.join(p for p in (env.get("PATH"), folder) if p)
        env.update(extra or {})
        return env

    def run(
        self,
        args: Sequence[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> TerraformRun:
        result = execute([self.binary, *args], cwd, self.environment(env), self.timeout, ok_codes)
        log.info(
            "terraform %s in %s: exit %d in %.2f s",
            args[0] if args else "",
            cwd,
            result.returncode,
            result.duration,
        )
        return result

    def init(
        self, cwd: Path, extra: Sequence[str] = (), env: Mapping[str, str] | None = None
    ) -> TerraformRun:
        return self.run(["init", "-input=false", "-no-color", *extra], cwd, env)

    def validate(self, cwd: Path, env: Mapping[str, str] | None = None) -> TerraformRun:
        return self.run(["validate", "-no-color"], cwd, env)

    def plan(
        self,
        cwd: Path,
        out: Path,
        extra: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> TerraformRun:
        """`-detailed-exitcode`: 0 no changes, 2 changes (both succeed), 1 error."""
        args = ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={out}", *extra]
        return self.run(args, cwd, env, ok_codes=(0, 2))

    def show_json(
        self, cwd: Path, planfile: Path, env: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The saved plan as JSON. Run apart from `run()` because stderr
        warnings must not end up inside the JSON."""
        argv = [self.binary, "show", "-json", "-no-color", str(planfile)]
        try:
            proc = subprocess.run(
                argv,
                cwd=cwd,
                env=self.environment(env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TerraformError(f"terraform show -json failed: {e}") from e
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", "replace").strip()
            raise TerraformError(f"terraform show -json failed: {stderr}")
        try:
            data = json.loads(proc.stdout)
        except ValueError as e:
            raise TerraformError(f"terraform show -json printed invalid JSON: {e}") from e
        if not isinstance(data, dict):
            raise TerraformError("terraform show -json printed no JSON object")
        return data

    def apply(
        self,
        cwd: Path,
        planfile: Path,
        env: Mapping[str, str] | None = None,
        extra: Sequence[str] = (),
    ) -> TerraformRun:
        args = ["apply", "-input=false", "-no-color", *extra, str(planfile)]
        return self.run(args, cwd, env)

    def import_resource(self, cwd: Path, address: str, resource_id: str,
                        extra: Sequence[str] = (), env: Mapping[str, str] | None = None
                        ) -> TerraformRun:
        """`terraform import`; the address and ID come from a comment, so they
        follow `--` and are never read as options."""
        args = ["import", "-input=false", "-no-color", *extra, "--", address, resource_id]
        return self.run(args, cwd, env)

    def state_rm(self, cwd: Path, addresses: Sequence[str], extra: Sequence[str] = (),
                 env: Mapping[str, str] | None = None) -> TerraformRun:
        """`terraform state rm`, the addresses after `--` as for import."""
        return self.run(["state", "rm", "-no-color", *extra, "--", *addresses], cwd, env)

    def print_version(self, cwd: Path, env: Mapping[str, str] | None = None) -> TerraformRun:
        """`terraform version` (the `version` attribute is the pinned version asked for)."""
        return self.run(["version", "-no-color"], cwd, env)

    def select_workspace(
        self, cwd: Path, name: str, env: Mapping[str, str] | None = None
    ) -> TerraformRun | None:
        """Select (creating it if needed) a workspace. None when it is already
        selected, which is the usual case for "default": no process is run."""
        if not name or name.startswith("-"):
            raise ValueError(f"invalid terraform workspace name {name!r}")
        if self.current_workspace(cwd, env) == name:
            return None
        return self.run(["workspace", "select", "-or-create", "-no-color", name], cwd, env)

    def current_workspace(self, cwd: Path, env: Mapping[str, str] | None = None) -> str:
        """The workspace terraform will use in `cwd`, read from the data dir
        the way terraform does (`TF_WORKSPACE` wins, no file means default)."""
        full = self.environment(env)
        if full.get("TF_WORKSPACE"):
            return full["TF_WORKSPACE"]
        marker = cwd / full.get("TF_DATA_DIR", ".terraform") / "environment"
        try:
            return marker.read_text().strip() or "default"
        except FileNotFoundError:
            return "default"


def plan_counts(plan_json: Mapping[str, Any]) -> PlanCounts:
    """Count `resource_changes` the way terraform's "Plan: …" line does: a
    replace is one add plus one destroy (and is also counted in `replace`);
    no-op, read and forget are not counted. Drift is not a change."""
    add = change = destroy = replace = 0
    for resource in plan_json.get("resource_changes") or ():
        actions = tuple((resource.get("change") or {}).get("actions") or ())
        if actions == ("create",):
            add += 1
        elif actions == ("update",):
            change += 1
        elif actions == ("delete",):
            destroy += 1
        elif actions in (("delete", "create"), ("create", "delete")):
            add += 1
            destroy += 1
            replace += 1
    return PlanCounts(add=add, change=change, destroy=destroy, replace=replace)


__all__ = [
    "NOT_FOUND_RETURNCODE", "PASSTHROUGH_ENV", "SERVER_OWN_PREFIX", "TIMEOUT_RETURNCODE",
    "Terraform", "TerraformError", "TerraformRun", "execute", "matching_env",
    "passthrough_env", "plan_counts",
]
