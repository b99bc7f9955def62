"""Drift detection through the real server: the state changes behind the bot's
back, a scheduled slot (frozen in the past through the API's `at`) finds it,
and it shows in the API, the metrics and the notifications."""

from __future__ import annotations

import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from atlantis_py.cli import main
from atlantis_py.flows.drift_schedule import DriftScheduler
from atlantis_py.forges.clone_urls import CloneUrls
from tests.e2e.conftest import World, running_world, tf_project
from tests.e2e.test_atmos_flow import atmos_files
from tests.e2e.test_console_iprs import signed_in
from tests.e2e.test_flow import tf_extra
from tests.fakeforge.github import FakeGitHub
from tests.fakeforge.gitlab import FakeGitLab
from tests.support.receiver import Receiver

CONFIG = ("version: 1\nprojects:\n  - dir: network\n    environment: prod\n"
          "environments:\n  prod:\n    required_approvals: 1\n"
          "    drift: {schedule: \"0 6 * * *\", timezone: Europe/Berlin}\n")
# 06:00 in Berlin on the day summer time starts is 04:00 UTC; the next day's too
SLOT_DAY_1, SLOT_DAY_2 = "2026-03-29T04:10:00Z", "2026-03-30T04:10:00+00:00"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(params=["github", "gitlab"])
def drift_world(request: pytest.FixtureRequest, tmp_path: Path,
                receiver: Receiver) -> Iterator[World]:
    hooks = tmp_path / "notifications.yaml"
    hooks.write_text(f"environments:\n  prod:\n    - url: {receiver.url}\n      format: json\n")
    with running_world(tmp_path, request.param, notifications_file=hooks) as w:
        yield w


def apply_directly(world: World, value: str) -> None:
    """What someone with the state's credentials does by hand, unseen by the bot."""
    seed = world.state_dir.parent / "by-hand"
    seed.mkdir(exist_ok=True)
    (seed / "main.tf").write_text(tf_project(world.state_dir, "network", value))
    for argv in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", *argv], cwd=seed, check=True, capture_output=True)


def metrics(world: World) -> str:
    with urllib.request.urlopen(f"{world.url}/metrics", timeout=30) as resp:
        return str(resp.read().decode())


def test_scheduled_check_finds_drift(drift_world: World, receiver: Receiver) -> None:
    world = drift_world
    repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network"),
                       "workflows.yaml": CONFIG})
    apply_directly(world, "v1")  # the state matches the default branch
    world.open_pr(repo, {"README.md": "docs\n"})  # the server now serves the repository
    token = world.token("ops", "reviewer")

    status, run = world.api("POST", "/drift/run", token, {"repo": repo.full_name,
                                                          "at": SLOT_DAY_1})
    assert status == 202, run
    assert [(q["environment"], q["slot"]) for q in run["queued"]] == \
        [("prod", "2026-03-29T06:00:00")]
    # another replica (or a second look) at the same slot queues nothing
    status, again = world.api("POST", "/drift/run", token, {"repo": repo.full_name,
                                                            "at": SLOT_DAY_1})
    assert (status, again["queued"]) == (202, [])
    world.settle()
    status, found = world.api("GET", f"/drift?repo={repo.full_name}", token)
    assert status == 200
    assert [(d["project"], d["state"], d["trigger"]) for d in found["items"]] == \
        [("network", "clean", "schedule")]

    apply_directly(world, "changed by hand")
    status, run = world.api("POST", "/drift/run", token, {"repo": repo.full_name,
                                                          "at": SLOT_DAY_2})
    assert [q["slot"] for q in run["queued"]] == ["2026-03-30T06:00:00"]
    world.settle()
    _, found = world.api("GET", "/drift", token)
    [drift] = found["items"]
    assert (drift["state"], drift["add"], drift["change"], drift["destroy"]) == \
        ("drifted", 0, 1, 0)
    assert drift["resources"] == [{"address": "terraform_data.network", "actions": ["update"]}]
    assert drift["environment"] == "prod" and len(drift["head_sha"]) == 40

    text = metrics(world)
    assert 'atlantis_drift_projects{state="drifted"} 1' in text
    assert 'atlantis_drift_projects{state="clean"} 0' in text
    [notice] = receiver.wait_for(1)
    assert (notice["event"], notice["environment"]) == ("drifted", "prod")
    assert notice["drift"]["repo"] == repo.full_name
    assert notice["drift"]["resources"] == drift["resources"]


@pytest.mark.parametrize("world", ["github", "gitlab-postgres"], indirect=True)
def test_housekeeping_queues_a_due_slot_once_over_replicas(world: World) -> None:
    """The housekeeping task itself, with a frozen clock: two schedulers (as on two
    replicas) look at 06:05 Berlin time; one check is queued, and none an hour later."""
    repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network"),
                       "workflows.yaml": CONFIG})
    world.open_pr(repo, {"README.md": "docs\n"})
    svc = world.service
    assert svc.drift_store is not None
    now = datetime(2026, 1, 15, 5, 5, tzinfo=UTC)
    replicas = [DriftScheduler(svc.services, svc.drift_store, svc.queue, 2,
                               clock=lambda: now) for _ in range(2)]
    runs = [replica.due(replica.clock()) for replica in replicas]
    assert [[(q.environment, q.slot) for q in run.queued] for run in runs] == \
        [[("prod", "2026-01-15T06:00:00")], []]
    now += timedelta(hours=1)
    replicas[1].tick()
    world.settle()
    _, found = world.api("GET", "/drift", world.token("ops", "viewer"))
    assert [(d["project"], d["trigger"]) for d in found["items"]] == [("network", "schedule")]
    assert len(svc.drift_store.latest()) == 1


def test_future_slots_and_bad_requests_are_refused(world: World) -> None:
    repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network"),
                       "workflows.yaml": CONFIG})
    world.open_pr(repo, {"README.md": "docs\n"})
    token = world.token("ops", "reviewer")
    status, body = world.api("POST", "/drift/run", token, {"at": "2999-01-01T06:00:00Z"})
    assert (status, body["error"]) == (422, "at may not be later than the server's clock")
    status, body = world.api("POST", "/drift/run", token, {"repo": "acme/other"})
    assert status == 404 and "no pull request of acme/other" in body["error"]
    status, body = world.api("POST", "/drift/run", token, {"project": "network"})
    assert status == 422 and "project needs repo" in body["error"]
    status, body = world.api("POST", "/drift/run", world.token("eve", "viewer"), {})
    assert status == 403


@pytest.mark.parametrize("forge", ["github", "gitlab"])
def test_a_repository_the_configuration_names_is_checked_before_any_pull_request(
        tmp_path: Path, forge: str) -> None:
    """--repo-allowlist's exact names (not its globs) are known to drift checks."""
    with running_world(tmp_path, forge, repo_allowlist=("acme/infra", "acme/*")) as world:
        urls = world.service.drift.clone_url if world.service.drift else None
        assert isinstance(urls, CloneUrls)
        # the clone URL is built from the forge's web root; the fake forge serves
        # its git from a folder instead of its web address
        assert isinstance(world.fake, (FakeGitHub, FakeGitLab))
        urls.web = {forge: str(world.fake.root)}
        repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network"),
                           "workflows.yaml": CONFIG})
        world.fake.create_repo("acme/other", {"main.tf": ""})
        apply_directly(world, "v1")
        token = world.token("ops", "reviewer")

        status, run = world.api("POST", "/drift/run", token, {"repo": repo.full_name})
        assert status == 202 and [q["repo"] for q in run["queued"]] == [repo.full_name]
        world.settle()
        status, found = world.api("GET", f"/drift?repo={repo.full_name}", token)
        assert [(d["project"], d["state"], d["trigger"]) for d in found["items"]] == \
            [("network", "clean", "manual")]
        # its schedules are read too, with no pull request to have read them
        status, run = world.api("POST", "/drift/run", token, {"repo": repo.full_name,
                                                              "at": SLOT_DAY_1})
        assert [(q["environment"], q["slot"]) for q in run["queued"]] == \
            [("prod", "2026-03-29T06:00:00")]
        status, body = world.api("POST", "/drift/run", token, {"repo": "acme/other"})
        assert status == 404
        assert "neither repos.yaml nor --repo-allowlist names it exactly" in body["error"]


def test_cli_run_skips_a_locked_project_and_checks_the_rest(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    files = {f"{n}/main.tf": tf_project(world.state_dir, n) for n in ("network", "storage")}
    repo = world.repo(files)
    apply_directly(world, "v1")
    # the pull request plans network, so it holds network's lock
    pull = world.open_pr(repo, {"network/main.tf": tf_project(world.state_dir, "network",
                                                              "v2")})
    token = world.token("ops", "reviewer")
    argv = ["drift", "--server", world.url, "--token", token]
    assert main([*argv, "run", "--repo", repo.full_name]) == 0
    assert f"{repo.full_name}" in capsys.readouterr().out
    world.settle()
    _, found = world.api("GET", "/drift", token)
    states = {d["project"]: (d["state"], d["detail"]) for d in found["items"]}
    assert states["network"] == ("skipped", f"locked by pull request #{pull.number}")
    # storage has no state yet: planning it would create its resource
    assert states["storage"][0] == "drifted"
    assert main([*argv, "show", "--repo", repo.full_name]) == 0
    shown = capsys.readouterr().out
    assert "skipped" in shown and f"locked by pull request #{pull.number}" in shown
    assert 'atlantis_drift_projects{state="skipped"} 1' in metrics(world)

    page = signed_in(world, "vera", "viewer").get(f"/drift?repo={repo.full_name}")
    assert page.status == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<a href="/drift">Drift</a>' in page.body
    assert '<span class="state skipped">skipped</span>' in page.body
    assert f"locked by pull request #{pull.number}" in page.body
    assert "<code>terraform_data.storage</code> create" in page.body
    refused = signed_in(world, "vera", "viewer").get("/drift?repo=acme/%3Cb%3E")
    assert refused.status == 422 and "&lt;b&gt;" in refused.body and "<b>" not in refused.body


def stamp_project(state_dir: Path) -> str:
    """A resource whose every plan replaces it: its trigger is the time of the plan."""
    return (f'terraform {{\n  backend "local" {{ path = "{state_dir}/clock.tfstate" }}\n}}\n\n'
            'resource "terraform_data" "stamp" {\n  triggers_replace = timestamp()\n}\n')


@pytest.fixture(params=["github", "gitlab"])
def notified_world(request: pytest.FixtureRequest, tmp_path: Path,
                   receiver: Receiver) -> Iterator[World]:
    hooks = tmp_path / "notifications.yaml"
    hooks.write_text(f"environments:\n  '*':\n    - url: {receiver.url}\n"
                     "      events: [drifted]\n")
    with running_world(tmp_path, request.param, notifications_file=hooks) as w:
        yield w


def test_post_apply_plan_flags_a_resource_that_never_settles(notified_world: World,
                                                             receiver: Receiver) -> None:
    world = notified_world
    repo = world.repo({"network/main.tf": tf_project(world.state_dir, "network")})
    token = world.token("ops", "viewer")
    calm = world.open_pr(repo, {"network/extra.tf": tf_extra("calm")})
    world.approve(calm, "bob")
    applied = world.comment(calm, "alice", "atlantis apply")
    assert "Apply complete! Resources: 2 added" in applied
    assert "Not settled" not in applied
    assert world.api("GET", "/drift", token) == (200, {"items": []})

    restless = world.open_pr(repo, {"clock/main.tf": stamp_project(world.state_dir)},
                             branch="clock")
    world.approve(restless, "bob")
    applied = world.comment(restless, "alice", "atlantis apply")
    assert "Apply complete! Resources: 1 added" in applied
    assert (f":warning: **Not settled:** planned again at `{restless.head_sha[:7]}` right "
            "after this apply, `clock` still has changes:\n\n"
            "* `terraform_data.stamp`: delete, create\n") in applied
    _, found = world.api("GET", f"/drift?repo={repo.full_name}", token)
    [drift] = found["items"]
    assert (drift["project"], drift["state"], drift["trigger"], drift["head_sha"]) == \
        ("clock", "drifted", "apply", restless.head_sha)
    assert (drift["add"], drift["destroy"]) == (1, 1)
    [notice] = receiver.wait_for(1)  # the calm apply sent nothing
    assert notice["event"] == "drifted"
    assert notice["detail"] == f"1 to add, 0 to change, 1 to destroy after the apply of " \
                               f"#{restless.number}"
    assert (notice["drift"]["project"], notice["drift"]["trigger"],
            notice["drift"]["after_apply"], notice["drift"]["pull_number"]) == \
        ("clock", "apply", True, restless.number)


def test_atmos_stack_instances_are_checked_each_with_its_stack_vars(world: World) -> None:
    repo = world.repo(atmos_files(world))
    world.open_pr(repo, {"README.md": "docs\n"})  # the server now serves the repository
    token = world.token("ops", "reviewer")
    status, _ = world.api("POST", "/drift/run", token, {"repo": repo.full_name})
    assert status == 202
    world.settle()
    _, found = world.api("GET", f"/drift?repo={repo.full_name}", token)
    # no state yet: each stack's plan would create its resource; it plans only with
    # its stack's vars (the component declares x and stage without defaults)
    assert [(d["project"], d["dir"], d["workspace"], d["state"], d["add"])
            for d in found["items"]] == [
        ("dev-app", "components/terraform/app", "dev", "drifted", 1),
        ("prod-app", "components/terraform/app", "prod", "drifted", 1)]
