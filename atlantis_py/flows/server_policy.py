"""What repos.yaml asks of a plan or an apply beyond the repository's own
config: only pull requests into its `branch` are served, and its pre and
post workflow hooks run around the command.

Never silent: a pull request into another branch is told so once (at its
first autoplan; again each time someone comments a command), and a failing
hook's name, exit code and output (its end) are posted. A successful hook's
output goes to the server's log only, as Atlantis keeps it off the pull
request too."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from atlantis_py.core.config.repo_policy import branch_served
from atlantis_py.domain.commands import Command
from atlantis_py.domain.events import PullRequest
from atlantis_py.domain.records import PullRecord
from atlantis_py.domain.server_config import Hook, RepoPolicy
from atlantis_py.flows.services import Services
from atlantis_py.runner.hooks import comment_args, run_hooks, tail

log = logging.getLogger(__name__)

NOT_SERVED = "branch:not-served"


def refuse_branch(svc: Services, pull: PullRequest, record: PullRecord,
                  policy: RepoPolicy | None, actor: str, command: Command | None,
                  what: str) -> bool:
    """True (and said on the pull request unless an autoplan said it before)
    when repos.yaml's `branch` does not take pull requests into its base."""
    if policy is None or branch_served(policy, pull.base_ref):
        return False
    log.info("%s#%d targets %s, outside repos.yaml's branch /%s/: not %s",
             pull.repo.full_name, pull.number, pull.base_ref, policy.branch, what)
    told = any(e.action == NOT_SERVED for e in svc.audit.events(record.id))
    if command is not None or not told:
        svc.say(pull.repo.forge, pull.repo.full_name, pull.number,
                svc.renderer.branch_not_served(base=pull.base_ref,
                                               pattern=policy.branch or "", what=what))
    svc.ipr.note(record, actor, NOT_SERVED, detail=f"{pull.base_ref} !~ /{policy.branch}/")
    return True


def hook_values(pull: PullRequest, actor: str, name: str, command: Command | None,
                tree: Path) -> dict[str, str]:
    """Atlantis's hook variables. A pull request's head is in the base repository
    here (fork pull requests are not served), so HEAD_REPO_* are the base's."""
    owner, _, repo_name = pull.repo.full_name.rpartition("/")
    return {
        "BASE_REPO_NAME": repo_name, "BASE_REPO_OWNER": owner,
        "HEAD_REPO_NAME": repo_name, "HEAD_REPO_OWNER": owner,
        "HEAD_BRANCH_NAME": pull.head_ref, "HEAD_COMMIT": pull.head_sha,
        "BASE_BRANCH_NAME": pull.base_ref, "PULL_NUM": str(pull.number),
        "PULL_URL": pull.url, "PULL_AUTHOR": pull.author, "DIR": str(tree.resolve()),
        "USER_NAME": actor, "COMMAND_NAME": name,
        "COMMENT_ARGS": comment_args(command.extra_args if command else ()),
        "PROJECT_NAME": (command.project or "") if command else "",
    }


def run_workflow_hooks(svc: Services, pull: PullRequest, policy: RepoPolicy | None,
                       kind: str, name: str, tree: Path, actor: str,
                       command: Command | None, has_errors: bool | None = None
                       ) -> str | None:
    """Run repos.yaml's `kind` ("pre" or "post") hooks for command `name`; when
    one fails (the rest are not run), the comment saying so, for the caller to
    post where it belongs (a post hook's after the command's report)."""
    hooks: Sequence[Hook] = () if policy is None else (
        policy.pre_workflow_hooks if kind == "pre" else policy.post_workflow_hooks)
    if not hooks:
        return None
    values = hook_values(pull, actor, name, command, tree)
    if has_errors is not None:
        values["COMMAND_HAS_ERRORS"] = "true" if has_errors else "false"
    runs = run_hooks(hooks, kind, name, tree, values)
    failed = next((run for run in runs if not run.ok), None)
    if failed is None:
        return None
    return svc.renderer.hook_failed(kind=kind, name=failed.name, argv=failed.argv,
                                    returncode=failed.returncode, output=tail(failed.output),
                                    command=name)
