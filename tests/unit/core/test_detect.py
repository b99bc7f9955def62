"""Affected projects: changed files on a real (small) checkout → projects to plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from atlantis_py.core.detect import affected_projects
from atlantis_py.core.detect.dirs import default_project_name
from atlantis_py.core.detect.globs import glob_match, in_file_list
from atlantis_py.core.detect.modules import ModuleGraph, local_sources, tf_dirs
from atlantis_py.domain.projects import Project, RepoConfig

RESOURCE = 'resource "null_resource" "x" {}\n'


def module(source: str) -> str:
    return f'module "m" {{\n  source = "{source}"\n}}\n'


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# A repo with two environments sharing a module chain, and an unrelated root.
#   envs/prod, envs/staging → modules/app → modules/network
#   other: stands alone; modules/unused: sourced by nobody
REPO = {
    "README.md": "# infra\n",
    "envs/prod/main.tf": module("../../modules/app"),
    "envs/prod/prod.tfvars": 'size = "big"\n',
    "envs/staging/main.tf": module("../../modules/app") + RESOURCE,
    "modules/app/main.tf": module("../network") + RESOURCE,
    "modules/app/README.md": "docs\n",
    "modules/network/main.tf": RESOURCE,
    "modules/network/outputs.tf": "",
    "other/main.tf": RESOURCE,
    "other/docs/notes.md": "x\n",
    "other/.terraform/modules/cached/main.tf": module("../../../../envs/prod"),
    "modules/unused/main.tf": RESOURCE,
    "remote/main.tf": module("git::https://example.invalid/mod.git")
                      + module("terraform-aws-modules/vpc/aws"),
}

NO_CONFIG = [
    pytest.param(["other/main.tf"], ["other"], id="one-root-changed"),
    pytest.param(["envs/prod/prod.tfvars"], ["envs/prod"], id="tfvars-change"),
    pytest.param(["envs/prod/main.tf", "other/main.tf"], ["envs/prod", "other"],
                 id="two-roots-sorted"),
    pytest.param(["modules/app/main.tf"], ["envs/prod", "envs/staging"],
                 id="shared-module-affects-both-roots-not-itself"),
    pytest.param(["modules/network/outputs.tf"], ["envs/prod", "envs/staging"],
                 id="transitive-module-chain"),
    pytest.param(["modules/network/main.tf", "modules/app/main.tf", "envs/prod/main.tf"],
                 ["envs/prod", "envs/staging"], id="root-and-its-modules-counted-once"),
    pytest.param(["other/.terraform.lock.hcl"], ["other"], id="lock-file-alone"),
    pytest.param(["other/terragrunt.hcl"], ["other"], id="terragrunt-hcl-alone"),
    pytest.param(["modules/app/.terraform.lock.hcl"], ["envs/prod", "envs/staging"],
                 id="module-lock-file-affects-roots"),
    pytest.param(["README.md"], [], id="readme-at-root"),
    pytest.param(["modules/app/README.md"], [], id="readme-in-module"),
    pytest.param(["other/docs/notes.md"], [], id="non-tf-in-subdir"),
    pytest.param([], [], id="nothing-changed"),
    pytest.param(["modules/unused/main.tf"], ["modules/unused"],
                 id="unsourced-module-dir-is-its-own-root"),
    pytest.param(["gone/main.tf"], [], id="deleted-dir-is-no-project"),
    pytest.param(["other/.terraform/modules/cached/main.tf"], [],
                 id="dot-terraform-ignored"),
    pytest.param(["remote/main.tf"], ["remote"], id="remote-sources-are-not-local-modules"),
]


@pytest.mark.parametrize("changed, expected_dirs", NO_CONFIG)
def test_without_config_changed_tf_dirs_are_projects(tmp_path: Path, changed: list[str],
                                                     expected_dirs: list[str]) -> None:
    root = write(tmp_path, REPO)
    got = affected_projects(RepoConfig(), changed, root)
    assert [p.dir for p in got] == expected_dirs
    assert [p.name for p in got] == [default_project_name(d) for d in expected_dirs]
    assert all(p.workspace == "default" for p in got)


def test_dot_terraform_sources_do_not_hide_a_root(tmp_path: Path) -> None:
    """A cached module under .terraform sources envs/prod; envs/prod is still a root."""
    root = write(tmp_path, REPO)
    got = affected_projects(RepoConfig(), ["envs/prod/main.tf"], root)
    assert [p.dir for p in got] == ["envs/prod"]


@pytest.mark.parametrize("files, changed, expected", [
    pytest.param({"main.tf": RESOURCE}, ["main.tf"], [Project("root", ".")],
                 id="repo-root-project"),
    pytest.param({"main.tf": module("./modules/x"), "modules/x/main.tf": RESOURCE},
                 ["modules/x/main.tf"], [Project("root", ".")], id="repo-root-sources-module"),
    pytest.param({"main.tf": RESOURCE, "app/main.tf": RESOURCE}, ["app/main.tf"],
                 [Project("app", "app")], id="subdir-change-not-root"),
    pytest.param({"a/main.tf": module("../b"), "b/main.tf": module("../a")},
                 ["a/main.tf"], [], id="module-cycle-terminates"),
    pytest.param({"app/main.tf": module("../../../outside")}, ["app/main.tf"],
                 [Project("app", "app")], id="source-outside-repo-ignored"),
    pytest.param({"app/main.tf": module("../modules/x/"), "modules/x/main.tf": RESOURCE},
                 ["modules/x/main.tf"], [Project("app", "app")], id="trailing-slash-source"),
])
def test_without_config_small_repos(tmp_path: Path, files: dict[str, str], changed: list[str],
                                    expected: list[Project]) -> None:
    root = write(tmp_path, files)
    assert affected_projects(RepoConfig(), changed, root) == expected


@pytest.mark.parametrize("dir, workspace, name", [
    pytest.param(".", "default", "root", id="root"),
    pytest.param("app", "default", "app", id="top-level"),
    pytest.param("envs/prod", "default", "envs_prod", id="nested"),
    pytest.param("app", "staging", "app-staging", id="workspace"),
    pytest.param(".", "staging", "root-staging", id="root-workspace"),
])
def test_default_project_name(dir: str, workspace: str, name: str) -> None:
    assert default_project_name(dir, workspace) == name


def test_module_graph(tmp_path: Path) -> None:
    root = write(tmp_path, REPO)
    assert tf_dirs(root) == {"envs/prod", "envs/staging", "modules/app", "modules/network",
                             "modules/unused", "other", "remote"}
    assert local_sources(root, "envs/prod") == {"modules/app"}
    assert local_sources(root, "remote") == set()
    graph = ModuleGraph(root, tf_dirs(root))
    assert graph.closure("envs/prod") == {"modules/app", "modules/network"}
    assert graph.is_sourced("modules/network")
    assert not graph.is_sourced("envs/prod")


EXPLICIT_REPO = {
    "main.tf": RESOURCE,
    "app/main.tf": module("../modules/db") + RESOURCE,
    "app/sub/deep/x.tf": RESOURCE,
    "app/README.md": "x\n",
    "app2/main.tf": RESOURCE,
    "net/main.tf": RESOURCE,
    "modules/db/main.tf": RESOURCE,
    "modules/vpc/main.tf": RESOURCE,
    "modules/vpc/nested/sg.tf": RESOURCE,
    "modules/vpc/README.md": "x\n",
    "other/main.tf": RESOURCE,
}


def config(*projects: Project) -> RepoConfig:
    return RepoConfig(projects=projects, explicit=True)


APP = Project("app", "app")
APP_DEEP = Project("app", "app", when_modified=("**/*.tf",))
APP_VPC = Project("app", "app", when_modified=("*.tf", "../modules/**/*.tf"))
NET = Project("net", "net")
APP2 = Project("app2", "app2")
ROOT = Project("root", ".")
ROOT_DEEP = Project("root", ".", when_modified=("**/*.tf",))
MANUAL = Project("app", "app", autoplan=False)
STAGING = Project("app-staging", "app", workspace="staging")

EXPLICIT = [
    pytest.param(config(APP, NET), ["app/main.tf"], [APP], id="touched-project"),
    pytest.param(config(NET, APP), ["app/main.tf", "net/main.tf"], [NET, APP],
                 id="config-order-kept"),
    pytest.param(config(APP, STAGING), ["app/main.tf"], [APP, STAGING],
                 id="both-workspaces-of-a-dir"),
    pytest.param(config(APP, NET), ["app/README.md"], [], id="non-tf-change"),
    pytest.param(config(APP, NET), ["other/main.tf"], [], id="unconfigured-dir-ignored"),
    # Atlantis's default when_modified: **/*.tf*, **/terragrunt.hcl, **/.terraform.lock.hcl
    pytest.param(config(APP), ["app/sub/deep/x.tf"], [APP], id="default-spans-subdirs"),
    pytest.param(config(APP, NET), ["app/.terraform.lock.hcl"], [APP],
                 id="default-lock-file-alone"),
    pytest.param(config(APP, NET), ["net/terragrunt.hcl"], [NET], id="default-terragrunt-hcl"),
    pytest.param(config(APP), ["app/other.hcl"], [], id="default-other-hcl-ignored"),
    pytest.param(config(APP_DEEP), ["app/sub/deep/x.tf"], [APP_DEEP],
                 id="double-star-spans-subdirs"),
    pytest.param(config(APP_DEEP), ["app/main.tf"], [APP_DEEP],
                 id="double-star-matches-top-level"),
    pytest.param(config(APP_DEEP), ["app/README.md"], [], id="double-star-still-filters"),
    pytest.param(config(APP_VPC), ["modules/vpc/main.tf"], [APP_VPC],
                 id="dotdot-modules-pattern"),
    pytest.param(config(APP_VPC), ["modules/vpc/nested/sg.tf"], [APP_VPC],
                 id="dotdot-modules-pattern-nested"),
    pytest.param(config(APP_VPC), ["modules/vpc/README.md"], [], id="dotdot-pattern-non-tf"),
    pytest.param(config(APP), ["modules/vpc/main.tf"], [], id="unused-module-no-pattern"),
    pytest.param(config(APP, NET), ["modules/db/main.tf"], [APP],
                 id="sourced-module-affects-project"),
    pytest.param(config(MANUAL, NET), ["app/main.tf", "net/main.tf"], [NET],
                 id="autoplan-disabled-excluded"),
    pytest.param(config(MANUAL), ["modules/db/main.tf"], [],
                 id="autoplan-disabled-module-change"),
    pytest.param(config(APP, APP2), ["app2/main.tf"], [APP2], id="dir-name-prefix-not-inside"),
    pytest.param(config(ROOT, APP), ["main.tf"], [ROOT], id="root-dir"),
    pytest.param(config(ROOT, APP), ["app/main.tf"], [ROOT, APP], id="root-default-sees-subdirs"),
    pytest.param(config(ROOT_DEEP, APP), ["app/main.tf"], [ROOT_DEEP, APP],
                 id="root-double-star-sees-everything"),
]


@pytest.mark.parametrize("cfg, changed, expected", EXPLICIT)
def test_with_config(tmp_path: Path, cfg: RepoConfig, changed: list[str],
                     expected: list[Project]) -> None:
    root = write(tmp_path, EXPLICIT_REPO)
    assert affected_projects(cfg, changed, root) == expected


def test_double_star_does_not_reach_outside_project(tmp_path: Path) -> None:
    root = write(tmp_path, EXPLICIT_REPO)
    assert affected_projects(config(APP_DEEP), ["other/main.tf"], root) == []


GLOBS = [
    # *
    pytest.param("*.tf", "main.tf", True, id="star-file"),
    pytest.param("*.tf", "sub/main.tf", False, id="star-does-not-cross-slash"),
    pytest.param("*.tf*", "vars.tfvars", True, id="star-suffix"),
    pytest.param("*.tf", "main.tfvars", False, id="anchored-at-end"),
    pytest.param("*.tf", "xmain.tf.bak", False, id="anchored-end-2"),
    pytest.param("main.tf", "sub/main.tf", False, id="anchored-at-start"),
    pytest.param("*", "", True, id="star-empty"),
    pytest.param("a/*/c.tf", "a/b/c.tf", True, id="star-one-segment"),
    pytest.param("a/*/c.tf", "a/b/x/c.tf", False, id="star-only-one-segment"),
    # **
    pytest.param("**/*.tf", "main.tf", True, id="dstar-slash-zero-dirs"),
    pytest.param("**/*.tf", "a/b/c/main.tf", True, id="dstar-slash-many-dirs"),
    pytest.param("**/*.tf", "a/b/c/main.md", False, id="dstar-slash-still-filters"),
    pytest.param("a/**/c.tf", "a/c.tf", True, id="dstar-middle-zero"),
    pytest.param("a/**/c.tf", "a/x/y/c.tf", True, id="dstar-middle-many"),
    pytest.param("a/**/c.tf", "b/x/c.tf", False, id="dstar-middle-wrong-prefix"),
    pytest.param("modules/**", "modules/a/b.tf", True, id="dstar-trailing"),
    pytest.param("modules/**", "other/a.tf", False, id="dstar-trailing-wrong-prefix"),
    pytest.param("../modules/**/*.tf", "../modules/x/main.tf", True, id="dotdot-modules"),
    pytest.param("../modules/**/*.tf", "../modules/main.tf", True, id="dotdot-modules-top"),
    pytest.param("../modules/**/*.tf", "modules/x/main.tf", False, id="dotdot-required"),
    # ?
    pytest.param("?.tf", "a.tf", True, id="qmark-one-char"),
    pytest.param("?.tf", "ab.tf", False, id="qmark-exactly-one"),
    pytest.param("a?b", "a/b", False, id="qmark-not-slash"),
    # literal characters are literal
    pytest.param("a.tf", "aXtf", False, id="dot-is-literal"),
    pytest.param("[ab].tf", "a.tf", False, id="brackets-are-literal"),
    pytest.param("[ab].tf", "[ab].tf", True, id="brackets-match-themselves"),
    pytest.param("a+b.tf", "a+b.tf", True, id="plus-is-literal"),
]


@pytest.mark.parametrize("pattern, path, matches", GLOBS)
def test_glob_match(pattern: str, path: str, matches: bool) -> None:
    assert glob_match(pattern, path) is matches


@pytest.mark.parametrize(("patterns", "path", "listed"), [
    (("**/*.tf",), "main.tf", True),
    (("**/*.tf",), "a/b/main.tf", True),
    (("**/*.tf",), "a/b/main.tfvars", False),
    (("**/*.tf", "!legacy"), "legacy/main.tf", False),  # a dir excludes what it holds
    (("**/*.tf", "!legacy"), "app/legacy.tf", True),
    (("!legacy", "**/*.tf"), "legacy/main.tf", True),  # the last match decides
    (("project1",), "project1/deep/file.yml", True),
    (("project1/**/*.yml",), "project1/a/b.yml", True),
    (("./project1/*.pkr.hcl",), "project1/x.pkr.hcl", True),
    (("**/*.tf",), "terraform.tfstate", False),
    ((), "main.tf", False),
])
def test_file_list_reads_like_dockerignore(patterns: tuple[str, ...], path: str,
                                           listed: bool) -> None:
    assert in_file_list(patterns, path) is listed


def test_autoplan_file_list_decides_directories_without_config(tmp_path: Path) -> None:
    """--autoplan-file-list: the default plans a provider lock or tofu change, a
    custom list plans what it names and nothing else; projects a config file
    lists still go by their own when_modified."""
    root = write(tmp_path, {"app/main.tf": RESOURCE, "db/main.tf": RESOURCE,
                            "legacy/main.tf": RESOURCE})
    changed = ["app/.terraform.lock.hcl", "db/extra.tofu", "legacy/main.tf"]
    dirs = [p.dir for p in affected_projects(RepoConfig(), changed, root)]
    assert dirs == ["app", "db", "legacy"]
    custom = ("**/*.tf", "**/*.yml", "!legacy")
    assert [p.dir for p in affected_projects(RepoConfig(), changed, root, custom)] == []
    assert [p.dir for p in affected_projects(
        RepoConfig(), ["app/settings.yml", "legacy/main.tf"], root, custom)] == ["app"]
    listed = RepoConfig(projects=(Project(name="legacy", dir="legacy"),), explicit=True)
    assert [p.dir for p in affected_projects(listed, ["legacy/main.tf"], root, custom)] \
        == ["legacy"]
