"""repos.yaml (the server-side repo config): parsing with located errors,
matching repositories the way Atlantis does, and bounding a repository's own
atlantis.yaml / workflows.yaml."""

from __future__ import annotations

import pytest

from atlantis_py.core.config.load import head_config, rules_config
from atlantis_py.core.config.repo_policy import RepoPolicies, branch_served, policy_for
from atlantis_py.core.config.server import parse_server_config
from atlantis_py.domain.projects import Project
from atlantis_py.domain.server_config import Hook, RepoPolicy, ServerRepoConfig
from atlantis_py.errors import RepoConfigError

SERVER = """\
repos:
- id: /.*/
  apply_requirements: [approved]
  workflow: custom
  pre_workflow_hooks:
  - run: ./generate.sh --all
    description: generate
- id: github.com/acme/infra
  branch: /^main$/
  allowed_overrides: [workflow]
  allowed_workflows: [custom, other]
  post_workflow_hooks:
  - run: [sh, -c, "echo done > $DIR/done"]
    commands: plan
- id: acme/special
  apply_requirements: []
  allow_custom_workflows: true
  allowed_overrides: [workflow, apply_requirements, delete_source_branch_on_merge]
  repo_config_file: infra/atlantis-prod.yaml
  delete_source_branch_on_merge: true
workflows:
  custom:
    plan:
      steps: [init, {run: echo custom-plan}, plan]
  other:
    plan:
      steps: [init, plan]
policies:
  owners: {users: [alice]}
  policy_sets: [{name: s, path: /p, source: local}]
"""


def server(text: str = SERVER) -> ServerRepoConfig:
    return parse_server_config(text, "/etc/atlantis/repos.yaml")


def policy(name: str, host: str = "github.com") -> RepoPolicy:
    found = RepoPolicies(server(), {"github": host}).for_repo("github", name)
    assert found is not None
    return found


def test_parses_every_supported_key_and_its_policy_sets() -> None:
    parsed = server()
    assert [r.id for r in parsed.repos] == ["/.*/", "github.com/acme/infra", "acme/special"]
    assert parsed.repos[0].id_regex == ".*" and parsed.repos[1].branch == "^main$"
    assert parsed.repos[0].pre_workflow_hooks == (
        Hook(argv=("./generate.sh", "--all"), description="generate"),)
    post = parsed.repos[1].post_workflow_hooks[0]
    assert post.argv == ("sh", "-c", "echo done > $DIR/done") and not post.expand
    custom = parsed.workflows["custom"]
    assert [s.name for s in custom.plan] == ["init", "run", "plan"]
    assert all(step.trusted for step in custom.plan)
    assert parsed.policies is not None and parsed.policies.owners.users == ("alice",)
    assert server("repos: []\n").policies is None


def test_later_entries_override_earlier_ones_key_by_key() -> None:
    infra = policy("acme/infra")
    assert infra.workflow == "custom"                    # from /.*/, not unset by the later one
    assert infra.apply_requirements == ("approved",)
    assert infra.allowed_overrides == {"workflow"}
    assert infra.branch == "^main$"
    assert [h.description for h in infra.pre_workflow_hooks] == ["generate"]
    assert len(infra.post_workflow_hooks) == 1          # hooks of every match, in order
    special = policy("acme/special")
    assert special.apply_requirements == ()             # the later, empty list wins
    assert special.allow_custom_workflows and special.delete_source_branch_on_merge
    assert special.repo_config_file == "infra/atlantis-prod.yaml"
    assert special.branch is None                       # the last match says nothing
    other = policy("acme/other")
    assert other.allowed_overrides == frozenset() and not other.allow_custom_workflows


def test_ids_match_host_qualified_or_bare_and_regexes_search() -> None:
    assert policy("acme/infra").branch == "^main$"
    # on a GitHub Enterprise host the host-qualified id is another repository
    assert policy("acme/infra", host="ghe.example.com").branch is None
    config = server("repos:\n- id: /^gitlab\\.example\\.com\\/platform\\//\n  workflow: x\n"
                    "workflows: {x: {}}\n")
    hosts = {"gitlab": "gitlab.example.com"}
    found = RepoPolicies(config, hosts).for_repo("gitlab", "platform/net/vpc")
    assert found is not None and found.workflow == "x"
    missed = RepoPolicies(config, hosts).for_repo("gitlab", "apps/platform/x")
    assert missed is not None and missed.workflow == "default"
    assert RepoPolicies(None, hosts).for_repo("gitlab", "platform/x") is None
    assert policy_for(config, "example.org/a/b").workflow == "default"


def test_branch_regex() -> None:
    infra = policy("acme/infra")
    assert branch_served(infra, "main") and not branch_served(infra, "mainline")
    assert branch_served(policy("acme/other"), "anything") and branch_served(None, "x")


@pytest.mark.parametrize(("text", "line", "key", "words"), [
    ("repos:\n- id: a/b\n  custom_policy_check: true\n", 3,
     "repos[0].custom_policy_check", "custom_policy_check: true is not supported"),
    ("repos:\n- id: a/b\n  plan_requirements: [policies_passed]\n", 3,
     "repos[0].plan_requirements[0]", "apply requirement only"),
    ("repos:\n- id: a/b\n  repo_locks: {mode: sometimes}\n", 3,
     "repos[0].repo_locks.mode", "not one of"),
    ("repos:\n- id: a/b\n  silence_pr_comments: [import]\n", 3,
     "repos[0].silence_pr_comments[0]", "cannot be silenced"),
    ("repos:\n- id: a/b\n  autodiscover: {mode: always}\n", 3,
     "repos[0].autodiscover.mode", "not one of"),
    ("repos:\n- id: a/b\n  policy_check: maybe\n", 3,
     "repos[0].policy_check", "expected true or false"),
    ("repos:\n- id: a/b\n  bogus: 1\n", 3, "repos[0].bogus", "unknown key"),
    ("metrics: {}\n", 1, "metrics", "not supported"),
    ("repos:\n- branch: /x/\n", 2, "repos[0]", "missing 'id'"),
    ("repos:\n- id: /a(/\n", 2, "repos[0].id", "not a valid regex"),
    ("repos:\n- id: a/b\n  branch: main\n", 3, "repos[0].branch", "between slashes"),
    ("repos:\n- id: a/b\n  workflow: nope\n", 3, "repos[0].workflow", "not defined"),
    ("repos:\n- id: a/b\n  allowed_workflows: [default, nope]\n", 3,
     "repos[0].allowed_workflows[1]", "not defined"),
    ("repos:\n- id: a/b\n  allowed_overrides: [workflow, branch]\n", 3,
     "repos[0].allowed_overrides[1]", "cannot be overridden"),
    ("repos:\n- id: a/b\n  apply_requirements: [sealed]\n", 3,
     "repos[0].apply_requirements[0]", "not supported"),
    ("repos:\n- id: a/b\n  pre_workflow_hooks:\n  - run: x\n    shell: bash\n", 5,
     "repos[0].pre_workflow_hooks[0].shell", "without a shell"),
    ("repos:\n- id: a/b\n  pre_workflow_hooks:\n  - run: \"unclosed 'quote\"\n", 4,
     "repos[0].pre_workflow_hooks[0].run", "cannot split"),
    ("repos:\n- id: a/b\n  post_workflow_hooks:\n  - run: x\n    commands: plan, import\n", 5,
     "repos[0].post_workflow_hooks[0].commands", "'import'"),
    ("repos:\n- id: a/b\n  repo_config_file: ../x.yaml\n", 3,
     "repos[0].repo_config_file", "outside the repository"),
    ("workflows:\n  w:\n    plan:\n      steps: [policy_check]\n", 4,
     "workflows.w.plan.steps[0]", "not supported"),
    ("policies: [a]\n", 1, "policies", "expected a mapping"),
])
def test_errors_name_file_line_and_key(text: str, line: int, key: str, words: str) -> None:
    with pytest.raises(RepoConfigError) as caught:
        server(text)
    err = caught.value
    assert (err.file, err.line, err.key) == ("/etc/atlantis/repos.yaml", line, key), err
    assert words in err.message


def test_json_is_read_with_lines_too() -> None:
    parsed = parse_server_config('{"repos": [{"id": "/.*/", "workflow": "default"}]}',
                                 "--repo-config-json")
    assert parsed.repos[0].workflow == "default"
    with pytest.raises(RepoConfigError) as caught:
        parse_server_config('{"repos": [\n  {"id": "a/b",\n   "nope": 1}]}', "--repo-config-json")
    assert caught.value.line == 3 and caught.value.key == "repos[0].nope"


# -- bounding the repository's own file ------------------------------------------------

ATLANTIS = """\
version: 3
projects:
- dir: net
  workflow: other
- dir: app
"""


def test_server_workflow_is_the_default_and_allowed_override_picks_another() -> None:
    config = head_config(ATLANTIS, policy("acme/infra"))
    net, app = config.projects
    assert config.workflow_for(net).name == "other"
    assert [s.run for s in config.workflow_for(app).plan if s.run] == ["echo custom-plan"]
    detected = Project(name="x", dir="x")  # a project found from a changed dir
    assert config.workflow_for(detected).name == "custom"


def test_disallowed_override_names_file_line_and_key() -> None:
    with pytest.raises(RepoConfigError) as caught:
        head_config(ATLANTIS, policy("acme/other"))
    err = caught.value
    assert (err.file, err.line, err.key) == ("atlantis.yaml", 4, "projects[0].workflow")
    assert "does not allow" in err.message and "allowed_overrides: [workflow]" in err.message
    with pytest.raises(RepoConfigError) as caught:
        head_config("version: 3\nprojects:\n- dir: a\n  apply_requirements: []\n",
                    policy("acme/infra"))
    assert caught.value.key == "projects[0].apply_requirements" and caught.value.line == 4


def test_allowed_workflows_and_custom_workflows() -> None:
    text = "version: 3\nprojects:\n- dir: a\n  workflow: mine\nworkflows:\n  mine: {}\n"
    with pytest.raises(RepoConfigError) as caught:
        head_config(text, policy("acme/infra"))
    assert caught.value.key == "workflows" and "allow_custom_workflows: true" in \
        caught.value.message
    allowed = head_config(text, policy("acme/special"))
    assert allowed.workflow_for(allowed.projects[0]).name == "mine"
    strict = server("repos:\n- id: /.*/\n  allowed_overrides: [workflow]\n"
                    "  allowed_workflows: [a]\nworkflows: {a: {}, b: {}}\n")
    with pytest.raises(RepoConfigError) as caught:
        head_config("version: 3\nprojects:\n- dir: x\n  workflow: b\n",
                    policy_for(strict, "github.com/o/r"))
    assert "does not allow workflow 'b'" in caught.value.message and caught.value.line == 4


def test_apply_requirements_are_a_floor_unless_overridable() -> None:
    floor = server("repos:\n- id: /.*/\n  apply_requirements: [approved, mergeable]\n")
    rules = rules_config("version: 1\nenvironments:\n  dev:\n    required_approvals: 0\n"
                         "    apply_requirements: []\nprojects:\n- dir: a\n  environment: dev\n",
                         "main", policy_for(floor, "github.com/o/r"))
    dev = rules.environment_for(rules.projects[0])
    assert dev.apply_requirements == ("approved", "mergeable") and dev.required_approvals == 1
    unknown = rules.environment_for(Project(name="b", dir="b", environment="elsewhere"))
    assert unknown.apply_requirements == ("approved", "mergeable")
    # allowed: the repository's own list stands; projects that set none get the server's
    open_ = server("repos:\n- id: /.*/\n  apply_requirements: [mergeable]\n"
                   "  allowed_overrides: [apply_requirements]\n")
    text = "version: 3\nprojects:\n- dir: a\n  apply_requirements: []\n- dir: b\n"
    mine = rules_config(text, "main", policy_for(open_, "github.com/o/r"))
    a, b = mine.projects
    assert mine.environment_for(a).apply_requirements == ()
    assert mine.environment_for(b).apply_requirements == ("mergeable",)


def test_delete_source_branch_on_merge_and_repo_config_file() -> None:
    special = policy("acme/special")
    assert head_config("", special).options.delete_source_branch_on_merge
    own = head_config("version: 3\ndelete_source_branch_on_merge: false\n", special)
    assert not own.options.delete_source_branch_on_merge
    with pytest.raises(RepoConfigError) as caught:
        head_config("version: 3\ndelete_source_branch_on_merge: true\n", policy("acme/infra"))
    assert caught.value.key == "delete_source_branch_on_merge"
    with pytest.raises(RepoConfigError) as caught:
        head_config("version: 3\nprojects: [{dir: a, mystery: 1}]\n", special)
    assert caught.value.file == "infra/atlantis-prod.yaml"


@pytest.mark.parametrize("key, value", [
    ("plan_requirements", "[approved]"), ("import_requirements", "[]"),
    ("repo_locking", "false"), ("repo_locks", "{mode: disabled}"),
    ("silence_pr_comments", "[plan]"),
])
def test_atlantis_project_keys_need_allowed_overrides(key: str, value: str) -> None:
    """As Atlantis's ValidateRepoCfg: with a repos.yaml, a repository's project
    sets these only when allowed_overrides names them."""
    text = f"version: 3\nprojects:\n- dir: a\n  {key}: {value}\n"
    with pytest.raises(RepoConfigError) as caught:
        head_config(text, policy("acme/infra"))
    assert (caught.value.key, caught.value.line) == (f"projects[0].{key}", 4)
    assert f"allowed_overrides: [{key}]" in caught.value.message
    lenient = server(f"repos:\n- id: /.*/\n  allowed_overrides: [{key}]\n")
    allowed = policy_for(lenient, "github.com/acme/infra", "acme/infra")
    assert head_config(text, allowed).projects[0].dir == "a"


def test_project_delete_source_branch_on_merge_needs_allowed_overrides() -> None:
    text = "version: 3\nprojects:\n- dir: a\n  delete_source_branch_on_merge: true\n- dir: b\n"
    with pytest.raises(RepoConfigError) as caught:
        head_config(text, policy("acme/infra"))
    assert caught.value.key == "projects[0].delete_source_branch_on_merge"
    a, b = head_config(text, policy("acme/special")).projects
    assert (a.delete_source_branch_on_merge, b.delete_source_branch_on_merge) == (True, None)


LOCKED = """\
repos:
- id: /.*/
  plan_requirements: [approved]
  import_requirements: [mergeable]
  repo_locks: {mode: on_apply}
  silence_pr_comments: [apply]
- id: acme/open
  allowed_overrides: [plan_requirements, repo_locks, repo_locking, silence_pr_comments]
"""


def test_server_plan_requirements_locks_and_silence_reach_every_project() -> None:
    strict = policy_for(server(LOCKED), "github.com/acme/infra", "acme/infra")
    assert (strict.plan_requirements, strict.repo_locks) == (("approved",), "on_apply")
    config = head_config("version: 3\nprojects:\n- dir: a\n", strict)
    [a] = config.projects
    assert (a.plan_requirements, a.import_requirements) == (("approved",), ("mergeable",))
    assert (a.repo_locks, a.silence_pr_comments) == ("on_apply", ("apply",))
    # projects found from changed directories get them through the options
    assert config.options.plan_requirements == ("approved",)
    assert (config.options.repo_locks, config.options.silence_pr_comments) == \
        ("on_apply", ("apply",))
    bare = head_config("", strict)  # no file at all: the server's values still hold
    assert (bare.options.repo_locks, bare.options.plan_requirements) == \
        ("on_apply", ("approved",))
    with pytest.raises(RepoConfigError) as caught:  # top-level keys are bounded too
        head_config("version: 3\nrepo_locks: {mode: disabled}\n", strict)
    assert caught.value.key == "repo_locks" and "allowed_overrides: [repo_locks]" in \
        caught.value.message


def test_allowed_overrides_let_a_project_choose_its_own() -> None:
    lenient = policy_for(server(LOCKED), "github.com/acme/open", "acme/open")
    text = ("version: 3\nsilence_pr_comments: [plan]\nprojects:\n"
            "- {dir: a, plan_requirements: [], repo_locking: false}\n"
            "- {dir: b, repo_locks: {mode: on_plan}, silence_pr_comments: []}\n"
            "- {dir: c}\n")
    a, b, c = head_config(text, lenient).projects
    assert (a.plan_requirements, a.repo_locks, a.silence_pr_comments) == \
        ((), "disabled", ("plan",))
    assert (b.plan_requirements, b.repo_locks, b.silence_pr_comments) == \
        (("approved",), "on_plan", ())
    assert (c.repo_locks, c.silence_pr_comments) == ("on_apply", ("plan",))
    # import_requirements is not in allowed_overrides: the server's, refused in the file
    assert c.import_requirements == ("mergeable",)


def test_server_autodiscover_wins_over_the_files() -> None:
    text = "version: 3\nautodiscover: {mode: enabled, ignore_paths: [mine/*]}\n" \
           "projects:\n- dir: a\n"
    off = server("repos:\n- id: /.*/\n  autodiscover: {mode: disabled}\n")
    config = head_config(text, policy_for(off, "github.com/o/r"))
    assert (config.options.autodiscover, config.options.ignore_paths) == \
        ("disabled", ("mine/*",))
    on = server("repos:\n- id: /.*/\n  autodiscover: {mode: enabled, ignore_paths: [x/*]}\n")
    bare = head_config("", policy_for(on, "github.com/o/r"))
    assert (bare.options.autodiscover, bare.options.ignore_paths, bare.explicit) == \
        ("enabled", ("x/*",), True)
    assert not head_config("", policy_for(server(LOCKED), "github.com/o/r")).explicit


def test_policy_check_false_and_policies_passed() -> None:
    parsed = server("repos:\n- id: /.*/\n  apply_requirements: [approved, policies_passed]\n"
                    "  custom_policy_check: false\n- id: acme/sandbox\n  policy_check: false\n")
    assert policy_for(parsed, "github.com/acme/infra", "acme/infra").policy_check
    sandbox = policy_for(parsed, "github.com/acme/sandbox", "acme/sandbox")
    assert not sandbox.policy_check
    assert sandbox.apply_requirements == ("approved", "policies_passed")


def test_lock_modes_merge_in_atlantis_order() -> None:
    """Server, then a project's repo_locking, then the file's top-level
    repo_locks, then the project's own repo_locks, each where allowed."""
    lenient = policy_for(server(LOCKED), "github.com/acme/open", "acme/open")
    text = ("version: 3\nrepo_locks: {mode: on_plan}\nprojects:\n"
            "- {dir: a, repo_locking: false}\n- {dir: b, repo_locks: {mode: disabled}}\n")
    a, b = head_config(text, lenient).projects
    assert (a.repo_locks, b.repo_locks) == ("on_plan", "disabled")
    alone = head_config("version: 3\nprojects:\n- {dir: a, repo_locking: true}\n", lenient)
    assert alone.projects[0].repo_locks == "on_apply"
