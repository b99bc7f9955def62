"""workflows.yaml parsing: valid files become RepoConfig, invalid ones point at the line."""

from __future__ import annotations

import textwrap
from datetime import time, timedelta
from pathlib import Path

import pytest

from atlantis_py.core.config.schema import load_default_config, parse_repo_config
from atlantis_py.domain.drift import DriftSchedule
from atlantis_py.domain.projects import (
    DEFAULT_WORKFLOW,
    Environment,
    Project,
    RepoConfig,
    Step,
    Workflow,
)
from atlantis_py.domain.rules import ApplyWindow, DestroyRule
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
    assert config.environments == {"production": Environment(
        "production", 2, ("alice", "bob", "acme/platform"), allow_self_approval=False,
        approval_ttl=timedelta(days=2), review_deadline=timedelta(days=7),
        apply_window=ApplyWindow((0, 1, 2, 3, 4), time(9), time(17), "Europe/Berlin"),
        destroy_requires=DestroyRule(3, ("acme/sre",)),
        appliers=("alice", "bob", "acme/platform", "acme/sre"), stacks=("*-prod",),
        apply_requirements=("approved", "mergeable", "undiverged"),
        drift=DriftSchedule("0 6 * * 1-5", "Europe/Berlin"))}


def test_policy_keys_left_out_mean_no_limit() -> None:
    env = parse_repo_config("version: 1\nenvironments:\n  dev: {}\n").environments["dev"]
    assert env == Environment("dev")
    assert (env.allow_self_approval, env.approval_ttl, env.review_deadline, env.apply_window,
            env.destroy_requires, env.appliers) == (False, None, None, None, None, ())


def _env(body: str) -> Environment:
    return parse_repo_config(f"version: 1\nenvironments:\n  e: {body}\n").environments["e"]


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("30m", timedelta(minutes=30), id="minutes"),
    pytest.param("4h", timedelta(hours=4), id="hours"),
    pytest.param("2d", timedelta(days=2), id="days"),
    pytest.param("1h30m", timedelta(hours=1, minutes=30), id="hours-and-minutes"),
    pytest.param("1d2h3m", timedelta(days=1, hours=2, minutes=3), id="all-units"),
    pytest.param("90m", timedelta(minutes=90), id="minutes-over-an-hour"),
])
def test_durations(text: str, expected: timedelta) -> None:
    env = _env(f"{{approval_ttl: '{text}', review_deadline: {text}}}")
    assert (env.approval_ttl, env.review_deadline) == (expected, expected)


@pytest.mark.parametrize(("window", "expected"), [
    pytest.param("{days: mon-fri, hours: '09:00-17:00', timezone: Europe/Berlin}",
                 ApplyWindow((0, 1, 2, 3, 4), time(9), time(17), "Europe/Berlin"), id="full"),
    pytest.param("{days: [mon, Wed, friday]}", ApplyWindow((0, 2, 4)), id="day-list"),
    pytest.param("{days: 'sat,sun'}", ApplyWindow((5, 6)), id="comma-string"),
    pytest.param("{days: [mon, thu-fri]}", ApplyWindow((0, 3, 4)), id="list-with-range"),
    pytest.param("{days: fri-mon}", ApplyWindow((0, 4, 5, 6)), id="range-wraps-the-week"),
    pytest.param("{hours: '22:00-02:00'}", ApplyWindow(start=time(22), end=time(2)),
                 id="crosses-midnight"),
    pytest.param("{hours: '00:00-24:00'}", ApplyWindow(), id="whole-day"),
    pytest.param("{timezone: America/New_York}", ApplyWindow(timezone="America/New_York"),
                 id="zone-only"),
])
def test_apply_window(window: str, expected: ApplyWindow) -> None:
    assert _env(f"{{apply_window: {window}}}").apply_window == expected


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param("{required_approvals: 2, approvers: [alice, acme/sre]}",
                 DestroyRule(2, ("alice", "acme/sre")), id="both"),
    pytest.param("{required_approvals: 3}", DestroyRule(3, ()), id="count-only"),
    pytest.param("{approvers: [acme/sre]}", DestroyRule(None, ("acme/sre",)), id="names-only"),
])
def test_destroy_requires(body: str, expected: DestroyRule) -> None:
    assert _env(f"{{destroy_requires: {body}}}").destroy_requires == expected


def test_stacks_globs() -> None:
    assert _env("{stacks: ['*-prod', prod]}").stacks == ("*-prod", "prod")
    assert _env("{required_approvals: 1}").stacks == ()


@pytest.mark.parametrize(("body", "expected"), [
    pytest.param("{required_approvals: 1}", ("approved",), id="left-out-means-approved"),
    pytest.param("{apply_requirements: [approved, mergeable, undiverged]}",
                 ("approved", "mergeable", "undiverged"), id="all-three"),
    pytest.param("{apply_requirements: [undiverged, approved, undiverged]}",
                 ("undiverged", "approved"), id="repeats-dropped"),
    pytest.param("{apply_requirements: []}", (), id="none"),
])
def test_apply_requirements(body: str, expected: tuple[str, ...]) -> None:
    assert _env(body).apply_requirements == expected


def test_self_approval_and_appliers() -> None:
    env = _env("{allow_self_approval: true, appliers: [carol, acme/ops]}")
    assert (env.allow_self_approval, env.appliers) == (True, ("carol", "acme/ops"))


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


PROD = "version: 1\nenvironments:\n  prod:\n"

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
    ("version: 1\n\x1f\n", 2, "(yaml)", "character #x001f is not allowed"),  # fuzzing
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
    # atmos
    ("version: 1\natmos: [stacks]\n", 2, "atmos", "expected a mapping, got a list"),
    ("version: 1\natmos:\n  stacks_path: stacks\n  stack_path: x\n", 4, "atmos.stack_path",
     "unknown key 'stack_path'; allowed keys: components_path, stacks_path"),
    ("version: 1\natmos:\n  components_path: /srv/tf\n", 3, "atmos.components_path",
     "must be relative to the repository root"),
    ("version: 1\natmos:\n  stacks_path: ../elsewhere\n", 3, "atmos.stacks_path",
     "points outside the repository"),
    ("version: 1\natmos:\n  included_paths: [3]\n", 3, "atmos.included_paths",
     "must be a list of glob strings"),
    ("version: 1\natmos:\n  stacks_path: s\n  project_name: '{stack}-{env}'\n", 4,
     "atmos.project_name", "unknown field {env}"),
    ("version: 1\natmos:\n  name_template: '{{ printf \"%s\" .vars.stage }}'\n", 3,
     "atmos.name_template", "printf"),
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
     "unknown step 'fmt'; allowed steps: init, validate, plan, apply, import, state_rm, env, run"),
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
    ("version: 1\nworkflows:\n  w:\n    plan:\n      steps: [init, state_rm]\n", 5,
     "workflows.w.plan.steps[1]", "runs only in the state_rm stage (`atlantis state rm`)"),
    ("version: 1\nworkflows:\n  w:\n    import:\n      steps: [apply]\n", 5,
     "workflows.w.import.steps[0]", "cannot run in the import stage: it would skip approval"),
    # environments
    ("version: 1\nenvironments:\n  prod: {required_approvals: -1}\n", 3,
     "environments.prod.required_approvals", "integer >= 0, got -1"),
    ("version: 1\nenvironments:\n  prod: {required_approvals: two}\n", 3,
     "environments.prod.required_approvals", "integer >= 0, got 'two'"),
    ("version: 1\nenvironments:\n  prod: {required_approvals: true}\n", 3,
     "environments.prod.required_approvals", "integer >= 0, got True"),
    (PROD + "    approvers: alice\n", 4,
     "environments.prod.approvers", "expected a list, got a string"),
    (PROD + "    approvers: [alice, 7]\n", 4,
     "environments.prod.approvers[1]", "expected a string, got an integer"),
    (PROD + "    stacks: prod-*\n", 4,
     "environments.prod.stacks", "expected a list, got a string"),
    (PROD + "    approvals: 2\n", 4, "environments.prod.approvals",
     "allowed keys: required_approvals, approvers"),
    ("version: 1\nenvironments:\n  prod: 2\n", 3, "environments.prod",
     "expected a mapping, got an integer"),
    # environment policy keys
    (PROD + "    allow_self_approval: 'no'\n", 4, "environments.prod.allow_self_approval",
     "expected true or false, got a string"),
    (PROD + "    approval_ttl: 30\n", 4, "environments.prod.approval_ttl",
     ('expected a duration like "30m", "4h", "2d" or "1h30m" (days, hours, minutes), '
      "got an integer")),
    (PROD + "    approval_ttl: 30s\n", 4, "environments.prod.approval_ttl",
     "'30s' is not a duration like \"30m\""),
    (PROD + "    approval_ttl: 30m1h\n", 4, "environments.prod.approval_ttl",
     "'30m1h' is not a duration"),
    (PROD + "    approval_ttl: 1.5h\n", 4, "environments.prod.approval_ttl",
     "'1.5h' is not a duration"),
    (PROD + "    review_deadline: 0m\n", 4, "environments.prod.review_deadline",
     "'0m' is zero"),
    (PROD + "    review_deadline: ''\n", 4, "environments.prod.review_deadline",
     "'' is not a duration"),
    (PROD + "    apply_window: mon-fri\n", 4, "environments.prod.apply_window",
     "expected a mapping, got a string"),
    (PROD + "    apply_window: {}\n", 4, "environments.prod.apply_window",
     "give at least one of days, hours, timezone"),
    (PROD + "    apply_window:\n      day: mon\n", 5, "environments.prod.apply_window.day",
     "unknown key 'day'; allowed keys: days, hours, timezone"),
    (PROD + "    apply_window:\n      days: [mon, funday]\n", 5,
     "environments.prod.apply_window.days", "'funday' is not a day; use day names"),
    (PROD + "    apply_window:\n      days: mon-tue-wed\n", 5,
     "environments.prod.apply_window.days", "'mon-tue-wed' is not day names"),
    (PROD + "    apply_window:\n      days: [mon, 3]\n", 5,
     "environments.prod.apply_window.days[1]", "expected a string, got an integer"),
    (PROD + "    apply_window:\n      days: []\n", 5,
     "environments.prod.apply_window.days", "no days given"),
    (PROD + "    apply_window:\n      hours: 9-17\n", 5,
     "environments.prod.apply_window.hours", "'9-17' is not \"HH:MM-HH:MM\""),
    (PROD + "    apply_window:\n      hours: '09:00-25:00'\n", 5,
     "environments.prod.apply_window.hours", "not a valid time range"),
    (PROD + "    apply_window:\n      hours: 900\n", 5,
     "environments.prod.apply_window.hours", "expected \"HH:MM-HH:MM\"", ),
    (PROD + "    apply_window:\n      timezone: Mars/Olympus\n", 5,
     "environments.prod.apply_window.timezone", "unknown time zone 'Mars/Olympus'"),
    (PROD + "    apply_window:\n      timezone: ../../etc/passwd\n", 5,
     "environments.prod.apply_window.timezone", "unknown time zone"),
    (PROD + "    destroy_requires: 2\n", 4, "environments.prod.destroy_requires",
     "expected a mapping, got an integer"),
    (PROD + "    destroy_requires: {}\n", 4, "environments.prod.destroy_requires",
     "give required_approvals, approvers or both"),
    (PROD + "    destroy_requires: {required_approvals: many}\n", 4,
     "environments.prod.destroy_requires.required_approvals", "integer >= 0, got 'many'"),
    (PROD + "    destroy_requires:\n      approvers: dave\n", 5,
     "environments.prod.destroy_requires.approvers", "expected a list, got a string"),
    (PROD + "    destroy_requires: {approves: [dave]}\n", 4,
     "environments.prod.destroy_requires.approves",
     "allowed keys: required_approvals, approvers"),
    (PROD + "    appliers: carol\n", 4, "environments.prod.appliers",
     "expected a list, got a string"),
    (PROD + "    appliers: ['']\n", 4, "environments.prod.appliers[0]", "must not be empty"),
    (PROD + "    apply_requirements: approved\n", 4, "environments.prod.apply_requirements",
     "expected a list, got a string"),
    (PROD + "    apply_requirements:\n      - approved\n      - mergable\n", 6,
     "environments.prod.apply_requirements[1]",
     "unknown apply requirement 'mergable'; allowed: approved, mergeable, undiverged"),
    (PROD + "    apply_requirements: [approved, 1]\n", 4,
     "environments.prod.apply_requirements[1]", "expected a string, got an integer"),
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


def test_atmos_section_is_kept_for_detection() -> None:
    config = parse_repo_config(dedent("""
        version: 1
        atmos:
          stacks_path: stacks
          components_path: components/terraform
          name_pattern: "{tenant}-{environment}-{stage}"
          project_name: "{stack}-{component}"
    """))
    assert config.atmos is not None
    assert dict(config.atmos) == {
        "stacks_path": "stacks", "components_path": "components/terraform",
        "name_pattern": "{tenant}-{environment}-{stage}", "project_name": "{stack}-{component}"}
    assert parse_repo_config("version: 1\n").atmos is None
    assert parse_repo_config("version: 1\natmos: {}\n").atmos == {}


def test_alias_bomb_is_refused() -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    with pytest.raises(RepoConfigError, match="too large"):
        parse_repo_config("\n".join(lines) + "\n")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(RepoConfigError, match="(too deep|invalid YAML)"):
        parse_repo_config("version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n")


def test_import_and_state_rm_stages() -> None:
    """As in atlantis.yaml: `atlantis import` and `state rm` run these stages."""
    config = parse_repo_config(textwrap.dedent("""\
        version: 1
        workflows:
          w:
            import:
              steps: [init, {run: echo importing}, {import: {extra_args: [-var-file=a.tfvars]}}]
            state_rm:
              steps: [state_rm]
        """), "workflows.yaml")
    flow = config.workflows["w"]
    assert flow.stage("import") == (Step("init"), Step("run", run="echo importing"),
                                    Step("import", extra_args=("-var-file=a.tfvars",)))
    assert flow.stage("state_rm") == (Step("state_rm"),)
def test_a_project_may_pin_its_terraform_version() -> None:
    config = parse_repo_config("version: 1\nprojects:\n- dir: a\n  terraform_version: 1.9.8\n"
                               "- dir: b\n  terraform_version: '>= 1.5, < 2'\n- dir: c\n")
    assert [p.terraform_version for p in config.projects] == ["1.9.8", ">= 1.5, < 2", None]
    with pytest.raises(RepoConfigError) as caught:
        parse_repo_config("version: 1\nprojects:\n- dir: a\n  terraform_version: '>> 1'\n")
    assert (caught.value.line, caught.value.key) == (4, "projects[0].terraform_version")
    assert "is not a version or constraint like 1.9.8" in caught.value.message
