"""Policy checks through the real server, real terraform and real Rego (--policies):
a failing set blocks the apply until one of its owners approves it on the head
commit; a push voids that approval; a broken policy fails closed."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.core.config.policies import load_policies
from atlantis_py.core.config.server import parse_server_config
from atlantis_py.domain.policies import PolicySets
from tests.e2e.conftest import World, running_world, tf_project
from tests.e2e.server_process import ServerProcess, free_port
from tests.e2e.test_console_iprs import signed_in
from tests.e2e.test_restart import SECRET, server_env
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.gitlab import FakeGitLab
from tests.fakeforge.neutral import NeutralPull

FORBIDDEN_INPUTS = """\
package main

import rego.v1

deny contains msg if {
    some rc in input.resource_changes
    rc.type == "terraform_data"
    rc.change.after.input == "forbidden"
    msg := sprintf("%s: input must not be forbidden", [rc.address])
}

warn contains msg if {
    some rc in input.resource_changes
    rc.change.after.input == "big"
    msg := sprintf("%s: big input, check the cost", [rc.address])
}
"""

# conftest's older syntax, unchanged
NAMING = """\
package main

deny[msg] {
    rc := input.resource_changes[_]
    startswith(rc.name, "tmp_")
    msg := sprintf("%s: no tmp_ resources", [rc.address])
}
"""

POLICIES = """\
policies:
  owners:
    users: [erin]
  policy_sets:
    - name: inputs
      path: rego/inputs
      source: local
      owners:
        users: [bob]
        teams: [acme/security]
    - name: naming
      path: rego/naming
      source: local
      owners:
        users: [alice]
      prevent_self_approve: true
"""


def policy_files(tmp_path: Path, naming: str = NAMING, config: str = POLICIES) -> PolicySets:
    root = tmp_path / "policy-config"
    (root / "rego" / "inputs").mkdir(parents=True)
    (root / "rego" / "naming").mkdir(parents=True)
    (root / "rego" / "inputs" / "inputs.rego").write_text(FORBIDDEN_INPUTS)
    (root / "rego" / "naming" / "naming.rego").write_text(naming)
    file = root / "policies.yaml"
    file.write_text(config)
    return load_policies(str(file), config)


@pytest.fixture
def policed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    forge = getattr(request, "param", "github")
    with running_world(tmp_path, forge, policies=policy_files(tmp_path)) as w:
        yield w


POLICED_FORGES = pytest.mark.parametrize("policed", ["github", "gitlab"], indirect=True)


def resource(name: str, value: str) -> str:
    return f'\nresource "terraform_data" "{name}" {{\n  input = "{value}"\n}}\n'


def open_forbidden(world: World) -> NeutralPull:
    repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network")})
    return world.open_pr(repo, {"network/extra.tf": resource("db", "forbidden")
                                + resource("web", "big")})


def add_to_team(world: World, team: str, user: str) -> None:
    if isinstance(world.fake, FakeGitHub):
        world.fake.add_team_member(team, user)
    else:
        assert isinstance(world.fake, FakeGitLab)
        world.fake.add_group_member(team, user)


@POLICED_FORGES
def test_failing_set_blocks_apply_until_an_owner_approves(policed: World) -> None:
    world = policed
    pull = open_forbidden(world)
    plan = world.bot_comments(pull)[0]
    assert "**Policy checks:** :x: 1 of 2 policy sets failed" in plan
    assert "deny: `terraform_data.db: input must not be forbidden`" in plan
    assert "warn: `terraform_data.web: big input, check the cost`" in plan
    assert "* :white_check_mark: `naming` passed" in plan
    state, text = world.statuses(pull)["atlantis/policy_check"]
    assert state == "failure" and "inputs" in text

    world.approve(pull, "carol")  # the environment's approval: not the policy's
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "Apply refused: policy checks failed" in refused
    assert "`inputs` for project `network`" in refused
    assert "terraform_data.db: input must not be forbidden" in refused
    assert "It may be approved by erin, bob or a member of acme/security." in refused
    assert world.state_resources("network") == []

    denied = world.comment(pull, "carol", "atlantis approve_policies")
    assert "carol is not an owner of policy set `inputs`; it may be approved by erin, bob " \
           "or a member of acme/security." in denied
    assert world.statuses(pull)["atlantis/policy_check"][0] == "failure"
    assert "Apply refused: policy checks failed" in world.comment(pull, "alice",
                                                                   "atlantis apply")

    add_to_team(world, "acme/security", "dave")
    approved = world.comment(pull, "dave", "atlantis approve_policies -p network")
    assert "* policy set `inputs` for project `network`" in approved
    assert "Every failing policy set of this commit is approved" in approved
    assert world.statuses(pull)["atlantis/policy_check"] == (
        "success", "failing policy sets approved by their owners")

    applied = world.comment(pull, "alice", "atlantis apply")
    assert "refused" not in applied
    assert {"db", "web"} <= set(world.state_resources("network"))
    actions = [(e.actor, e.action, e.project) for e in
               world.service.services.audit.events(world.record(pull).id)]
    assert ("alice", "policy_check:failure", "network") in actions
    assert ("carol", "policy:refused", "network") in actions
    assert ("dave", "policy:approved", "network") in actions


@POLICED_FORGES
def test_a_push_voids_the_policy_approval(policed: World) -> None:
    world = policed
    pull = open_forbidden(world)
    assert "Every failing policy set" in world.comment(pull, "bob", "atlantis approve_policies")
    assert world.statuses(pull)["atlantis/policy_check"][0] == "success"
    world.comment(pull, "bob", "atlantis plan")  # a new plan is judged afresh
    assert world.statuses(pull)["atlantis/policy_check"][0] == "failure"
    assert "Every failing policy set" in world.comment(pull, "bob", "atlantis approve_policies")
    world.push(pull, {"network/more.tf": resource("cache", "small")})
    replanned = world.bot_comments(pull)[-1]
    assert "deny: `terraform_data.db: input must not be forbidden`" in replanned
    assert world.statuses(pull)["atlantis/policy_check"][0] == "failure"
    world.approve(pull, "carol")
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "Apply refused: policy checks failed" in refused
    assert "`inputs` for project `network`" in refused
    assert world.state_resources("network") == []


def test_prevent_self_approve_refuses_the_author(policed: World) -> None:
    world = policed
    repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network")})
    pull = world.open_pr(repo, {"network/extra.tf": resource("tmp_scratch", "x")})
    assert "deny: `terraform_data.tmp_scratch: no tmp_ resources`" in world.bot_comments(pull)[0]
    refused = world.comment(pull, "alice", "atlantis approve_policies")
    assert "policy set `naming` has prevent_self_approve" in refused
    assert "it may be approved by erin or alice (not the pull request's author)" in refused
    assert "Every failing policy set of this commit is approved" in world.comment(
        pull, "erin", "atlantis approve_policies")


def test_a_github_team_written_as_atlantis_does_is_the_repository_owners(
        tmp_path: Path) -> None:
    """Atlantis names GitHub teams by slug: `security` on acme/infra is acme/security."""
    config = POLICIES.replace("teams: [acme/security]", "teams: [security]")
    with running_world(tmp_path, policies=policy_files(tmp_path, config=config)) as world:
        pull = open_forbidden(world)
        add_to_team(world, "acme/security", "dave")
        add_to_team(world, "other/security", "carol")
        refused = world.comment(pull, "carol", "atlantis approve_policies")
        assert "carol is not an owner of policy set `inputs`" in refused
        assert "Every failing policy set" in world.comment(pull, "dave",
                                                          "atlantis approve_policies")


def test_nothing_to_approve_when_every_set_passes(policed: World) -> None:
    world = policed
    repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network")})
    pull = world.open_pr(repo, {"network/extra.tf": resource("fine", "x")})
    assert "**Policy checks:** :white_check_mark: 2 policy sets passed" in \
        world.bot_comments(pull)[0]
    assert world.statuses(pull)["atlantis/policy_check"] == ("success", "2 policy sets passed")
    assert "**Nothing to approve**" in world.comment(pull, "bob", "atlantis approve_policies")


def test_broken_policy_fails_closed(tmp_path: Path) -> None:
    broken = "package main\n\ndeny[msg] {\n    msg := \"never closed\"\n"
    with running_world(tmp_path, policies=policy_files(tmp_path, naming=broken)) as world:
        with urllib.request.urlopen(f"{world.url}/healthz", timeout=30) as resp:
            health = json.loads(resp.read())
        assert health["status"] == "ok"
        assert health["policies"]["status"] == "broken"
        assert "naming.rego:3:" in health["policies"]["problems"]["naming"]

        repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network")})
        pull = world.open_pr(repo, {"network/extra.tf": resource("fine", "x")})
        plan = world.bot_comments(pull)[0]
        assert "* :x: `naming` could not be evaluated" in plan
        assert "naming.rego:3:" in plan
        world.approve(pull, "bob")
        refused = world.comment(pull, "alice", "atlantis apply")
        assert "`naming` for project `network`: the policy could not be evaluated" in refused
        assert world.state_resources("network") == []


def test_the_server_process_and_its_worker_read_policies_from_the_flag(tmp_path: Path) -> None:
    """`atlantis-py server --policies FILE`: the web process checks the sets at start
    (log, /healthz) and its worker process judges plans with them."""
    broken = "package main\n\ndeny[msg] {\n"
    sets = policy_files(tmp_path, naming=broken)
    state = tmp_path / "state"
    state.mkdir()
    with FakeGitHub(tmp_path) as fake:
        repo = fake.create_repo("acme/infra", {"network/main.tf": tf_project(state, "network")})
        server = ServerProcess(tmp_path / "data", server_env(fake), free_port(),
                               args=["--policies", sets.file])
        fake.webhook_url, fake.webhook_secret = f"{server.url}/events", SECRET
        server.start()
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=30) as resp:
                assert "naming.rego:3:" in json.loads(resp.read())["policies"]["problems"]["naming"]
            assert "policy set naming" in server.log_path.read_text()
            pull = fake.open_pull(repo, changes={"network/extra.tf": resource("db", "forbidden")})
            assert fake.deliver("pull_request", fake.pull_request_payload(pull, "opened"))[0] == 202
            server.settle()
            plan = fake.comments(pull)[0]
            assert "deny: `terraform_data.db: input must not be forbidden`" in plan
            assert "* :x: `naming` could not be evaluated" in plan
        finally:
            server.stop()


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_verdicts_show_in_the_api_the_console_and_the_metrics(tmp_path: Path,
                                                              forge: str) -> None:
    """Each set's verdict per project, who approved it and who may; a set still
    failing is what's missing, and refuses a deploy, until an owner approves it."""
    naming = NAMING.replace('"%s: no tmp_ resources"', '"%s: no <b>tmp_</b> resources"')
    with running_world(tmp_path, forge, policies=policy_files(tmp_path, naming=naming)) as world:
        repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network")})
        pull = world.open_pr(repo, {"network/extra.tf": resource("db", "forbidden")
                                    + resource("tmp_x", "big")})
        ipr = world.record(pull).id
        viewer, reviewer = world.token("vera", "viewer"), world.token("rita", "reviewer")
        world.comment(pull, "bob", "atlantis approve_policies")  # bob owns inputs only
        world.approve(pull, "carol")

        status, found = world.api("GET", f"/ipr/{ipr}", viewer)
        assert status == 200 and found["state"] == "APPROVED"
        assert found["policies"] == [
            {"project": "network", "policy_set": "inputs", "passed": False,
             "denies": ["terraform_data.db: input must not be forbidden"],
             "warnings": ["terraform_data.tmp_x: big input, check the cost"], "error": "",
             "approved_by": ["bob"], "owners": ["erin", "bob", "acme/security"],
             "blocking": False},
            {"project": "network", "policy_set": "naming", "passed": False,
             "denies": ["terraform_data.tmp_x: no <b>tmp_</b> resources"], "warnings": [],
             "error": "", "approved_by": [], "owners": ["erin", "alice"], "blocking": True}]
        missing = ("policy set naming failed on project network and is not approved; it may "
                   "be approved by erin or alice (not the pull request's author) (comment "
                   "`atlantis approve_policies` on the pull request)")
        assert found["blocking"] == [missing]
        status, refused = world.api("POST", f"/ipr/{ipr}/deploy", reviewer)
        assert status == 409 and missing in refused["error"]

        page = signed_in(world, "vera", "viewer").get(f"/ipr/{ipr}")
        assert page.status == 200
        assert '<h2 id="policies">Policy checks</h2>' in page.body
        assert "deny: <code>terraform_data.tmp_x: no &lt;b&gt;tmp_&lt;/b&gt; resources</code>" \
            in page.body
        assert "<b>tmp_</b>" not in page.body
        assert "approved by bob" in page.body
        assert "<li>policy set naming failed on project network and is not approved; it may " \
               "be approved by erin or alice" in page.body

        with urllib.request.urlopen(f"{world.url}/metrics", timeout=30) as resp:
            text = resp.read().decode()
        assert 'atlantis_policy_checks_total{result="failed"} 2' in text
        assert 'atlantis_policy_checks_total{result="passed"} 0' in text

        world.comment(pull, "erin", "atlantis approve_policies")
        _, found = world.api("GET", f"/ipr/{ipr}", viewer)
        assert [(p["policy_set"], p["approved_by"], p["blocking"]) for p in found["policies"]] \
            == [("inputs", ["bob"], False), ("naming", ["erin"], False)]
        assert found["blocking"] == []


def test_a_set_outside_package_main_fails_closed(tmp_path: Path) -> None:
    """A `package` typo must not pass every plan, checking nothing."""
    elsewhere = NAMING.replace("package main", "package naming")
    with running_world(tmp_path, policies=policy_files(tmp_path, naming=elsewhere)) as world:
        with urllib.request.urlopen(f"{world.url}/healthz", timeout=30) as resp:
            problem = json.loads(resp.read())["policies"]["problems"]["naming"]
        assert "no rule in package main" in problem and "naming.rego: package naming" in problem
        repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network")})
        pull = world.open_pr(repo, {"network/extra.tf": resource("fine", "x")})
        plan = world.bot_comments(pull)[0]
        assert "* :x: `naming` could not be evaluated" in plan
        assert "no rule in package main" in plan
        with urllib.request.urlopen(f"{world.url}/metrics", timeout=30) as resp:
            text = resp.read().decode()
        assert 'atlantis_policy_checks_total{result="error"} 1' in text
        assert 'atlantis_policy_checks_total{result="passed"} 1' in text


@POLICED_FORGES
def test_policies_passed_in_atlantis_yaml_blocks_until_approve_policies(policed: World) -> None:
    """Atlantis's `apply_requirements: [policies_passed]`: the apply is refused
    naming the failing set until an owner comments `atlantis approve_policies`."""
    world = policed
    yaml = "version: 3\nprojects:\n- dir: network\n  apply_requirements: [policies_passed]\n"
    repo = world.repo({"atlantis.yaml": yaml,
                       "network/main.tf": tf_project(world.state_dir, "network")})
    pull = world.open_pr(repo, {"network/extra.tf": resource("db", "forbidden")})
    assert "deny: `terraform_data.db: input must not be forbidden`" in \
        world.bot_comments(pull)[0]
    world.approve(pull, "carol")  # --min-approvals' one approval
    refused = world.comment(pull, "alice", "atlantis apply")
    assert "Apply refused: policy checks failed" in refused
    assert "`inputs` for project `network`" in refused
    assert world.state_resources("network") == []
    assert "Every failing policy set of this commit is approved" in world.comment(
        pull, "bob", "atlantis approve_policies")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "refused" not in applied
    assert "db" in world.state_resources("network")


def test_repos_yaml_policy_check_false_skips_the_sets_for_that_repository(
        tmp_path: Path) -> None:
    """repos.yaml's `policy_check: false`: that repository's plans are not
    judged, its applies not gated; another repository's still are."""
    config = parse_server_config("repos:\n- id: /.*/\n- id: acme/sandbox\n"
                                 "  policy_check: false\n", str(tmp_path / "repos.yaml"))
    with running_world(tmp_path, policies=policy_files(tmp_path), repo_config=config) as world:
        sandbox = world.repo({"network/main.tf": tf_project(world.state_dir, "network")},
                             name="acme/sandbox")
        pull = world.open_pr(sandbox, {"network/extra.tf": resource("db", "forbidden")})
        plan = world.bot_comments(pull)[0]
        assert "Policy checks" not in plan and "Plan: 2 to add" in plan
        assert "atlantis/policy_check" not in world.statuses(pull)
        assert "checks no policies for this repository" in world.comment(
            pull, "bob", "atlantis approve_policies")
        world.approve(pull, "carol")
        assert "refused" not in world.comment(pull, "alice", "atlantis apply")
        assert "db" in world.state_resources("network")

        checked = open_forbidden(world)
        assert "deny: `terraform_data.db" in world.bot_comments(checked)[0]
