"""atlantis.yaml's `plan_requirements`, checked before a project is planned:
the facts (reviews, the forge's mergeability, how far the branch is behind
its base) are gathered here, at most once per plan; the sentences come from
core/requirements.py. `approved` is met when the project's environment
(from the rules branch) counts at least one approval, and as many as it
requires, of the head commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from atlantis_py.core.approvals import Facts, evaluate_approval, resolve_members, resolve_writers
from atlantis_py.core.requirements import plan_requirement_refusals
from atlantis_py.core.selection import for_base_branch
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.records import PullRecord
from atlantis_py.flows.access import can_approve
from atlantis_py.flows.gate import _apply_checks, all_reviews, environment
from atlantis_py.flows.services import Services


def requirements_of(project: Project, head: RepoConfig, rules: RepoConfig) -> tuple[str, ...]:
    """The rules branch's entry for the project decides, as for its environment
    (a pull request cannot drop its own requirements); the PR's own entry only
    for projects the rules branch does not list; repos.yaml's for the rest."""
    for config in (rules, head):
        same = [p for p in config.projects
                if p.dir == project.dir and p.workspace == project.workspace]
        named = [p for p in same if p.name == project.name]
        if same:
            return (named or same)[0].plan_requirements
    return rules.options.plan_requirements  # repos.yaml's, for a project no file lists


def unmet(svc: Services, record: PullRecord, pull: PullRequest, head: RepoConfig,
          rules: RepoConfig, projects: Sequence[Project], envs: Mapping[str, str]
          ) -> dict[str, str]:
    """Project name → why it may not be planned, for the projects whose
    plan_requirements are not met."""
    rules = for_base_branch(rules, pull.base_ref)  # its entries for this base branch
    wanted = {p.name: requirements_of(p, head, rules) for p in projects}
    if not any(wanted.values()):
        return {}
    forge = svc.forges[record.forge]
    reviews = all_reviews(svc, record) if any("approved" in w for w in wanted.values()) else []
    writers = resolve_writers(reviews, lambda user: can_approve(forge, record.repo, user))
    mergeable, behind = _apply_checks(svc, pull)
    assert mergeable is not None and behind is not None
    out: dict[str, str] = {}
    for p in projects:
        wants = wanted[p.name]
        if not wants:
            continue
        missing = None
        if "approved" in wants:
            env = environment(svc, rules, envs[p.name])
            env = replace(env, apply_requirements=("approved",),
                          required_approvals=max(1, env.required_approvals))
            facts = Facts(author=record.author, opened_by=record.opened_by,
                          head_sha=pull.head_sha, now=svc.clock(),
                          reviews=tuple(reviews), repo=record.repo, writers=writers,
                          members=resolve_members(env, [r.user for r in reviews],
                                                  forge.in_team),
                          base_ref=pull.base_ref)
            missing = evaluate_approval(env, facts).missing
        refusals = plan_requirement_refusals(
            wants, pull.base_ref, approvals_missing=missing,
            mergeable=mergeable() if "mergeable" in wants else None,
            behind=behind() if "undiverged" in wants else None)
        if refusals:
            out[p.name] = "; ".join(refusals)
    return out
