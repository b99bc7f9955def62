"""GitHub through PyGithub. No PyGithub object leaves this module (and
github_api, the calls below it).

The client is lazy: handles for repos, pulls, issues and commits are built from
URLs without a request, so each Forge call costs the one request that matters.
"""

from __future__ import annotations

import base64
import logging
import threading
from datetime import datetime
from urllib.parse import quote

from github import (
    Auth,
    Github,
    UnknownObjectException,
)
from github.GitRef import GitRef
from github.PullRequest import PullRequest as GhPullRequest
from github.Repository import Repository

from atlantis_py.domain.events import PullRequest, Repo
from atlantis_py.domain.forge import (
    ChangedFile,
    Comment,
    Mergeability,
    Merged,
    Review,
    StatusState,
)
from atlantis_py.errors import ConfigError, ForgeError, TransientForgeError
from atlantis_py.forges.base import settled
from atlantis_py.forges.github_api import (
    REVIEW_STATES,
    api,
    client_factory,
    file_status,
    repo_path,
    web_root,
)
from atlantis_py.forges.github_app import AppClients, GitHubApp
from atlantis_py.forges.github_webhooks import GitHubWebhooks

__all__ = ["GitHubApp", "GitHubForge", "GitHubWebhooks"]

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
STATUS_DESCRIPTION_LIMIT = 140
COMMAND_PERMISSIONS = frozenset({"admin", "maintain", "write"})


class GitHubForge:
    """Forge for github.com or GitHub Enterprise, authenticated with one token.

    `write_interval` spaces writes (comments, statuses) as GitHub asks of bots to
    avoid secondary rate limits; tests against the fake forge pass 0.
    """

    name = "github"
    comment_limit = 65536

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        user: str = "",
        *,
        write_interval: float = 1.0,
        retries: int = 2,
        timeout: int = 30,
        app: GitHubApp | None = None,
    ) -> None:
        """`app` authenticates as a GitHub App's installation instead of `token`."""
        if not token and app is None:
            raise ConfigError("the GitHub token is empty")
        self.user = user
        self._token = token
        self._api_url = api_url.rstrip("/")
        client = client_factory(self._api_url, write_interval=write_interval,
                                retries=retries, timeout=timeout)
        self._app = None if app is None else AppClients(app, self._api_url, client)
        self._client = client(Auth.Token(token)) if app is None else None
        self._repos: dict[str, Repository] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"GitHubForge(api_url={self._api_url!r}, user={self.user!r})"

    def _repo(self, full_name: str) -> Repository:
        with self._lock:
            repo = self._repos.get(full_name)
            if repo is None:
                repo = self._github(full_name).get_repo(repo_path(full_name))
                self._repos[full_name] = repo
            return repo

    def pull_request(self, repo: str, number: int) -> PullRequest:
        with api(f"reading pull request {repo}#{number}"):
            return self._pull(repo, self._repo(repo).get_pull(number))

    def _pull(self, repo: str, pr: GhPullRequest) -> PullRequest:
        return PullRequest(
            repo=Repo(forge=self.name, full_name=repo, clone_url=pr.base.repo.clone_url),
            number=pr.number,
            author=pr.user.login,
            head_sha=pr.head.sha,
            head_ref=pr.head.ref,
            base_ref=pr.base.ref,
            title=pr.title or "",
            url=pr.html_url or "",
        )

    def changed_files(self, repo: str, number: int) -> list[ChangedFile]:
        with api(f"listing files of {repo}#{number}"):
            files = self._repo(repo).get_pull(number).get_files()
            return [
                ChangedFile(
                    path=f.filename,
                    status=file_status(f.status),
                    previous_path=f.previous_filename if f.status == "renamed" else None,
                )
                for f in files
            ]

    def post_comment(self, repo: str, number: int, body: str) -> None:
        with api(f"commenting on {repo}#{number}"):
            self._repo(repo).get_issue(number).create_comment(body)

    def comments(self, repo: str, number: int) -> list[Comment]:
        """GET /repos/{owner}/{name}/issues/{number}/comments, every page."""
        with api(f"listing comments of {repo}#{number}"):
            return [Comment(author=c.user.login if c.user else "", body=c.body or "")
                    for c in self._repo(repo).get_issue(number).get_comments()]

    def set_status(
        self, repo: str, sha: str, context: str, state: StatusState, description: str
    ) -> None:
        if len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
        with api(f"setting status {context} on {repo}@{sha[:12]}"):
            self._repo(repo).get_commit(sha).create_status(
                state=state.value, description=description, context=context
            )

    def reviews(self, repo: str, number: int) -> list[Review]:
        with api(f"listing reviews of {repo}#{number}"):
            result = []
            for r in self._repo(repo).get_pull(number).get_reviews():
                state = REVIEW_STATES.get(r.state)
                if state is None or r.user is None:
                    continue  # PENDING drafts; reviews by deleted users
                submitted: datetime | None = r.submitted_at
                result.append(
                    Review(
                        user=r.user.login,
                        state=state,
                        commit_sha=r.commit_id or "",
                        submitted_at=submitted,
                    )
                )
            return result

    def can_run_commands(self, repo: str, user: str) -> bool:
        with api(f"reading {user}'s permission on {repo}"):
            try:
                permission = self._repo(repo).get_collaborator_permission(user)
            except UnknownObjectException:
                log.info("no permission record for %s on %s", user, repo)
                return False
            return permission in COMMAND_PERMISSIONS

    def can_approve(self, repo: str, user: str) -> bool:
        """The bar commands have: write, maintain or admin. On a public repository
        anyone may review, and reads as `read` here."""
        return self.can_run_commands(repo, user)

    def default_branch(self, repo: str) -> str:
        with api(f"reading {repo}"):
            # a fresh GET
            return str(self._github(repo).get_repo(repo_path(repo)).default_branch)

    def mergeable(self, repo: str, number: int) -> Mergeability:
        """`mergeable` as GitHub reports it, asked again while it is null;
        `mergeable_state` ("dirty", "blocked", …) says why in the refusal."""
        def read() -> Mergeability:
            pr = self._repo(repo).get_pull(number)
            return Mergeability(pr.mergeable, pr.mergeable_state or "")

        with api(f"reading whether {repo}#{number} can be merged"):
            return settled(read)

    def merge_pull(self, repo: str, number: int, head_sha: str, *,
                   delete_branch: bool) -> Merged:
        """PUT /pulls/{number}/merge with the applied head's sha (GitHub refuses
        with 409 if the branch moved since), then, as Atlantis does, DELETE the
        head ref when it lives in this repository (a fork's branch is not ours)."""
        try:
            with api(f"merging {repo}#{number}"):
                pr = self._repo(repo).get_pull(number)
                status = pr.merge(sha=head_sha, merge_method="merge")
                if not status.merged:
                    raise ForgeError(f"GitHub: merging {repo}#{number} failed: "
                                     f"{status.message or 'not merged'}", 405)
        except TransientForgeError:
            raise
        except ForgeError:
            # a merge retried after its answer was lost finds it merged already
            with api(f"reading pull request {repo}#{number}"):
                pr = self._repo(repo).get_pull(number)
                if not (pr.merged and pr.head.sha == head_sha):
                    raise
        if not delete_branch:
            return Merged()
        try:
            with api(f"deleting the branch of {repo}#{number}"):
                pr = self._repo(repo).get_pull(number)
                branch, owner = pr.head.ref, (pr.head.repo.full_name if pr.head.repo else "")
                if owner.lower() != repo.lower():
                    return Merged(False, f"it is in {owner or 'a deleted fork'}, not {repo}")
                gh_repo = self._repo(repo)
                GitRef(gh_repo.requester, url=f"{gh_repo.url}/git/refs/heads/"
                       f"{quote(branch, safe='/')}", attributes={"ref": f"refs/heads/{branch}"}
                       ).delete()
        except ForgeError as err:
            if err.status == 422:  # gone already: the repository deletes merged branches
                return Merged(True)
            return Merged(False, str(err))
        return Merged(True)

    def in_team(self, team: str, user: str) -> bool:
        org, _, slug = team.partition("/")
        if not org or not slug:
            return False
        with api(f"reading {user}'s membership of {team}"):
            try:
                membership = self._org_client(org).get_organization(org) \
                    .get_team_by_slug(slug).get_team_membership(user)
            except UnknownObjectException:
                return False
            return membership.state == "active"

    def create_pull(self, repo: str, head: str, base: str, title: str, body: str,
                    opened_by: str) -> PullRequest:
        """Opened as the bot's account: GitHub cannot open it as `opened_by`."""
        with api(f"opening a pull request on {repo} from {head}"):
            pr = self._repo(repo).create_pull(base=base, head=head, title=title, body=body)
            return self._pull(repo, pr)

    def _github(self, full_name: str) -> Github:
        if self._app is not None:
            return self._app.for_repo(full_name)
        assert self._client is not None
        return self._client

    def _org_client(self, org: str) -> Github:
        if self._app is not None:
            return self._app.for_owner(org)
        assert self._client is not None
        return self._client

    @property
    def clone_env(self) -> dict[str, str]:
        """The token goes in an http.extraHeader scoped to the forge's host,
        so it is in neither argv nor the remote URL and no other host sees it.
        A GitHub App has a token per installation: each goes in a header scoped
        to its account's repositories (`https://github.com/ACCOUNT/`), fresh."""
        headers = [(web_root(self._api_url), self._token)]
        if self._app is not None:
            with api("reading the GitHub App's installations"):
                headers = [(web_root(self._api_url) + (f"{login}/" if login else ""),
                            self._app.token(installation))
                           for login, installation in self._app.installations()]
        env = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_COUNT": str(len(headers))}
        for i, (url, token) in enumerate(headers):
            basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
            env[f"GIT_CONFIG_KEY_{i}"] = f"http.{url}.extraHeader"
            env[f"GIT_CONFIG_VALUE_{i}"] = f"Authorization: Basic {basic}"
        return env
