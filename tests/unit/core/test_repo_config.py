"""workflows.yaml parsing: valid files become RepoConfig, invalid ones point at the line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from atlantis_py.core.repo_config import load_default_config, parse_repo_config
from atlantis_py.domain.projects import (
    DEFAULT_WORKFLOW,
    Environment,
    Project,
    RepoConfig,
    Step,
    Workflow,
)
from atlantis_py.errors import RepoConfigError

REPO_ROOT = Path(__file__).resolve().parents[3]

FULL_EXAMPLE = """\
version: 1
projects:
  - name: network
    dir: network
    workspace: default
    autoplan: {enabled: true, when_modified: ["*.tf*", "../modules/**/*.tf"]}
    workflow: custom
    environment: production
  - dir: ./modules/vpc/
    workspace: staging
    autoplan: {enabled: false}
  - dir: .
workflows:
  custom:
    plan:  {steps: [init, {plan: {extra_args: ["-lock=false"]}}, {run: "tflint"},
                    {env: {name: FOO, value: bar}}]}
    apply: {steps: [apply]}
  plan_only:
    plan: {steps: [init, plan]}
environments:
  production: {required_approvals: 2, approvers: [alice, bob, acme/platform]}
  sandbox: {required_approvals: 0}
"""


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def test_full_example() -> None:
    config = parse_repo_config(FULL_EXAMPLE)

    assert config.explicit is True
    assert config.projects == (
        Project(name="network", dir="network", workspace="default", workflow="custom",
                environment="production", autoplan=True,
                when_modified=("*.tf*", "../modules/**/*.tf")),
        Project(name="modules_vpc-staging", dir="modules/vpc", workspace="staging",
                autoplan=False),
        Project(name="root", dir="."),
    )
    assert config.workflows == {
        "custom": Workflow(
            name="custom",
            plan=(Step("init"), Step("plan", extra_args=("-lock=false",)),
                  Step("run", run="tflint"), Step("env", env_name="FOO", env_value="bar")),
            apply=(Step("apply"),),
        ),
        "plan_only": Workflow(name="plan_only", plan=(Step("init"), Step("plan")),
                              apply=DEFAULT_WORKFLOW.apply),
    }
    assert config.environments == {
        "production": Environment("production", 2, ("alice", "bob", "acme/platform")),
        "sandbox": Environment("sandbox", 0, ()),
    }
    assert config.workflow_for(config.projects[1]) == DEFAULT_WORKFLOW


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "version: 1\n",
                                  "version: 1\nprojects: []\n", "version: 1\nprojects:\n"])
def test_empty_config_is_explicit_with_no_projects(text: str) -> None:
    assert parse_repo_config(text) == RepoConfig(explicit=True)


def test_default_config_is_not_explicit() -> None:
    assert load_default_config() == RepoConfig(explicit=False)


def test_documented_example_at_repo_root_parses() -> None:
    config = parse_repo_config((REPO_ROOT / "workflows.yaml").read_text(), "workflows.yaml")

    assert config.explicit
    assert [p.name for p in config.projects] == ["network", "modules_vpc-staging"]
    assert set(config.workflows) == {"custom"}
    assert set(config.environments) == {"production"}


@pytest.mark.parametrize(
    ("dir_", "workspace", "name"),
    [
        (".", "default", "root"),
        ("a/b/c", "default", "a_b_c"),
        ("a//b/./c/", "default", "a_b_c"),
        ("a/../b", "default", "b"),
        ("net", "prod", "net-prod"),
        (".", "prod", "root-prod"),
    ],
)
def test_default_project_names(dir_: str, workspace: str, name: str) -> None:
    text = f"version: 1\nprojects:\n  - {{dir: '{dir_}', workspace: {workspace}}}\n"
    assert parse_repo_config(text).projects[0].name == name


def test_user_may_redefine_the_default_workflow() -> None:
    config = parse_repo_config(dedent("""
        version: 1
        projects: [{dir: a}]
        workflows:
          default: {plan: {steps: [init, plan]}}
    """))
    assert config.workflow_for(config.projects[0]).plan == (Step("init"), Step("plan"))


def test_anchors_and_merge_keys_work() -> None:
    config = parse_repo_config(dedent("""
        version: 1
        projects:
          - &base {dir: a, autoplan: {enabled: false}}
          - {<<: *base, workspace: two}
    """))
    assert [(p.dir, p.workspace, p.autoplan) for p in config.projects] == [
        ("a", "default", False), ("a", "two", False)]


# (yaml text, line, key path, words the message must contain)
ERRORS: list[tuple[str, int | None, str, str]] = [
    # YAML itself
    ("version: 1\nprojects: [\n  {dir: a}\n", 4, "(yaml)", "invalid YAML"),
    ("version: 1\n  bad: indent\n", 2, "(yaml)", "invalid YAML"),
    ("version: 1\n---\nversion: 1\n", 2, "(yaml)", "single document"),
    ("version: 1\nx: !!python/name:os.system ''\n", 2, "(yaml)", "invalid YAML"),
    ("version: 1\nx: !!python/object:os.system {}\n", 2, "x", "tag"),
    ("version: 1\nx: !custom [a]\n", 2, "x", "YAML tag '!custom' is not allowed"),
    ("version: 1\nversion: 1\n", 2, "version", "duplicate key"),
    # top level
    ("- version: 1\n", 1, "(document)", "expected a mapping, got a list"),
    ("projects: []\n", 1, "version", "add `version: 1`"),
    ("\n\nversion: 2\n", 3, "version", "only `version: 1` is supported"),
    ("version: '1'\n", 1, "version", "unsupported version '1'"),
    ("version: true\n", 1, "version", "unsupported version True"),
    ("version: 1\nproject: []\n", 2, "project",
     "unknown key 'project'; allowed keys: version, projects, workflows, environments"),
    ("version: 1\nprojects: {dir: a}\n", 2, "projects", "expected a list, got a mapping"),
    ("version: 1\nworkflows: [a]\n", 2, "workflows", "expected a mapping of names, got a list"),
    # projects
    ("version: 1\nprojects:\n  - dir: a\n  - dir: b\n    autoplan:\n      when_modified: x\n",
     6, "projects[1].autoplan.when_modified", "expected a list, got a string"),
    ("version: 1\nprojects:\n  - dir: a\n    autoplan: {when_modified: ['*.tf', 3]}\n",
     4, "projects[0].autoplan.when_modified[1]", "expected a string, got an integer"),
    ("version: 1\nprojects:\n  - dir: a\n    autoplan: {enabled: 'yes'}\n",
     4, "projects[0].autoplan.enabled", "expected true or false, got a string"),
    ("version: 1\nprojects:\n  - dir: a\n    autoplan: {when: []}\n",
     4, "projects[0].autoplan.when", "allowed keys: enabled, when_modified"),
    ("version: 1\nprojects:\n  - dir: a\n    wrkspace: x\n", 4, "projects[0].wrkspace",
     ("unknown key 'wrkspace'; allowed keys: name, dir, workspace, autoplan, workflow, "
      "environment")),
    ("version: 1\nprojects:\n  - name: a\n", 3, "projects[0]", "missing 'dir'"),
    ("version: 1\nprojects:\n  - a\n", 3, "projects[0]", "expected a mapping, got a string"),
    ("version: 1\nprojects:\n  - dir:\n", 3, "projects[0].dir", "expected a string, got null"),
    ("version: 1\nprojects:\n  - dir: ''\n", 3, "projects[0].dir", "must not be empty"),
    ("version: 1\nprojects:\n  - dir: /etc\n", 3, "projects[0].dir", "relative path"),
    ("version: 1\nprojects:\n  - dir: '..'\n", 3, "projects[0].dir", "outside the repository"),
    ("version: 1\nprojects:\n  - dir: a/../../b\n", 3, "projects[0].dir",
     "outside the repository"),
    ("version: 1\nprojects:\n  - dir: 'a\\b'\n", 3, "projects[0].dir", "'/' separators"),
    ("version: 1\nprojects:\n  - {dir: a, workspace: 'x y'}\n", 3,
     "projects[0].workspace", "no spaces"),
    ("version: 1\nprojects:\n  - {dir: a, name: 'a/b'}\n", 3, "projects[0].name", "no spaces"),
    ("version: 1\nprojects:\n  - {dir: a, name: x}\n  - {dir: b, name: x}\n", 4,
     "projects[1]", "project name 'x' is used twice"),
    ("version: 1\nprojects:\n  - {dir: a_b}\n  - {dir: a/b}\n", 4,
     "projects[1]", "project name 'a_b' is used twice"),
    ("version: 1\nprojects:\n  - {dir: a, name: x}\n  - {dir: ./a/, name: y}\n", 4,
     "projects[1]", "dir 'a' with workspace 'default' is used twice"),
    ("version: 1\nprojects:\n  - {dir: a, workflow: nope}\n", 3, "projects[0].workflow",
     "workflow 'nope' is not defined; known: default"),
    ("version: 1\nprojects:\n  - {dir: a, environment: prod}\nenvironments:\n  dev: {}\n",
     3, "projects[0].environment", "environment 'prod' is not defined; known: default, dev"),
    # workflows
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [init]}\n    aply: {steps: [apply]}\n",
     5, "workflows.w.aply", "unknown key 'aply'; allowed keys: plan, apply"),
    ("version: 1\nworkflows:\n  w:\n    plan: {stepz: []}\n", 4, "workflows.w.plan.stepz",
     "allowed keys: steps"),
    ("version: 1\nworkflows:\n  w:\n    plan: {}\n", 4, "workflows.w.plan", "missing 'steps'"),
    ("version: 1\nworkflows:\n  'a b': {}\n", 3, "workflows.a b", "must not contain spaces"),
    ("version: 1\nworkflows:\n  w:\n    plan:\n      steps:\n        - init\n        - fmt\n",
     7, "workflows.w.plan.steps[1]",
     "unknown step 'fmt'; allowed steps: init, validate, plan, apply, env, run"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{fmt: {}}]}\n", 4,
     "workflows.w.plan.steps[0].fmt", "unknown step 'fmt'"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{init: {}, plan: {}}]}\n", 4,
     "workflows.w.plan.steps[0]", "exactly one step name, got a mapping"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [[init]]}\n", 4,
     "workflows.w.plan.steps[0]", "exactly one step name, got a list"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [run]}\n", 4,
     "workflows.w.plan.steps[0]", "step 'run' needs a value"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{run: ''}]}\n", 4,
     "workflows.w.plan.steps[0].run", "must not be empty"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{run: [a, b]}]}\n", 4,
     "workflows.w.plan.steps[0].run", "expected a string, got a list"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{plan: {extra_args: -x}}]}\n", 4,
     "workflows.w.plan.steps[0].plan.extra_args", "expected a list, got a string"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{plan: {extra_args: [1]}}]}\n", 4,
     "workflows.w.plan.steps[0].plan.extra_args[0]", "expected a string, got an integer"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{plan: {args: []}}]}\n", 4,
     "workflows.w.plan.steps[0].plan.args", "allowed keys: extra_args"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{env: {name: A}}]}\n", 4,
     "workflows.w.plan.steps[0].env", "missing 'value'"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{env: {name: A, value: 1}}]}\n", 4,
     "workflows.w.plan.steps[0].env.value", "expected a string (quote it), got an integer"),
    ("version: 1\nworkflows:\n  w:\n    plan: {steps: [{env: {name: 'A-B', value: x}}]}\n", 4,
     "workflows.w.plan.steps[0].env.name", "not allowed"),
    ("version: 1\nworkflows:\n  w:\n    plan:\n      steps: [init, apply]\n", 5,
     "workflows.w.plan.steps[1]", "cannot run at plan time"),
    # environments
    ("version: 1\nenvironments:\n  prod: {required_approvals: -1}\n", 3,
     "environments.prod.required_approvals", "integer >= 0, got -1"),
    ("version: 1\nenvironments:\n  prod: {required_approvals: two}\n", 3,
     "environments.prod.required_approvals", "integer >= 0, got 'two'"),
    ("version: 1\nenvironments:\n  prod: {required_approvals: true}\n", 3,
     "environments.prod.required_approvals", "integer >= 0, got True"),
    ("version: 1\nenvironments:\n  prod:\n    approvers: alice\n", 4,
     "environments.prod.approvers", "expected a list, got a string"),
    ("version: 1\nenvironments:\n  prod:\n    approvers: [alice, 7]\n", 4,
     "environments.prod.approvers[1]", "expected a string, got an integer"),
    ("version: 1\nenvironments:\n  prod:\n    approvals: 2\n", 4, "environments.prod.approvals",
     "allowed keys: required_approvals, approvers"),
    ("version: 1\nenvironments:\n  prod: 2\n", 3, "environments.prod",
     "expected a mapping, got an integer"),
]


@pytest.mark.parametrize(("text", "line", "key", "words"), ERRORS)
def test_errors_name_line_key_and_rule(text: str, line: int | None, key: str,
                                       words: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        parse_repo_config(text, "infra/workflows.yaml")

    error = caught.value
    assert (error.file, error.line, error.key) == ("infra/workflows.yaml", line, key)
    assert words in error.message
    assert str(error).startswith(f"infra/workflows.yaml:{line}: {key}: ")


def test_alias_bomb_is_refused() -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    with pytest.raises(RepoConfigError, match="too large"):
        parse_repo_config("\n".join(lines) + "\n")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(RepoConfigError, match="(too deep|invalid YAML)"):
        parse_repo_config("version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n")
