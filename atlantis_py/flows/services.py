"""Everything a flow needs, wired once in app.py and handed to the operations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from atlantis_py.core.approvals import PolicyLimits
from atlantis_py.core.config.load import base_config
from atlantis_py.core.config.schema import REPO_CONFIG_FILE
from atlantis_py.core.ipr import IPRMachine
from atlantis_py.core.ports import Audit, Locks, Pulls, Reviews
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.projects import RepoConfig
from atlantis_py.flows.notify import Announcer
from atlantis_py.forges.base import Forge, WebhookVerifier
from atlantis_py.report.render import Renderer
from atlantis_py.report.split import split_comment
from atlantis_py.runner.plans import SavedPlans
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.workspace import Workspaces


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

    def say(self, forge: str, repo: str, number: int, body: str) -> None:
        """Post a comment, split into numbered parts above the forge's size limit."""
        target = self.forges[forge]
        for part in split_comment(body, target.comment_limit):
            target.post_comment(repo, number, part)

    def base_config_text(self, pull: PullRequest) -> str:
        """The base branch's workflows.yaml, as text ("" when it has none)."""
        return self.workspaces.read_file(pull.repo, pull.base_ref, REPO_CONFIG_FILE) or ""

    def base_config(self, pull: PullRequest) -> RepoConfig:
        return base_config(self.base_config_text(pull), pull.base_ref)
