"""What the server-side repo config says for one repository, and how it bounds
that repository's own atlantis.yaml / workflows.yaml.

Matching follows Atlantis: every `repos:` entry whose id matches is merged in
order, a later entry's key replacing an earlier one's, keys it leaves out
standing; the branch regex is the last matching entry's; hooks of every
matching entry run. Ids are host-qualified (`github.com/acme/infra`), and the
bare name (`acme/infra`) matches too, since atlantis-py names repositories so.

The repository's file is then checked against the result, as Atlantis's
ValidateRepoCfg does: a key the server does not let it set is a config error
naming the file, line and key. Server settings bound the repository's, as
--min-approvals does: repos.yaml's apply_requirements are a floor on every
environment unless allowed_overrides lets the repository choose its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from atlantis_py.core.config.reader import ConfigReader
from atlantis_py.domain.projects import (
    DEFAULT_WORKFLOW,
    Environment,
    Project,
    RepoConfig,
    floored,
)
from atlantis_py.domain.server_config import RepoPolicy, RepoRule, ServerRepoConfig

_NONE = "none"  # atlantis.yaml's `apply_requirements: []` when the server's would apply


class RepoPolicies:
    """repos.yaml for every repository; `hosts` maps a forge (github, gitlab,
    local) to the host its ids are qualified with (github.com, gitlab.example.com)."""

    def __init__(self, config: ServerRepoConfig | None = None,
                 hosts: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.hosts = dict(hosts or {})

    def for_repo(self, forge: str, full_name: str) -> RepoPolicy | None:
        """None when the server has no repos.yaml: the repository's file rules alone."""
        if self.config is None:
            return None
        host = self.hosts.get(forge, forge)
        return policy_for(self.config, f"{host}/{full_name}", full_name)


def matches(rule: RepoRule, repo_id: str, bare: str) -> bool:
    if rule.id_regex is None:
        return rule.id in (repo_id, bare)
    return any(re.search(rule.id_regex, name) for name in (repo_id, bare))


def policy_for(config: ServerRepoConfig, repo_id: str, bare: str = "") -> RepoPolicy:
    """The merge of every entry matching `repo_id` (or its `bare` name)."""
    policy = RepoPolicy(repo_id=repo_id, source=config.file, workflows=config.workflows)
    for rule in config.repos:
        if not matches(rule, repo_id, bare or repo_id):
            continue
        changes: dict[str, object] = {"branch": rule.branch}  # the last match's, set or not
        for key in ("repo_config_file", "apply_requirements", "workflow",
                    "allow_custom_workflows", "delete_source_branch_on_merge",
                    "allowed_workflows", *_SERVER_DEFAULTS, "autodiscover",
                    "autodiscover_ignore", "policy_check"):
            if getattr(rule, key) is not None:
                changes[key] = getattr(rule, key)
        if rule.allowed_overrides is not None:
            changes["allowed_overrides"] = frozenset(rule.allowed_overrides)
        changes["pre_workflow_hooks"] = (*policy.pre_workflow_hooks, *rule.pre_workflow_hooks)
        changes["post_workflow_hooks"] = (*policy.post_workflow_hooks,
                                          *rule.post_workflow_hooks)
        policy = replace(policy, **changes)  # type: ignore[arg-type]
    return policy


def branch_served(policy: RepoPolicy | None, base_ref: str) -> bool:
    """Whether pull requests into `base_ref` are planned (repos.yaml `branch`)."""
    return policy is None or policy.branch is None or re.search(policy.branch, base_ref) is not None


def apply_policy(config: RepoConfig, text: str, file: str, policy: RepoPolicy | None
                 ) -> RepoConfig:
    """`config` (parsed from `text`, the repository's `file`; "" when it has
    none) as the server lets it be. Raises RepoConfigError for a key the
    server does not allow."""
    if policy is None:
        return config
    doc = _check(text, file, policy) if text else None
    workflows = dict(policy.workflows)
    workflows["default"] = policy.workflows.get(policy.workflow, DEFAULT_WORKFLOW)
    if policy.allow_custom_workflows:
        workflows.update(config.workflows)
    environments, floor = dict(config.environments), config.apply_floor
    projects = config.projects
    wanted = policy.apply_requirements
    if wanted is not None and not policy.allows("apply_requirements"):
        floor = wanted
    elif wanted is not None:
        # the repository may choose; projects that choose nothing get the server's
        if config.options.source != "workflows.yaml":
            projects = _chose_none(projects, doc)
            environments[_NONE] = Environment(_NONE, required_approvals=0,
                                              apply_requirements=())
        if config.options.source != "workflows.yaml" or "default" not in environments:
            environments["default"] = floored(
                environments.get("default", Environment("default")), wanted)
    delete_branch = policy.delete_source_branch_on_merge
    if policy.allows("delete_source_branch_on_merge") and isinstance(doc, dict) \
            and "delete_source_branch_on_merge" in doc:
        delete_branch = config.options.delete_source_branch_on_merge
    config = replace(config, projects=projects, workflows=workflows,
                     environments=environments, apply_floor=floor,
                     options=replace(config.options,
                                     delete_source_branch_on_merge=delete_branch))
    return _discovery(_server_defaults(config, doc, policy), policy)


# repos.yaml keys that are every project's default, a project's own value
# standing only where allowed_overrides lets the repository set it
_SERVER_DEFAULTS = ("plan_requirements", "import_requirements", "repo_locks",
                    "silence_pr_comments")


def _server_defaults(config: RepoConfig, doc: object, policy: RepoPolicy) -> RepoConfig:
    """The server's plan/import requirements, lock mode and silenced comments on
    every project that may not (or does not) set its own, as Atlantis's
    MergeProjectCfg: the server's value, then (if allowed) the file's top
    level, then the project's."""
    if all(getattr(policy, key) is None for key in _SERVER_DEFAULTS):
        return config
    top = doc if isinstance(doc, dict) else {}
    listed = top.get("projects")
    raws: list[object] = list(listed) if isinstance(listed, list) \
        and len(listed) == len(config.projects) else [{}] * len(config.projects)

    def own(raw: object, key: str) -> bool:
        return policy.allows(key) and isinstance(raw, dict) and key in raw

    options = config.options
    locks = policy.repo_locks
    if locks is not None and not own(top, "repo_locks"):
        options = replace(options, repo_locks=locks)
    silenced = policy.silence_pr_comments
    if silenced is not None and not own(top, "silence_pr_comments"):
        options = replace(options, silence_pr_comments=silenced)
    options = replace(options, plan_requirements=policy.plan_requirements or ())
    projects = []
    for project, raw in zip(config.projects, raws, strict=True):
        changes: dict[str, object] = {}
        for key in ("plan_requirements", "import_requirements"):
            if getattr(policy, key) is not None and not own(raw, key):
                changes[key] = getattr(policy, key)
        if silenced is not None and not own(raw, "silence_pr_comments"):
            changes["silence_pr_comments"] = options.silence_pr_comments
        if locks is not None and not own(raw, "repo_locks"):
            mode = locks  # then repo_locking, then the file's top-level repo_locks
            if own(raw, "repo_locking") and isinstance(raw, dict):
                mode = "disabled" if raw["repo_locking"] is False else \
                    ("on_plan" if mode == "disabled" else mode)
            changes["repo_locks"] = options.repo_locks if own(top, "repo_locks") else mode
        projects.append(replace(project, **changes) if changes  # type: ignore[arg-type]
                        else project)
    return replace(config, projects=tuple(projects), options=options)


def _discovery(config: RepoConfig, policy: RepoPolicy) -> RepoConfig:
    """repos.yaml's `autodiscover` wins over the file's (as in Atlantis); its
    ignore_paths only when it gives some."""
    if policy.autodiscover is None and policy.autodiscover_ignore is None:
        return config
    options = config.options
    mode = policy.autodiscover or options.autodiscover
    explicit = config.explicit if mode == options.autodiscover else \
        mode != "auto" or bool(config.projects)
    ignore = options.ignore_paths if policy.autodiscover_ignore is None \
        else policy.autodiscover_ignore
    return replace(config, explicit=explicit,
                   options=replace(options, autodiscover=mode, ignore_paths=ignore))


def _chose_none(projects: tuple[Project, ...], doc: object) -> tuple[Project, ...]:
    """atlantis.yaml's projects that say `apply_requirements: []` themselves (the
    reader put them in `default` with those that say nothing) in `none`, which
    the server's requirements do not reach."""
    listed = doc.get("projects") if isinstance(doc, dict) else None
    if not isinstance(listed, list) or len(listed) != len(projects):
        return projects
    return tuple(
        replace(p, environment=_NONE) if p.environment == "default" and isinstance(raw, dict)
        and "apply_requirements" in raw else p for p, raw in zip(projects, listed, strict=True))


def _check(text: str, file: str, policy: RepoPolicy) -> object:
    """The document, once every key it sets is one the server allows."""
    reader = ConfigReader(file, text)
    doc = reader.doc
    if not isinstance(doc, dict):
        return doc
    needs = f"{policy.source} would need `{{}}` for {policy.repo_id}"
    own = doc.get("workflows")
    own_workflows = own if isinstance(own, dict) else {}
    if own_workflows and not policy.allow_custom_workflows:
        reader.fail(("workflows",), "the server does not allow this repository to define "
                    "its own workflows: " + needs.format("allow_custom_workflows: true"),
                    at_key=True)
    for key in ("delete_source_branch_on_merge", "repo_locks", "silence_pr_comments"):
        if key in doc and not policy.allows(key):
            reader.fail((key,), _not_allowed(key, needs), at_key=True)
    projects = doc.get("projects")
    for i, project in enumerate(projects if isinstance(projects, list) else []):
        if not isinstance(project, dict):
            continue
        for key in ("workflow", "apply_requirements", "plan_requirements",
                    "import_requirements", "repo_locking", "repo_locks", "silence_pr_comments",
                    "delete_source_branch_on_merge"):
            if key in project and not policy.allows(key):
                reader.fail(("projects", i, key), _not_allowed(key, needs), at_key=True)
        name = project.get("workflow")
        if isinstance(name, str) and policy.allowed_workflows and name != "default" \
                and name not in policy.allowed_workflows \
                and not (policy.allow_custom_workflows and name in own_workflows):
            reader.fail(("projects", i, "workflow"), f"the server does not allow workflow "
                        f"{name!r} for this repository; allowed: default, "
                        + ", ".join(policy.allowed_workflows)
                        + f" (allowed_workflows in {policy.source})")
    return doc


def _not_allowed(key: str, needs: str) -> str:
    return (f"the server does not allow this repository to set `{key}`: "
            + needs.format(f"allowed_overrides: [{key}]"))
