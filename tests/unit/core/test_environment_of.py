"""Which environment's rules judge a project: the rules branch decides."""

from __future__ import annotations

import pytest

from atlantis_py.core.selection import environment_of
from atlantis_py.domain.projects import Environment, Project, RepoConfig

APP = Project(name="prod-app", dir="components/terraform/app", workspace="prod",
              component="app", stack="prod")
PLAIN = Project(name="network", dir="network")


def config(projects: tuple[Project, ...] = (), **stacks: tuple[str, ...]) -> RepoConfig:
    envs = {name: Environment(name, stacks=globs) for name, globs in stacks.items()}
    return RepoConfig(projects=projects, environments=envs, explicit=True)


def entry(project: Project, environment: str) -> Project:
    return Project(name=project.name, dir=project.dir, workspace=project.workspace,
                   environment=environment)


@pytest.mark.parametrize(("project", "head", "base", "expected"), [
    pytest.param(PLAIN, config(), config(), "default", id="nothing-configured"),
    pytest.param(PLAIN, config((entry(PLAIN, "dev"),)), config(), "dev",
                 id="new-project-uses-the-pr-entry"),
    pytest.param(PLAIN, config((entry(PLAIN, "dev"),)), config((entry(PLAIN, "prod"),)),
                 "prod", id="base-entry-wins-over-pr-entry"),
    pytest.param(APP, config(), config(production=("prod", "prod-*"), dev=("*",)),
                 "production", id="first-matching-stack-glob"),
    pytest.param(APP, config((entry(APP, "dev"),)), config(production=("prod",)),
                 "production", id="pr-entry-cannot-move-a-base-matched-stack"),
    pytest.param(APP, config(), config((entry(APP, "special"),), production=("prod",)),
                 "special", id="base-entry-wins-over-stack-globs"),
    pytest.param(APP, config(), config(dev=("dev", "test-*")), "default",
                 id="no-glob-matches"),
    pytest.param(PLAIN, config(), config(everything=("*",)), "default",
                 id="stack-globs-only-apply-to-atmos-projects"),
    pytest.param(APP, config(production=("prod",)), config(), "default",
                 id="globs-from-the-pr-are-ignored"),
])
def test_environment_of(project: Project, head: RepoConfig, base: RepoConfig,
                        expected: str) -> None:
    assert environment_of(project, head, base) == expected
