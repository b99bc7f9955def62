"""The server-side repo config (Atlantis's repos.yaml), written by the server's
administrator: which repositories get which workflow, apply requirements and
hooks, and what their own atlantis.yaml / workflows.yaml may change.

`ServerRepoConfig` is the file as parsed; `RepoPolicy` is what it says for one
repository after every matching entry is merged (later entries win, key by
key, as in Atlantis)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from atlantis_py.domain.policies import PolicySets
from atlantis_py.domain.projects import Workflow

# the repo-side keys repos.yaml may let a repository set (allowed_overrides)
OVERRIDABLE = ("apply_requirements", "workflow", "delete_source_branch_on_merge",
               "plan_requirements", "import_requirements", "repo_locking", "repo_locks",
               "silence_pr_comments")
# Atlantis's other overridable keys: accepted in allowed_overrides, but the repo
# side refuses these keys anyway (core/config/atlantis.py), so they allow nothing
OVERRIDABLE_ELSEWHERE = ("policy_check", "custom_policy_check")


@dataclass(frozen=True)
class Hook:
    """A pre or post workflow hook: `argv` runs with no shell (a `run:` string is
    split like a shell would, with nothing interpreted; an explicit list such as
    `[sh, -c, "…"]` is the only way to a shell). `commands` limits it to those
    commands (plan, apply); empty means every command. `expand`: `$NAME` in an
    argument is replaced from the hook's environment (a string `run:`; a list
    is left for the shell it names)."""

    argv: tuple[str, ...]
    description: str = ""
    commands: tuple[str, ...] = ()
    expand: bool = True

    def runs_for(self, command: str) -> bool:
        return not self.commands or command in self.commands


@dataclass(frozen=True)
class RepoRule:
    """One entry of `repos:`. None means the entry does not set the key, so an
    earlier matching entry's value stands. `id` is an exact id or a regex
    (`id_regex`, written `/…/`); `branch` a regex of base branches."""

    id: str
    id_regex: str | None = None
    branch: str | None = None
    repo_config_file: str | None = None
    apply_requirements: tuple[str, ...] | None = None
    workflow: str | None = None
    allowed_overrides: tuple[str, ...] | None = None
    allowed_workflows: tuple[str, ...] | None = None
    allow_custom_workflows: bool | None = None
    delete_source_branch_on_merge: bool | None = None
    pre_workflow_hooks: tuple[Hook, ...] = ()
    post_workflow_hooks: tuple[Hook, ...] = ()
    plan_requirements: tuple[str, ...] | None = None
    import_requirements: tuple[str, ...] | None = None
    repo_locks: str | None = None  # a REPO_LOCK_MODES mode (repo_locking: false → disabled)
    silence_pr_comments: tuple[str, ...] | None = None
    autodiscover: str | None = None  # a mode: auto, enabled, disabled
    autodiscover_ignore: tuple[str, ...] | None = None
    policy_check: bool | None = None


@dataclass(frozen=True)
class ServerRepoConfig:
    """repos.yaml after validation. `file` names it in messages (the path, or
    `--repo-config-json`). `policies` are its `policies:` section's policy sets;
    None when absent."""

    file: str
    repos: tuple[RepoRule, ...] = ()
    workflows: Mapping[str, Workflow] = field(default_factory=dict)
    policies: PolicySets | None = None


@dataclass(frozen=True)
class RepoPolicy:
    """What repos.yaml says for one repository (Atlantis's getMatchingCfg).
    `branch` is the last matching entry's regex (None: every branch);
    `workflows` the server's workflows by name; `workflow` the name of the
    repository's default one. Hooks of every matching entry run, in order."""

    repo_id: str
    source: str
    branch: str | None = None
    repo_config_file: str | None = None
    apply_requirements: tuple[str, ...] | None = None
    workflow: str = "default"
    allowed_overrides: frozenset[str] = frozenset()
    allowed_workflows: tuple[str, ...] = ()
    allow_custom_workflows: bool = False
    delete_source_branch_on_merge: bool = False
    pre_workflow_hooks: tuple[Hook, ...] = ()
    post_workflow_hooks: tuple[Hook, ...] = ()
    workflows: Mapping[str, Workflow] = field(default_factory=dict)
    # None: the server leaves it to the repository's file
    plan_requirements: tuple[str, ...] | None = None
    import_requirements: tuple[str, ...] | None = None
    repo_locks: str | None = None
    silence_pr_comments: tuple[str, ...] | None = None
    autodiscover: str | None = None
    autodiscover_ignore: tuple[str, ...] | None = None
    policy_check: bool = True  # False: the server's policy sets skip this repository

    def allows(self, key: str) -> bool:
        return key in self.allowed_overrides
