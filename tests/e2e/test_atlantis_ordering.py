"""Atlantis's ordering and merging scenarios, ported (our code, their facts):
workspace-parallel-yaml (projects planned and applied at once), automerge
(the last apply merges the pull request, optionally deleting its branch),
execution order groups with abort_on_execution_order_fail, and depends_on.
Real server, fake forge, real terraform."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from atlantis_py.domain.records import IPRState
from tests.e2e.conftest import World, running_world


@pytest.fixture
def compat(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    forge = getattr(request, "param", "github")
    with running_world(tmp_path, forge, allow_custom_steps=True) as w:
        yield w


def workspace_tf(state: Path, name: str, value: str = "v1") -> str:
    """Atlantis's workspace-parallel-yaml module: a resource and the workspace
    as an output; local state per dir, one file per workspace."""
    return ('terraform {\n'
            f'  backend "local" {{\n    path = "{state}/{name}.tfstate"\n'
            f'    workspace_dir = "{state}/{name}-workspaces"\n  }}\n'
            '}\n\n'
            f'resource "terraform_data" "this" {{\n  input = "{value}"\n}}\n\n'
            'output "workspace" {\n  value = terraform.workspace\n}\n')


def listed(comment: str) -> list[tuple[str, str, str]]:
    """(project, dir, workspace) of the list at the top of a "Ran …" comment."""
    return re.findall(r"^1\. project: `([^`]+)` dir: `([^`]+)` workspace: `([^`]+)`",
                      comment, re.MULTILINE)


def held(world: World, pull: object) -> list[tuple[str, str]]:
    record = world.record(pull)  # type: ignore[arg-type]
    return sorted((lock.dir, lock.workspace)
                  for lock in world.service.services.locks.held_by(record.id))


PARALLEL_YAML = """\
version: 3
parallel_plan: true
parallel_apply: true
projects:
- dir: {production}
  workspace: production
  autoplan:
    when_modified: ["**/*.tf*"]
- dir: {staging}
  workspace: staging
  autoplan:
    when_modified: ["**/*.tf*"]
"""


@pytest.mark.parametrize("same_dir", [False, True], ids=["own-dirs", "one-dir"])
def test_workspace_parallel_yaml(compat: World, same_dir: bool) -> None:
    """Atlantis's workspace-parallel-yaml: two projects with their own workspace,
    planned and applied in parallel; both plans, both applies, the statuses and
    locks, and the comment lists them in the file's order every time. On one
    dir (its workspaces share .terraform) they take turns, with the same result."""
    world = compat
    state = world.state_dir
    prod_dir, stage_dir = (".", ".") if same_dir else ("production", "staging")
    files = {"atlantis.yaml": PARALLEL_YAML.format(production=prod_dir, staging=stage_dir)}
    changes = {}
    for where in {prod_dir, stage_dir}:
        path = "main.tf" if where == "." else f"{where}/main.tf"
        files[path] = workspace_tf(state, where.replace(".", "root"))
        changes[path] = workspace_tf(state, where.replace(".", "root"), "v2")
    repo = world.repo(files)
    pull = world.open_pr(repo, changes)
    [plan] = world.bot_comments(pull)
    expected = [(prod_dir, "production"), (stage_dir, "staging")]
    assert [(d, w) for _, d, w in listed(plan)] == expected
    assert plan.startswith("Ran Plan for 2 projects:")
    first, second = plan.split("### 2. project:")
    assert 'workspace = "production"' in first and 'workspace = "staging"' in second
    assert plan.count("Plan: 1 to add, 0 to change, 0 to destroy.") >= 2
    assert world.statuses(pull)["atlantis/plan"] == ("success", "2/2 projects planned")
    assert held(world, pull) == sorted([(prod_dir, "production"), (stage_dir, "staging")])

    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert [(d, w) for _, d, w in listed(applied)] == expected
    assert applied.count("Apply complete! Resources: 1 added") == 2, applied
    first, second = applied.split("### 2. project:")
    assert 'workspace = "production"' in first and 'workspace = "staging"' in second
    assert world.statuses(pull)["atlantis/apply"] == ("success", "2/2 projects applied")
    assert world.record(pull).state is IPRState.DEPLOYED
    assert held(world, pull) == sorted([(prod_dir, "production"), (stage_dir, "staging")])
    assert "Automerge" not in applied  # automerge is off by default, as in Atlantis


AUTOMERGE_YAML = """\
version: 3
automerge: true
{extra}projects:
- dir: dir1
- dir: dir2
"""


def automerge_repo(world: World, extra: str = "", name: str = "acme/automerge") -> object:
    state = world.state_dir
    return world.repo({"atlantis.yaml": AUTOMERGE_YAML.format(extra=extra),
                       "dir1/main.tf": workspace_tf(state, f"{name}-dir1".replace("/", "-")),
                       "dir2/main.tf": workspace_tf(state, f"{name}-dir2".replace("/", "-"))},
                      name=name)


def change_both(world: World, name: str = "acme/automerge") -> dict[str, str | None]:
    state = world.state_dir
    return {"dir1/main.tf": workspace_tf(state, f"{name}-dir1".replace("/", "-"), "v2"),
            "dir2/main.tf": workspace_tf(state, f"{name}-dir2".replace("/", "-"), "v2")}


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_automerge(compat: World) -> None:
    """Atlantis's automerge repo: applying dir1 leaves the pull request open;
    applying dir2, the last, merges it, and the comment says so. The forge's
    merged event then releases the locks."""
    world = compat
    repo = automerge_repo(world)
    pull = world.open_pr(repo, change_both(world))  # type: ignore[arg-type]
    world.approve(pull, "bob")

    first = world.comment(pull, "alice", "atlantis apply -d dir1")
    assert "Apply complete! Resources: 1 added" in first
    assert "Automerge" not in first and not pull.merged

    last = world.comment(pull, "alice", "atlantis apply -d dir2")
    assert "Apply complete! Resources: 1 added" in last
    assert "**Automerged**: every project of this pull request is applied, so it was " \
           "merged into `main` (`automerge`)." in last
    assert pull.merged
    base = pull.repo.git.rev_parse("refs/heads/main")
    assert pull.repo.git.merge_base(base, pull.head_sha) == pull.head_sha
    assert pull.repo.git.branch_sha("feature") is not None  # not asked to delete it

    status, _ = world.fake.deliver("pull_request",
                                   world.fake.pull_request_payload(pull, "closed"))
    assert status == 202
    world.settle()
    assert held(world, pull) == []


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_automerge_deletes_the_source_branch(compat: World) -> None:
    world = compat
    repo = automerge_repo(world, "delete_source_branch_on_merge: true\n")
    pull = world.open_pr(repo, change_both(world))  # type: ignore[arg-type]
    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert applied.count("Apply complete! Resources: 1 added") == 2
    assert "it was merged into `main`" in applied
    assert "The branch `feature` was deleted (`delete_source_branch_on_merge`)." in applied
    assert pull.merged
    assert pull.repo.git.branch_sha("feature") is None


def test_a_projects_delete_source_branch_on_merge_wins(compat: World) -> None:
    """Project-level delete_source_branch_on_merge: the first project applied
    decides (Atlantis reads the apply's first project), over the file's false."""
    world = compat
    state = world.state_dir
    yaml = ("version: 3\nautomerge: true\ndelete_source_branch_on_merge: false\nprojects:\n"
            "- {dir: dir1, delete_source_branch_on_merge: true}\n- {dir: dir2}\n")
    name = "acme/automerge"
    repo = world.repo({"atlantis.yaml": yaml,
                       "dir1/main.tf": workspace_tf(state, "acme-automerge-dir1"),
                       "dir2/main.tf": workspace_tf(state, "acme-automerge-dir2")}, name=name)
    pull = world.open_pr(repo, change_both(world))
    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert "The branch `feature` was deleted (`delete_source_branch_on_merge`)." in applied
    assert pull.merged and pull.repo.git.branch_sha("feature") is None


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_automerge_refused_by_the_forge_is_said_and_can_be_retried(compat: World) -> None:
    """A pull request the forge will not merge: the apply comment says why and
    what to do; once it is mergeable, `atlantis apply` merges without applying."""
    world = compat
    repo = automerge_repo(world)
    pull = world.open_pr(repo, change_both(world))  # type: ignore[arg-type]
    world.approve(pull, "bob")
    world.fake.set_mergeable(pull, False)
    applied = world.comment(pull, "alice", "atlantis apply")
    assert applied.count("Apply complete! Resources: 1 added") == 2
    assert "**Automerge failed**" in applied and "HTTP 405" in applied
    assert "comment `atlantis apply` to try the merge again" in applied
    assert not pull.merged
    assert world.statuses(pull)["atlantis/apply"] == ("success", "2/2 projects applied")

    world.fake.set_mergeable(pull, True)
    again = world.comment(pull, "alice", "atlantis apply")
    assert "**Automerged**" in again and "Apply complete" not in again
    assert pull.merged


@pytest.mark.parametrize("compat", ["github", "gitlab"], indirect=True)
def test_automerge_waits_out_a_forge_outage(compat: World) -> None:
    """502s on the merge (more than the client's own quick retries): the apply
    comment says the merge is pending, and the job's retry merges (nothing is
    applied twice)."""
    world = compat
    repo = automerge_repo(world)
    pull = world.open_pr(repo, change_both(world))  # type: ignore[arg-type]
    world.approve(pull, "bob")
    world.fake.outage(requests=3, only=["merge"])
    replies = world.comment(pull, "alice", "atlantis apply")
    assert replies.count("Apply complete! Resources: 1 added") == 2
    assert "**Automerge pending**" in replies and "tried again" in replies
    assert "**Automerged**" in replies, replies  # the retry's comment
    assert replies.count("Ran Apply") == 1
    assert pull.merged


ORDER_YAML = """\
version: 3
parallel_apply: true
abort_on_execution_order_fail: true
projects:
- name: net
  dir: net
  execution_order_group: 1
  workflow: breaks-on-apply
- name: dns
  dir: dns
  execution_order_group: 1
- name: app
  dir: app
  execution_order_group: 2
  depends_on: [net]
workflows:
  breaks-on-apply:
    apply:
      steps:
      - run: "false"
      - apply
"""


def test_execution_order_groups_abort_and_depends_on(compat: World) -> None:
    """`app` (group 2) depends on `net` (group 1): applied alone it is refused,
    naming `net`; `atlantis apply` runs group 1, where `net` fails, so group 2
    is not run (abort_on_execution_order_fail) and the comment says why."""
    world = compat
    state = world.state_dir
    files = {"atlantis.yaml": ORDER_YAML,
             **{f"{d}/main.tf": workspace_tf(state, d) for d in ("net", "dns", "app")}}
    repo = world.repo(files)
    pull = world.open_pr(repo, {f"{d}/main.tf": workspace_tf(state, d, "v2")
                                for d in ("net", "dns", "app")})
    [plan] = world.bot_comments(pull)
    assert [p for p, _, _ in listed(plan)] == ["net", "dns", "app"]
    world.approve(pull, "bob")

    refused = world.comment(pull, "alice", "atlantis apply -p app")
    assert "**Not applied**: it depends on `net` (`depends_on`)" in refused
    assert "`atlantis apply -p net`" in refused and "Apply complete" not in refused
    assert world.state_resources("app") == []
    assert world.record(pull).state is IPRState.APPROVED  # nothing started
    assert world.statuses(pull)["atlantis/apply"] == ("failure", "0/1 projects applied")

    applied = world.comment(pull, "alice", "atlantis apply")
    assert [p for p, _, _ in listed(applied)] == ["net", "dns", "app"]
    net, dns, app = applied.split("\n### ")[1:]
    assert "**Apply Error**" in net
    assert "Apply complete! Resources: 1 added" in dns
    assert ("**Not applied**: execution order group 1 failed (`net`) and "
            "`abort_on_execution_order_fail` is set, so later groups did not run.") in app
    assert world.state_resources("dns") == ["this"]
    assert world.state_resources("app") == [] and world.state_resources("net") == []
    assert world.statuses(pull)["atlantis/apply"] == ("failure", "1/3 projects applied")
    assert world.record(pull).state is IPRState.FAILED
    trail = world.service.services.audit.events(world.record(pull).id)
    assert [(e.action, e.project) for e in trail if e.action == "apply:not_run"] \
        == [("apply:not_run", "app")]


DEPENDS_YAML = """\
version: 3
projects:
- name: net
  dir: net
  execution_order_group: 1
  workflow: {net_workflow}
- name: app
  dir: app
  execution_order_group: 2
  depends_on: [net]
- name: web
  dir: web
  execution_order_group: 2
workflows:
  breaks-on-apply:
    apply:
      steps:
      - run: "false"
      - apply
"""


@pytest.mark.parametrize("net_breaks", [False, True], ids=["net-applies", "net-fails"])
def test_depends_on_within_one_apply(compat: World, net_breaks: bool) -> None:
    """`app` depends on `net` from a lower group: one `atlantis apply` applies
    `net`, then `app`. When `net` fails (and nothing aborts), `app` is not
    applied, naming `net`, while `web` in the same group is."""
    world = compat
    state = world.state_dir
    yaml = DEPENDS_YAML.format(net_workflow="breaks-on-apply" if net_breaks else "default")
    dirs = ("net", "app", "web")
    repo = world.repo({"atlantis.yaml": yaml,
                       **{f"{d}/main.tf": workspace_tf(state, d) for d in dirs}})
    pull = world.open_pr(repo, {f"{d}/main.tf": workspace_tf(state, d, "v2") for d in dirs})
    world.approve(pull, "bob")
    applied = world.comment(pull, "alice", "atlantis apply")
    assert [p for p, _, _ in listed(applied)] == ["net", "app", "web"]
    net, app, web = applied.split("\n### ")[1:]
    assert "Apply complete! Resources: 1 added" in web
    if not net_breaks:
        assert "Apply complete! Resources: 1 added" in net and "Apply complete" in app
        assert world.state_resources("app") == ["this"]
        assert world.statuses(pull)["atlantis/apply"] == ("success", "3/3 projects applied")
        return
    assert "**Apply Error**" in net
    assert ("**Not applied**: it depends on `net` (`depends_on`), which did not apply "
            "successfully in this apply.") in app
    assert world.state_resources("app") == []
    assert world.statuses(pull)["atlantis/apply"] == ("failure", "1/3 projects applied")
