"""atlantis.yaml's branch, repo_locks, silence_pr_comments, plan/import
requirements and autodiscover: parsed as Atlantis merges them, then decided
by core (which projects a base branch plans, what a comment shows, what
keeps a project from planning)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from atlantis_py.core.config.atlantis import parse_atlantis_config
from atlantis_py.core.detect import affected_projects
from atlantis_py.core.outcomes import unsilenced
from atlantis_py.core.requirements import plan_requirement_refusals
from atlantis_py.core.selection import for_base_branch, select_projects, with_file_defaults
from atlantis_py.domain.commands import Command, CommandName
from atlantis_py.domain.forge import Mergeability
from atlantis_py.domain.projects import Project
from atlantis_py.domain.records import RunRecord
from atlantis_py.domain.results import ProjectResult, RunStatus
from atlantis_py.flows.automerge import project_setting
from atlantis_py.flows.plan_requirements import requirements_of


def test_project_keys() -> None:
    config = parse_atlantis_config("""\
version: 3
projects:
- dir: a
  branch: /^(main|release-.*)$/
  plan_requirements: [undiverged, approved]
  import_requirements: [mergeable]
  silence_pr_comments: [apply]
- dir: b
""")
    a, b = config.projects
    assert a.branch == "^(main|release-.*)$" and b.branch is None
    assert a.plan_requirements == ("approved", "undiverged")  # Atlantis's order
    assert a.import_requirements == ("mergeable",)
    assert a.silence_pr_comments == ("apply",) and b.silence_pr_comments == ()
    assert (a.repo_locks, b.repo_locks) == ("on_plan", "on_plan")


@pytest.mark.parametrize("top, project, mode", [
    ("", "", "on_plan"),
    ("", "  repo_locking: false\n", "disabled"),
    ("", "  repo_locking: true\n", "on_plan"),
    ("repo_locks: {mode: on_apply}\n", "", "on_apply"),
    ("repo_locks: {mode: on_apply}\n", "  repo_locks: {mode: disabled}\n", "disabled"),
    # as Atlantis merges them: repo_locks (the file's or the project's) wins over repo_locking
    ("repo_locks: {mode: on_apply}\n", "  repo_locking: false\n", "on_apply"),
    ("", "  repo_locking: false\n  repo_locks: {mode: on_plan}\n", "on_plan"),
    ("", "  repo_locks: {}\n", "on_plan"),
])
def test_lock_mode_merge(top: str, project: str, mode: str) -> None:
    config = parse_atlantis_config(f"version: 3\n{top}projects:\n- dir: a\n{project}")
    assert config.projects[0].repo_locks == mode


def test_silence_inherits_unless_the_project_says() -> None:
    config = parse_atlantis_config("""\
version: 3
silence_pr_comments: [plan, apply]
projects:
- dir: a
- dir: b
  silence_pr_comments: []
- dir: c
  silence_pr_comments: [plan]
""")
    assert [p.silence_pr_comments for p in config.projects] == [
        ("plan", "apply"), (), ("plan",)]


def test_autodiscover_and_prefixes() -> None:
    config = parse_atlantis_config(
        "version: 3\nautodiscover: {mode: enabled, ignore_paths: ['vendor/**']}\n"
        "allowed_regexp_prefixes: [dev/, staging/]\nprojects:\n- dir: a\n")
    assert config.options.autodiscover == "enabled"
    assert config.options.ignore_paths == ("vendor/**",)
    assert config.options.allowed_regexp_prefixes == ("dev/", "staging/")
    assert config.explicit
    # `auto` (the default) discovers only when no project is listed, `disabled` never
    assert not parse_atlantis_config("version: 3\n").explicit
    assert parse_atlantis_config("version: 3\nautodiscover: {mode: disabled}\n").explicit


def test_one_dir_per_branch_needs_no_names() -> None:
    """As in Atlantis, only one of them is read for a pull request."""
    config = parse_atlantis_config(
        "version: 3\nprojects:\n- {dir: a, branch: /main/}\n- {dir: a, branch: /dev/}\n")
    assert [p.branch for p in config.projects] == ["main", "dev"]
    assert [p.name for p in for_base_branch(config, "dev").projects] == ["a"]
    assert for_base_branch(config, "dev").projects[0].branch == "dev"


def test_base_branch_filter() -> None:
    config = parse_atlantis_config(
        "version: 3\nprojects:\n- {dir: a, branch: /^main$/}\n- {dir: b}\n"
        "- {dir: c, branch: /release/}\n")
    assert [p.dir for p in for_base_branch(config, "main").projects] == ["a", "b"]
    assert [p.dir for p in for_base_branch(config, "old-release-1").projects] == ["b", "c"]
    assert for_base_branch(config, "main-2").explicit


def test_projects_all_for_other_branches_discover_as_atlantis_does(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "main.tf").write_text("")
    text = "version: 3\n{}projects:\n- {{dir: a, branch: /^main$/}}\n"
    auto = for_base_branch(parse_atlantis_config(text.format("")), "dev")
    assert not auto.explicit and auto.projects == ()
    assert [p.dir for p in affected_projects(auto, ["a/main.tf"], tmp_path)] == ["a"]
    off = for_base_branch(
        parse_atlantis_config(text.format("autodiscover: {mode: disabled}\n")), "dev")
    assert off.explicit and affected_projects(off, ["a/main.tf"], tmp_path) == []


def test_autodiscover_enabled_plans_unlisted_dirs_but_ignored_ones(tmp_path: Path) -> None:
    for d in ("a", "b", "vendor/x"):
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "main.tf").write_text("")
    changed = ["a/main.tf", "b/main.tf", "vendor/x/main.tf"]
    config = parse_atlantis_config(
        "version: 3\nautodiscover:\n  mode: enabled\n  ignore_paths: ['vendor/**']\n"
        "projects:\n- {dir: a, name: listed}\n")
    found = affected_projects(config, changed, tmp_path)
    assert [(p.name, p.dir) for p in found] == [("listed", "a"), ("b", "b")]
    listed_only = parse_atlantis_config("version: 3\nprojects:\n- {dir: a, name: listed}\n")
    assert [p.dir for p in affected_projects(listed_only, changed, tmp_path)] == ["a"]
    refused = select_projects(config, tmp_path, changed, Command(CommandName.PLAN, dir="vendor/x"))
    assert refused.projects == [] and refused.problem is not None
    assert "autodiscover.ignore_paths" in refused.problem


def test_plan_requirement_refusals() -> None:
    assert plan_requirement_refusals(("approved", "mergeable", "undiverged"), "main",
                                     approvals_missing=0, mergeable=Mergeability(True),
                                     behind=0) == ()
    refusals = plan_requirement_refusals(
        ("approved", "mergeable", "undiverged"), "main", approvals_missing=1,
        mergeable=Mergeability(False, "dirty"), behind=3)
    assert len(refusals) == 3
    assert "approved: this commit needs 1 more approval" in refusals[0]
    assert "mergeable" in refusals[1] and "`dirty`" in refusals[1]
    assert "3 commits behind `main`" in refusals[2]
    assert plan_requirement_refusals((), "main", approvals_missing=2, behind=1) == ()


def test_silenced_successes_leave_the_comment_failures_stay() -> None:
    def result(name: str, status: RunStatus) -> ProjectResult:
        return ProjectResult(project=name, dir=name, workspace="default", command="plan",
                             status=status)
    results = [result("a", RunStatus.SUCCESS), result("b", RunStatus.FAILURE),
               result("c", RunStatus.SUCCESS)]
    assert [r.project for r in unsilenced(results, {"a", "b"})] == ["b", "c"]
    assert unsilenced(results[:1], {"a"}) == []


def test_plan_requirements_come_from_the_rules_branch() -> None:
    rules = parse_atlantis_config(
        "version: 3\nprojects:\n- {dir: a, plan_requirements: [approved]}\n")
    head = parse_atlantis_config("version: 3\nprojects:\n- {dir: a}\n- {dir: b, "
                                 "plan_requirements: [mergeable]}\n")
    a, b = head.projects
    assert requirements_of(a, head, rules) == ("approved",)
    assert requirements_of(b, head, rules) == ("mergeable",)


def test_unlisted_projects_take_the_files_top_level_switches() -> None:
    config = parse_atlantis_config(
        "version: 3\nrepo_locks: {mode: disabled}\nsilence_pr_comments: [apply]\n"
        "autodiscover: {mode: enabled}\nprojects:\n- {dir: a, repo_locks: {mode: on_plan}}\n")
    found = with_file_defaults(Project(name="b", dir="b"), config)
    assert (found.repo_locks, found.silence_pr_comments) == ("disabled", ("apply",))
    listed = with_file_defaults(Project(name="a", dir="a"), config)
    assert (listed.repo_locks, listed.silence_pr_comments) == ("on_plan", ("apply",))
    plain = with_file_defaults(Project(name="b", dir="b"), for_base_branch(config, "main"))
    assert plain.repo_locks == "disabled"


def test_unlisted_projects_take_the_servers_plan_requirements() -> None:
    rules = parse_atlantis_config("version: 3\nprojects:\n- {dir: a}\n")
    rules = replace(rules, options=replace(rules.options, plan_requirements=("approved",)))
    found = Project(name="b", dir="b")
    assert requirements_of(found, rules, rules) == ("approved",)


def test_policies_passed_is_an_apply_requirement() -> None:
    config = parse_atlantis_config(
        "version: 3\nprojects:\n- {dir: a, apply_requirements: [policies_passed, approved]}\n"
        "- {dir: b, apply_requirements: [policies_passed]}\n")
    a, b = config.projects
    env_a, env_b = config.environment_for(a), config.environment_for(b)
    assert env_a.apply_requirements == ("approved", "policies_passed")
    assert env_a.required_approvals == 1
    assert (env_b.apply_requirements, env_b.required_approvals) == (("policies_passed",), 0)


def test_project_delete_source_branch_on_merge() -> None:
    config = parse_atlantis_config(
        "version: 3\ndelete_source_branch_on_merge: false\nprojects:\n"
        "- {dir: a, delete_source_branch_on_merge: true}\n- {dir: b}\n")
    a, b = config.projects
    assert (a.delete_source_branch_on_merge, b.delete_source_branch_on_merge) == (True, None)
    assert not config.options.delete_source_branch_on_merge

    def run(name: str) -> RunRecord:
        return RunRecord(id=1, pull_id=1, project=name, dir=name, workspace="default",
                         command="plan", head_sha="c" * 40, status=RunStatus.SUCCESS,
                         output="", error=None, counts=None, plan_path="", actor="x",
                         finished_at=None)
    # the apply's first project in the file's order decides, as in Atlantis,
    # whatever order the plans finished in; None: the repository's setting stands
    assert project_setting([run("a"), run("b")], config) is True
    assert project_setting([run("b"), run("a")], config) is True
    assert project_setting([run("b")], config) is None
    assert project_setting([], config) is None
