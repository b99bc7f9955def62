"""Everything a flow needs, wired once in app.py and handed to the operations."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from atlantis_py import logs
from atlantis_py.core.approvals import PolicyLimits
from atlantis_py.core.config.load import base_config
from atlantis_py.core.config.schema import REPO_CONFIG_FILE
from atlantis_py.core.ipr import IPRMachine
from atlantis_py.core.ports import Audit, Locks, Pulls, Reviews
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.projects import RepoConfig
from atlantis_py.domain.results import ProjectResult
from atlantis_py.flows.notify import Announcer
from atlantis_py.forges.base import Forge, WebhookVerifier
from atlantis_py.report.render import Renderer
from atlantis_py.report.split import split_comment
from atlantis_py.runner.credentials import CredentialError, Credentials
from atlantis_py.runner.plans import SavedPlans
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.workspace import Workspaces

log = logging.getLogger(__name__)


class CredentialsUnavailable(CredentialError):
    """Said on the pull request; the details (file, line, path) go to the log."""


@dataclass(frozen=True)
class Services:
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
    credentials: Credentials = field(default_factory=Credentials)
    secrets: logs.Secrets = field(default_factory=lambda: logs.SECRETS)

    def say(self, forge: str, repo: str, number: int, body: str) -> None:
        """Post a comment, split into numbered parts above the forge's size limit.
        Known secrets are masked: an error message may quote one."""
        target = self.forges[forge]
        for part in split_comment(self.secrets.mask(body), target.comment_limit):
            target.post_comment(repo, number, part)

    def masked(self, result: ProjectResult) -> ProjectResult:
        """A result fit to store and show: terraform or a `run` step may have
        printed a credential."""
        return replace(result, output=self.secrets.mask(result.output),
                       error=None if result.error is None else self.secrets.mask(result.error))

    def terraform_env(self, environment: str) -> dict[str, str]:
        """The credentials of the projects judged by `environment`, read now."""
        try:
            return self.credentials.env_for(environment)
        except CredentialError as err:
            log.error("credentials for environment %s: %s", environment, err)
            raise CredentialsUnavailable(
                f"the server's credentials for environment {environment} could not be "
                "read; its administrator finds why in the server's log") from None

    def base_config_text(self, pull: PullRequest) -> str:
        """The base branch's workflows.yaml, as text ("" when it has none)."""
        return self.workspaces.read_file(pull.repo, pull.base_ref, REPO_CONFIG_FILE) or ""

    def base_config(self, pull: PullRequest) -> RepoConfig:
        return base_config(self.base_config_text(pull), pull.base_ref)
