"""Real git repositories and real terraform in temporary directories."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import git
import pytest

from atlantis_py.domain.events import Repo
from atlantis_py.domain.projects import Step, Workflow
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.workspace import Workspaces

AUTHOR = git.Actor("Test Author", "author@example.com")
TF_DATA = 'resource "terraform_data" "x" {{ input = "{value}" }}\n'
BACKEND = 'terraform {\n  backend "local" {}\n}\n'


@dataclass
class Origin:
    """A repository standing in for the forge's copy; its path is the clone URL."""

    path: Path
    repo: git.Repo

    @property
    def ref(self) -> Repo:
        return Repo(forge="github", full_name="acme/infra", clone_url=str(self.path))

    def commit(self, files: Mapping[str, str | None], branch: str = "main") -> str:
        """Commit on `branch` (created from main when new); None deletes a file."""
        if self.repo.heads:
            if branch not in self.repo.heads:
                self.repo.create_head(branch, self.repo.heads.main.commit)
            self.repo.heads[branch].checkout()
        for name, content in files.items():
            target = self.path / name
            if content is None:
                self.repo.index.remove([name], working_tree=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            self.repo.index.add([name])
        commit = self.repo.index.commit(f"change {sorted(files)}", author=AUTHOR, committer=AUTHOR)
        self.repo.heads.main.checkout()
        return commit.hexsha


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    path = tmp_path / "origin"
    repo = git.Repo.init(path, initial_branch="main")
    result = Origin(path, repo)
    result.commit({"README.md": "hello\n"})
    return result


@pytest.fixture
def workspaces(tmp_path: Path) -> Workspaces:
    return Workspaces(tmp_path / "data", git_timeout=60)


@pytest.fixture(scope="session")
def tf() -> Terraform:
    return Terraform(timeout=120)


def local_backend_workflow(state_dir: Path, *plan_steps: Step) -> Workflow:
    """init with a local backend whose state lives outside the worktree."""
    init = Step(
        "init",
        extra_args=(
            f"-backend-config=path={state_dir / 'terraform.tfstate'}",
            f"-backend-config=workspace_dir={state_dir / 'workspaces'}",
        ),
    )
    steps = plan_steps or (Step("validate"), Step("plan"))
    return Workflow(name="local", plan=(init, *steps), apply=(Step("apply"),))
