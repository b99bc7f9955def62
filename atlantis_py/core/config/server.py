"""The server-side repo config (`--repo-config FILE` / `--repo-config-json
JSON`), in Atlantis's repos.yaml format → ServerRepoConfig.

The administrator writes it, so its workflows' `run` steps and its hooks are
trusted; but a mistake in it must stop the server at start rather than show
up on some pull request later, so every refusal names the file, the line and
the key. JSON is read by the same YAML walk (JSON is YAML), so it gets line
numbers too. Atlantis keys atlantis-py does not support yet are refused by
name; `policies:` is read by the policy-set parser (core/config/policies.py).
`custom_policy_check: true` is refused: policy checks here are the server's
policy sets, never a workflow's own steps.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from types import MappingProxyType

from atlantis_py.core.config.atlantis import _AtlantisReader
from atlantis_py.core.config.policies import parse_policies
from atlantis_py.core.config.reader import Path
from atlantis_py.domain.projects import APPLY_REQUIREMENTS, Step, Workflow
from atlantis_py.domain.server_config import (
    OVERRIDABLE,
    OVERRIDABLE_ELSEWHERE,
    Hook,
    RepoRule,
    ServerRepoConfig,
)

JSON_SOURCE = "--repo-config-json"
_TOP = ("repos", "workflows", "policies")
_TOP_LATER = ("metrics", "team_authz", "external_stores")
_REPO = ("id", "branch", "repo_config_file", "apply_requirements", "workflow",
         "allowed_overrides", "allowed_workflows", "allow_custom_workflows",
         "delete_source_branch_on_merge", "pre_workflow_hooks", "post_workflow_hooks",
         "plan_requirements", "import_requirements", "repo_locking", "repo_locks",
         "silence_pr_comments", "autodiscover", "policy_check", "custom_policy_check")
_REPO_LATER: tuple[str, ...] = ()
_HOOK = ("run", "description", "commands")
_HOOK_SHELL = ("shell", "shellArgs")
_HOOK_COMMANDS = ("plan", "apply")
_LATER = "atlantis-py does not support it yet (README: Server-side repo config); remove it"


def parse_server_config(text: str, file: str) -> ServerRepoConfig:
    """Parse and validate repos.yaml (or its JSON); raises RepoConfigError."""
    return _ServerReader(file, text).server_config()


def is_regex(value: str) -> bool:
    return len(value) >= 2 and value.startswith("/") and value.endswith("/")


class _ServerReader(_AtlantisReader):
    later = _LATER

    def server_config(self) -> ServerRepoConfig:
        top = self.known({} if self.doc is None else self.doc, (), _TOP, _TOP_LATER)
        workflows = self.named(top.get("workflows"), ("workflows",), self.trusted_workflow)
        raw = top.get("repos")
        items = [] if raw is None else self.sequence(raw, ("repos",))
        repos = tuple(self.repo(item, ("repos", i), workflows) for i, item in enumerate(items))
        raw_policies = top.get("policies")
        policies = (None if raw_policies is None
                    else parse_policies(raw_policies, self.file, reader=self))
        return ServerRepoConfig(
            file=self.file, repos=repos, workflows=MappingProxyType(workflows),
            policies=policies)

    def trusted_workflow(self, name: str, value: object, path: Path) -> Workflow:
        """A server-side workflow: the administrator's `run` steps run without
        --allow-custom-steps, which guards against the repositories' own."""
        flow = self.workflow(name, value, path)
        return Workflow(name=name, plan=tuple(_trusted(s) for s in flow.plan),
                        apply=tuple(_trusted(s) for s in flow.apply))

    def repo(self, value: object, path: Path, workflows: dict[str, Workflow]) -> RepoRule:
        body = self.known(value, path, _REPO, _REPO_LATER)
        if "id" not in body:
            self.fail(path, "missing 'id'; give a repository id such as "
                      "github.com/acme/infra (or acme/infra), or a /regex/")
        repo_id = self.string(body["id"], (*path, "id"))
        regex = self.regex(repo_id, (*path, "id")) if is_regex(repo_id) else None
        branch = None
        if "branch" in body:
            raw_branch = self.string(body["branch"], (*path, "branch"))
            if not is_regex(raw_branch):
                self.fail((*path, "branch"), f"{raw_branch!r} must be a regex between "
                          "slashes, e.g. /^main$/ or /.*/")
            branch = self.regex(raw_branch, (*path, "branch"))
        defined = ("default", *workflows)
        workflow = None
        if "workflow" in body:
            workflow = self.string(body["workflow"], (*path, "workflow"))
            if workflow not in defined:
                self.fail((*path, "workflow"), f"workflow {workflow!r} is not defined in "
                          "`workflows:`; known: " + ", ".join(dict.fromkeys(defined)))
        allowed_workflows = self.optional_strings(body, path, "allowed_workflows")
        for i, name in enumerate(allowed_workflows or ()):
            if name not in defined:
                self.fail((*path, "allowed_workflows", i), f"workflow {name!r} is not "
                          "defined in `workflows:`; known: " + ", ".join(dict.fromkeys(defined)))
        overrides = self.optional_strings(body, path, "allowed_overrides")
        for i, key in enumerate(overrides or ()):
            if key not in (*OVERRIDABLE, *OVERRIDABLE_ELSEWHERE):
                self.fail((*path, "allowed_overrides", i), f"{key!r} cannot be overridden; "
                          "allowed: " + ", ".join(OVERRIDABLE))
        requirements = self.optional_strings(body, path, "apply_requirements")
        for i, item in enumerate(requirements or ()):
            if item not in APPLY_REQUIREMENTS:
                self.fail((*path, "apply_requirements", i), f"apply requirement {item!r} is "
                          "not supported; supported: " + ", ".join(APPLY_REQUIREMENTS))
        if self.optional_flag(body, path, "custom_policy_check"):
            self.fail((*path, "custom_policy_check"), "custom_policy_check: true is not "
                      "supported: policies are checked by the server's policy sets "
                      "(`policies:`), and a workflow's policy_check steps are refused; "
                      "remove it or set it to false")
        discover: str | None = None
        ignore: tuple[str, ...] | None = None
        if "autodiscover" in body:
            discover, ignore = self.autodiscover(body, path)
            raw = body["autodiscover"]
            if not isinstance(raw, dict) or "ignore_paths" not in raw:
                ignore = None  # the repository's own ignore_paths stand, as in Atlantis
        return RepoRule(
            id=repo_id, id_regex=regex, branch=branch,
            repo_config_file=self.config_file(body, path),
            apply_requirements=None if requirements is None else tuple(
                r for r in APPLY_REQUIREMENTS if r in requirements),
            workflow=workflow, allowed_overrides=overrides,
            allowed_workflows=allowed_workflows,
            allow_custom_workflows=self.optional_flag(body, path, "allow_custom_workflows"),
            delete_source_branch_on_merge=self.optional_flag(
                body, path, "delete_source_branch_on_merge"),
            pre_workflow_hooks=self.hooks(body, path, "pre_workflow_hooks"),
            post_workflow_hooks=self.hooks(body, path, "post_workflow_hooks"),
            plan_requirements=self.optional_requirements(body, path, "plan_requirements"),
            import_requirements=self.optional_requirements(body, path, "import_requirements"),
            repo_locks=self.server_lock_mode(body, path),
            silence_pr_comments=self.silenced(body, path),
            autodiscover=discover, autodiscover_ignore=ignore,
            policy_check=self.optional_flag(body, path, "policy_check"))

    def optional_requirements(self, body: dict[str, object], path: Path,
                              key: str) -> tuple[str, ...] | None:
        return None if key not in body else self.requirement_list(body, path, key)

    def server_lock_mode(self, body: dict[str, object], path: Path) -> str | None:
        """`repo_locks: {mode}`, else `repo_locking: false` (disabled) / true (on_plan)."""
        mode = self.lock_mode(body, path)
        if mode is None and "repo_locking" in body:
            mode = "on_plan" if self.flag(body, path, "repo_locking", True) else "disabled"
        return mode

    def regex(self, value: str, path: Path) -> str:
        pattern = value[1:-1]
        try:
            re.compile(pattern)
        except re.error as e:
            self.fail(path, f"{value!r} is not a valid regex: {e}")
        return pattern

    def config_file(self, body: dict[str, object], path: Path) -> str | None:
        if "repo_config_file" not in body:
            return None
        at = (*path, "repo_config_file")
        name = self.directory(body["repo_config_file"], at)
        if name == ".":
            self.fail(at, "name a file, e.g. atlantis-production.yaml")
        return name

    def optional_strings(self, body: dict[str, object], path: Path,
                         key: str) -> tuple[str, ...] | None:
        return None if key not in body else self.strings(body[key], (*path, key))

    def optional_flag(self, body: dict[str, object], path: Path, key: str) -> bool | None:
        return None if key not in body else self.flag(body, path, key, False)

    def hooks(self, body: dict[str, object], path: Path, key: str) -> tuple[Hook, ...]:
        if key not in body or body[key] is None:
            return ()
        items = self.sequence(body[key], (*path, key))
        return tuple(self.hook(item, (*path, key, i)) for i, item in enumerate(items))

    def hook(self, value: object, path: Path) -> Hook:
        if isinstance(value, dict):
            for name in _HOOK_SHELL:
                if name in value:
                    self.fail((*path, name), "hooks run without a shell here: give `run` "
                              "as a list instead, e.g. run: [bash, -c, \"…\"]", at_key=True)
        body = self.mapping(value, path, _HOOK)
        if "run" not in body:
            self.fail(path, "missing 'run'; give a command (split like a shell would, "
                      "nothing interpreted) or a list of arguments")
        raw, at = body["run"], (*path, "run")
        if isinstance(raw, list):
            argv = self.strings(raw, at)
            if not argv:
                self.fail(at, "must not be empty")
        else:
            text = self.string(raw, at)
            try:
                argv = tuple(shlex.split(text))
            except ValueError as e:
                self.fail(at, f"cannot split {text!r} into arguments: {e}")
        description = ""
        if "description" in body:
            description = self.string(body["description"], (*path, "description"))
        commands: tuple[str, ...] = ()
        if "commands" in body:
            listed = self.string(body["commands"], (*path, "commands"))
            commands = tuple(c.strip() for c in listed.split(",") if c.strip())
            for name in commands:
                if name not in _HOOK_COMMANDS:
                    self.fail((*path, "commands"), f"hooks run for {', '.join(_HOOK_COMMANDS)}"
                              f"; {name!r} is not one of them")
        return Hook(argv=argv, description=description, commands=commands,
                    expand=not isinstance(raw, list))


def _trusted(step: Step) -> Step:
    return replace(step, trusted=True)
