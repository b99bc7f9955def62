"""Everything a flow needs, wired once in app.py and handed to the operations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from atlantis_py import logs
from atlantis_py.core.approvals import PolicyLimits
from atlantis_py.core.config.load import config_text, rules_config
from atlantis_py.core.config.repo_policy import RepoPolicies
from atlantis_py.core.config.schema import REPO_CONFIG_FILE
from atlantis_py.core.ipr import IPRMachine
from atlantis_py.core.ports import Audit, DriftRecords, Locks, PolicyRecords, Pulls, Reviews
from atlantis_py.domain.commands import CommandPolicy
from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.policies import PolicySets
from atlantis_py.domain.projects import Project, RepoConfig
from atlantis_py.domain.results import ProjectResult
from atlantis_py.domain.server_config import RepoPolicy
from atlantis_py.errors import RepoConfigError, WorkspaceError
from atlantis_py.flows.notify import Announcer
from atlantis_py.forges.base import Forge, WebhookVerifier
from atlantis_py.report.render import Renderer
from atlantis_py.report.split import split_comment
from atlantis_py.runner.credentials import CredentialError, Credentials
from atlantis_py.runner.plans import SavedPlans
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.versions import Binaries, VersionUnavailable, required_version
from atlantis_py.runner.workflow import PolicyCheck
from atlantis_py.runner.workspace import Workspaces

log = logging.getLogger(__name__)


class CredentialsUnavailable(CredentialError):
    """Said on the pull request; the details (file, line, path) go to the log."""


@dataclass(frozen=True)
class Services:
    """`rules_branch` is where environments are read (the repository's default
    branch when empty), and `apply_base_branches` the globs of the base
    branches a pull request may be applied into: together they keep a pull
    request from choosing its own rules through a base branch it made."""

    forges: Mapping[str, Forge]
    verifiers: Mapping[str, WebhookVerifier]
    workspaces: Workspaces
    plans: SavedPlans
    terraform: Terraform
    pulls: Pulls
    locks: Locks
    reviews: Reviews
    audit: Audit
    ipr: IPRMachine
    renderer: Renderer
    pool: ThreadPoolExecutor
    bot_users: Mapping[str, str]
    allow_custom_steps: bool
    repo_allowed: Callable[[str], bool]
    limits: PolicyLimits = field(default_factory=PolicyLimits)
    announcer: Announcer | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    rules_branch: str = ""
    apply_base_branches: tuple[str, ...] = ("*",)
    credentials: Credentials = field(default_factory=Credentials)
    secrets: logs.Secrets = field(default_factory=lambda: logs.SECRETS)
    repo_policies: RepoPolicies = field(default_factory=RepoPolicies)

    def policy_of(self, forge: str, full_name: str) -> RepoPolicy | None:
        """What the server-side repo config (repos.yaml) says for this repository;
        None without one."""
        return self.repo_policies.for_repo(forge, full_name)
    # --policies: the sets, their check of a plan's JSON, and the verdicts' store
    policy_sets: PolicySets | None = None
    policy_check: PolicyCheck | None = None
    policy_records: PolicyRecords | None = None
    commands: CommandPolicy = field(default_factory=CommandPolicy)
    drift: DriftRecords | None = None  # where post-apply plans that are not empty go
    binaries: Binaries | None = None
    other_binaries: Mapping[str, Binaries] = field(default_factory=dict)

    def say(self, forge: str, repo: str, number: int, body: str) -> None:
        """Post a comment, split into numbered parts above the forge's size limit.
        Known secrets are masked: an error message may quote one."""
        target = self.forges[forge]
        for part in split_comment(self.secrets.mask(body), target.comment_limit):
            target.post_comment(repo, number, part)

    def rules_branch_of(self, repo: Repo) -> str:
        """The branch whose workflows.yaml holds `repo`'s rules, whatever a pull
        request's base: --rules-branch, else the default branch (asked each time,
        so a renamed default branch is followed)."""
        return self.rules_branch or self.forges[repo.forge].default_branch(repo.full_name)

    def masked(self, result: ProjectResult) -> ProjectResult:
        """A result fit to store and show: terraform or a `run` step may have
        printed a credential."""
        return replace(result, output=self.secrets.mask(result.output),
                       error=None if result.error is None else self.secrets.mask(result.error),
                       changes=tuple(replace(c, address=self.secrets.mask(c.address))
                                     for c in result.changes))

    def terraform_for(self, project: Project, folder: Path | None = None) -> Terraform:
        """Terraform with the binary of the project's terraform_version, else
        of the `required_version` in its code (`folder`), else the server's
        default; VersionUnavailable says on the pull request which project
        asked for what, and what to do."""
        binaries = self.binaries
        if binaries is None:
            return self.terraform
        wanted = project.terraform_distribution
        if wanted is not None and wanted != binaries.dist.name:
            if wanted not in self.other_binaries:
                raise VersionUnavailable(f"project {project.name} asks for "
                                         f"terraform_distribution {wanted}, which this server "
                                         "does not run")
            binaries = self.other_binaries[wanted]
        asked, source = project.terraform_version, "terraform_version"
        if asked is None and folder is not None:
            asked, source = required_version(folder), "required_version in its code"
        try:
            found = binaries.resolve(asked, detected=project.terraform_version is None)
            return self.terraform.using(found.path, str(found.version or ""))
        except VersionUnavailable as err:
            if asked is None:
                asked, source = binaries.default_version, "the server's --default-tf-version"
            binary = binaries.dist.binary
            raise VersionUnavailable(
                f"project {project.name} asks for {binary} {asked} ({source}), which this "
                f"server cannot run: {err}. To plan it, set terraform_version to an "
                f"available version, or ask the server's administrator to put "
                f"{binary}VERSION in --tf-bin-dir or to turn on --tf-download.") from None

    def terraform_env(self, environment: str) -> dict[str, str]:
        """The credentials of the projects judged by `environment`, read now."""
        try:
            return self.credentials.env_for(environment)
        except CredentialError as err:
            log.error("credentials for environment %s: %s", environment, err)
            raise CredentialsUnavailable(
                f"the server's credentials for environment {environment} could not be "
                "read; its administrator finds why in the server's log") from None

    def config_text(self, repo: Repo, branch: str) -> str:
        """workflows.yaml (or atlantis.yaml, or repos.yaml's repo_config_file) on
        `branch` in the mirror, as text ("" when it has none). A branch the
        mirror lacks is a RepoConfigError naming it."""
        try:
            return config_text(lambda name: self.workspaces.read_file(repo, branch, name),
                               f" (branch {branch})", self.policy_of(repo.forge, repo.full_name))
        except WorkspaceError as err:
            raise RepoConfigError(f"{REPO_CONFIG_FILE} (branch {branch})", None, "(branch)",
                                  f"cannot read branch `{branch}` of {repo.full_name}: {err}"
                                  ) from err

    def rules(self, pull: PullRequest) -> RepoConfig:
        """The rules branch's workflows.yaml; fetch the mirror first."""
        branch = self.rules_branch_of(pull.repo)
        return rules_config(self.config_text(pull.repo, branch), branch,
                            self.policy_of(pull.repo.forge, pull.repo.full_name))
