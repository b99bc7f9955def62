"""Atlantis's atlantis.yaml read as it is: valid files become the same RepoConfig
workflows.yaml does, unsupported Atlantis keys are refused by file, line and key,
and a tree holding both files is refused naming the one that would win."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlantis_py.core.config.atlantis import parse_atlantis_config
from atlantis_py.core.config.load import config_in, config_text, head_config, rules_config
from atlantis_py.domain.projects import (
    DEFAULT_WHEN_MODIFIED,
    DEFAULT_WORKFLOW,
    Environment,
    Project,
    RepoOptions,
    Step,
    Workflow,
)
from atlantis_py.errors import RepoConfigError

# Atlantis's tfvars-yaml e2e repository's atlantis.yaml: two named projects on one
# dir and workspace, each with its own workflow
TFVARS_YAML = """\
version: 3
projects:
- dir: .
  name: default
  workflow: default
- dir: .
  name: staging
  workflow: staging
workflows:
  default:
    plan:
      steps:
      - init:
          extra_args: [-backend-config=default.backend.tfvars]
      - plan:
          extra_args: [-var-file=default.tfvars]
  staging:
    plan:
      steps:
      - init:
          extra_args: ["-backend-config=staging.backend.tfvars"]
      - plan:
          extra_args: ["-var-file", "staging.tfvars"]
      - run: echo hello
    apply:
      steps:
      - run: {command: echo before, output: show}
      - apply
      - env: {name: STAGE, value: staging}
"""

FULL = """\
version: 3
automerge: true
parallel_plan: false
parallel_apply: true
delete_source_branch_on_merge: true
abort_on_execution_order_fail: true
projects:
- name: network
  dir: infra/network
  workspace: prod
  terraform_version: v1.6.0
  autoplan:
    enabled: false
    when_modified: ["*.tf", "../modules/**/*.tf"]
  apply_requirements: [mergeable, approved]
  execution_order_group: 1
- name: app
  dir: ./infra/app/
  apply_requirements: [undiverged]
  depends_on: [network]
  execution_order_group: 2
- dir: infra/db
"""


def test_tfvars_yaml_workflows_and_steps() -> None:
    config = parse_atlantis_config(TFVARS_YAML)
    staging = config.workflows["staging"]
    assert staging.plan == (Step("init", ("-backend-config=staging.backend.tfvars",)),
                            Step("plan", ("-var-file", "staging.tfvars")),
                            Step("run", run="echo hello"))
    assert staging.apply == (Step("run", run="echo before"), Step("apply"),
                             Step("env", env_name="STAGE", env_value="staging"))
    assert config.workflows["default"] == Workflow(
        "default", (Step("init", ("-backend-config=default.backend.tfvars",)),
                    Step("plan", ("-var-file=default.tfvars",))), DEFAULT_WORKFLOW.apply)
    assert [(p.name, p.dir, p.workspace, p.workflow) for p in config.projects] == [
        ("default", ".", "default", "default"), ("staging", ".", "default", "staging")]
    assert config.explicit and config.options.source == "atlantis.yaml"


def test_full_file() -> None:
    config = parse_atlantis_config(FULL)
    network, app, db = config.projects
    assert network == Project(
        name="network", dir="infra/network", workspace="prod", autoplan=False,
        when_modified=("*.tf", "../modules/**/*.tf"), environment="approved+mergeable",
        terraform_version="v1.6.0", execution_order_group=1)
    assert (app.dir, app.depends_on, app.environment, app.execution_order_group) == (
        "infra/app", ("network",), "undiverged", 2)
    assert (db.name, db.when_modified, db.environment) == (
        "infra_db", DEFAULT_WHEN_MODIFIED, "default")
    assert config.environments == {
        "default": Environment("default", required_approvals=0, apply_requirements=()),
        "approved+mergeable": Environment("approved+mergeable", required_approvals=1,
                                          apply_requirements=("approved", "mergeable")),
        "undiverged": Environment("undiverged", required_approvals=0,
                                  apply_requirements=("undiverged",)),
    }
    assert config.options == RepoOptions(
        source="atlantis.yaml", automerge=True, parallel_plan=False, parallel_apply=True,
        delete_source_branch_on_merge=True, abort_on_execution_order_fail=True)


def test_defaults_match_atlantis() -> None:
    config = parse_atlantis_config("version: 3\nprojects:\n- dir: .\n")
    [root] = config.projects
    assert root.when_modified == ("**/*.tf*", "**/terragrunt.hcl", "**/.terraform.lock.hcl")
    assert (root.name, root.autoplan, root.workflow) == ("root", True, "default")
    assert config.options == RepoOptions(source="atlantis.yaml")


LATER = "atlantis-py does not support it yet"
INVALID = [
    ("projects: []\n", 1, "version", "unsupported version None"),
    ("version: 1\n", 1, "version", "needs `version: 3`"),
    ("version: 3\nautodiscover: {mode: sometimes}\n", 2, "autodiscover.mode",
     "'sometimes' is not one of auto, enabled, disabled"),
    ("version: 3\nautodiscover: {ignore_paths: [/abs]}\n", 2, "autodiscover.ignore_paths[0]",
     "must not begin with a slash"),
    ("version: 3\nallowed_regexp_prefixes: dev/\n", 2, "allowed_regexp_prefixes",
     "expected a list"),
    ("version: 3\nrepo_locks: {mode: always}\n", 2, "repo_locks.mode",
     "'always' is not one of on_plan, on_apply, disabled"),
    ("version: 3\nsilence_pr_comments: [import]\n", 2, "silence_pr_comments[0]",
     "'import' cannot be silenced"),
    ("version: 3\nabort_on_execution_order_fail: 1\n", 2,
     "abort_on_execution_order_fail", "expected true or false"),
    ("version: 3\nprojects:\n- dir: a\n  name: a\n  depends_on: [a]\n", 5,
     "projects[0].depends_on[0]", "cannot depend on itself"),
    ("version: 3\nautomerge: yes-please\n", 2, "automerge", "expected true or false"),
    ("version: 3\nmystery: 1\n", 2, "mystery", "unknown key 'mystery'"),
    ("version: 3\nprojects:\n- dir: a\n  branch: main\n", 4, "projects[0].branch",
     "must begin and end with a slash"),
    ("version: 3\nprojects:\n- dir: a\n  branch: /ma(in/\n", 4, "projects[0].branch",
     "not a valid regex"),
    ("version: 3\nprojects:\n- dir: a\n  plan_requirements: [policies_passed]\n", 4,
     "projects[0].plan_requirements[0]", "policies_passed is an apply requirement only"),
    ("version: 3\nprojects:\n- dir: a\n  import_requirements: [policies_passed]\n", 4,
     "projects[0].import_requirements[0]", "policies_passed is an apply requirement only"),
    ("version: 3\nprojects:\n- dir: a\n  import_requirements: [merged]\n", 4,
     "projects[0].import_requirements[0]", "'merged' is not supported"),
    ("version: 3\nprojects:\n- dir: a\n  repo_locking: maybe\n", 4,
     "projects[0].repo_locking", "expected true or false"),
    ("version: 3\nprojects:\n- dir: a\n  terraform_distribution: tofu\n", 4,
     "projects[0].terraform_distribution", "expected terraform or opentofu, got 'tofu'"),
    ("version: 3\nprojects:\n- dir: a\n  silence_pr_comments: plan\n", 4,
     "projects[0].silence_pr_comments", "expected a list"),
    ("version: 3\nprojects:\n- dir: a\n  repo_locks: {mode: on_plan, when: x}\n", 4,
     "projects[0].repo_locks.when", "unknown key 'when'"),
    ("version: 3\nprojects:\n- dir: a\n  custom_policy_check: true\n", 4,
     "projects[0].custom_policy_check", LATER),
    ("version: 3\nprojects:\n- dir: a\n  apply_requirements: [sealed]\n", 4,
     "projects[0].apply_requirements[0]", "'sealed' is not supported"),
    ("version: 3\nprojects:\n- dir: a\n  depends_on: [b]\n", 4, "projects[0].depends_on[0]",
     "no project named 'b'"),
    ("version: 3\nprojects:\n- dir: a\n  execution_order_group: -1\n", 4,
     "projects[0].execution_order_group", "integer >= 0"),
    ("version: 3\nprojects:\n- dir: a\n  workflow: nope\n", 4, "projects[0].workflow",
     "workflow 'nope' is not defined"),
    ("version: 3\nprojects:\n- dir: ../x\n", 3, "projects[0].dir", "outside the repository"),
    ("version: 3\nprojects:\n- {dir: a, name: x}\n- {dir: a}\n", 4, "projects[1]",
     "sharing a dir and workspace need a `name` each"),
    ("version: 3\nprojects:\n- {dir: a}\n- {dir: a, name: y}\n", 4, "projects[1]",
     "sharing a dir and workspace need a `name` each"),
    ("version: 3\nprojects:\n- {dir: a}\n- {dir: ./a}\n", 4, "projects[1]",
     "project name 'a' is used twice"),
    ("version: 3\nworkflows:\n  w:\n    policy_check: {steps: []}\n", 4,
     "workflows.w.policy_check", LATER),
    ("version: 3\nworkflows:\n  w:\n    apply:\n      steps: [import]\n", 5,
     "workflows.w.apply.steps[0]", "runs only in the import stage (`atlantis import`)"),
    ("version: 3\nworkflows:\n  w:\n    state_rm:\n      steps: [apply]\n", 5,
     "workflows.w.state_rm.steps[0]", "it would skip approval"),
    ("version: 3\nworkflows:\n  w:\n    plan:\n      steps: [policy_check]\n", 5,
     "workflows.w.plan.steps[0]", LATER),
    ("version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n      - multienv: {output: hide}\n",
     6, "workflows.w.plan.steps[0].multienv", "needs 'command'"),
    (("version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n      - multienv: {command: x, "
     "output: strip_refreshing}\n"), 6, "workflows.w.plan.steps[0].multienv.output",
     "'strip_refreshing' is not supported"),
    (("version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n      - run: {command: x, "
     "shellArgs: -e}\n"), 6, "workflows.w.plan.steps[0].run.shellArgs", "needs shell"),
    (("version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n      - run: {command: x, "
     "output: loud}\n"), 6, "workflows.w.plan.steps[0].run.output", "'loud' is not supported"),
    (("version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n      - env: {name: A, "
     "command: date, value: x}\n"), 6, "workflows.w.plan.steps[0].env", "not both"),
    ("version: 3\nworkflows:\n  w:\n    plan:\n      steps:\n      - show: {extra_args: []}\n",
     6, "workflows.w.plan.steps[0].show.extra_args", "unknown key"),
    ("version: 3\nworkflows:\n  w:\n    plan:\n      steps: [apply]\n", 5,
     "workflows.w.plan.steps[0]", "cannot run at plan time"),
    ("version: 3\nworkflows:\n  w:\n    plan:\n      steps: [fmt]\n", 5,
     "workflows.w.plan.steps[0]", "unknown step 'fmt'"),
    ("version: 3\nprojects:\n- dir: a\n  terraform_version: 1.10\n", 4,
     "projects[0].terraform_version", 'quote the version (terraform_version: "1.1")'),
    ("version: 3\nprojects:\n- dir: a\n  terraform_version: latest\n", 4,
     "projects[0].terraform_version", "'latest' is not a version or constraint"),
]


def test_terraform_version_takes_a_constraint() -> None:
    config = parse_atlantis_config("version: 3\nprojects:\n- dir: a\n"
                                   "  terraform_version: '~> 1.9'\n")
    assert config.projects[0].terraform_version == "~> 1.9"
    assert config.projects[0].terraform_distribution is None


def test_a_project_may_run_opentofu() -> None:
    config = parse_atlantis_config("version: 3\nprojects:\n- dir: a\n"
                                   "  terraform_distribution: opentofu\n")
    assert config.projects[0].terraform_distribution == "opentofu"


@pytest.mark.parametrize("text, line, key, message", INVALID)
def test_invalid_file_names_line_and_key(text: str, line: int, key: str, message: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        parse_atlantis_config(text)
    assert (caught.value.file, caught.value.line, caught.value.key) == ("atlantis.yaml", line, key)
    assert message in caught.value.message


def test_config_in_reads_atlantis_yaml(tmp_path: Path) -> None:
    (tmp_path / "atlantis.yaml").write_text(TFVARS_YAML)
    assert [p.name for p in config_in(tmp_path).projects] == ["default", "staging"]


def test_both_files_refused_naming_the_winner(tmp_path: Path) -> None:
    (tmp_path / "atlantis.yaml").write_text("version: 3\n")
    (tmp_path / "workflows.yaml").write_text("version: 1\n")
    with pytest.raises(RepoConfigError) as caught:
        config_in(tmp_path)
    assert "workflows.yaml would win, since only it can hold approval environments" \
        in caught.value.message
    files = {"atlantis.yaml": "version: 3\n", "workflows.yaml": "version: 1\n"}
    with pytest.raises(RepoConfigError, match="both workflows.yaml and atlantis.yaml"):
        config_text(files.get, " (branch main)")


def test_text_paths_read_either_file_by_version() -> None:
    """The server's rules branch and the CLI read text: the version picks the schema."""
    assert config_text({"atlantis.yaml": "version: 3\n"}.get) == "version: 3\n"
    empty: dict[str, str] = {}
    assert config_text(empty.get) == ""
    rules = rules_config("version: 3\nprojects:\n- dir: a\n  apply_requirements: [approved]\n",
                         "main")
    assert rules.environments["approved"].required_approvals == 1
    assert head_config("version: 1\nprojects:\n- dir: a\n").options.source == "workflows.yaml"
    with pytest.raises(RepoConfigError) as caught:
        rules_config("version: 3\nprojects:\n- dir: a\n  branch: x\n", "main")
    assert caught.value.file == "atlantis.yaml (rules branch main)"


def test_import_and_state_rm_stages_as_atlantis_writes_them() -> None:
    """Atlantis's custom import/state_rm stages: run and env steps around the
    import or state_rm step, with its extra_args; unnamed stages keep the
    default (init, then the step)."""
    config = parse_atlantis_config(
        "version: 3\nworkflows:\n  w:\n    import:\n      steps:\n"
        "      - env: {name: TF_VAR_x, value: y}\n"
        "      - init\n      - import:\n          extra_args: [-var-file=a.tfvars]\n"
        "    state_rm:\n      steps:\n      - run: echo before\n      - state_rm\n")
    flow = config.workflows["w"]
    assert flow.imports == (Step("env", env_name="TF_VAR_x", env_value="y"), Step("init"),
                            Step("import", extra_args=("-var-file=a.tfvars",)))
    assert flow.state_rm == (Step("run", run="echo before"), Step("state_rm"))
    assert flow.plan == DEFAULT_WORKFLOW.plan
    assert DEFAULT_WORKFLOW.stage("import") == (Step("init"), Step("import"))
    assert DEFAULT_WORKFLOW.stage("state_rm") == (Step("init"), Step("state_rm"))


def test_unnamed_import_stage_inits_as_the_plan_does() -> None:
    """Without an import or state_rm stage, the plan stage's env and init steps
    run first: its -backend-config reaches the state the plan read."""
    flow = parse_atlantis_config(TFVARS_YAML).workflows["staging"]
    init = Step("init", extra_args=("-backend-config=staging.backend.tfvars",))
    assert flow.imports is None
    assert flow.stage("import") == (init, Step("import"))
    assert flow.stage("state_rm") == (init, Step("state_rm"))
    only_env = Workflow("w", plan=(Step("env", env_name="A", env_value="1"), Step("plan")),
                        apply=())
    assert only_env.stage("import") == (Step("env", env_name="A", env_value="1"),
                                        Step("init"), Step("import"))
