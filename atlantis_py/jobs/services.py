"""Everything a job needs, wired once in app.py and handed to the handlers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from atlantis_py.core.ipr import IPRMachine
from atlantis_py.core.policy import PolicyLimits
from atlantis_py.core.ports import Audit, Locks, Pulls, Reviews
from atlantis_py.forges.base import Forge, WebhookVerifier
from atlantis_py.jobs.notify import Announcer
from atlantis_py.report.render import Renderer
from atlantis_py.runner.terraform import Terraform
from atlantis_py.runner.workspace import Workspaces


@dataclass(frozen=True)
class Services:
    forges: Mapping[str, Forge]
    verifiers: Mapping[str, WebhookVerifier]
    workspaces: Workspaces
    terraform: Terraform
    pulls: Pulls
    locks: Locks
    reviews: Reviews
    audit: Audit
    ipr: IPRMachine
    renderer: Renderer
    pool: ThreadPoolExecutor
    plans_dir: Path
    bot_users: Mapping[str, str]
    allow_custom_steps: bool
    repo_allowed: Callable[[str], bool]
    limits: PolicyLimits = field(default_factory=PolicyLimits)
    announcer: Announcer | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def plan_file(self, forge: str, repo: str, number: int, sha: str, dir: str,
                  workspace: str) -> Path:
        """Saved plans live outside the worktree, keyed by head SHA, so a plan made
        for one commit can never be mistaken for another's."""
        key = hashlib.sha256(f"{dir}\0{workspace}".encode()).hexdigest()[:16]
        return self.plans_dir / forge / repo / str(number) / sha / f"{key}.tfplan"
