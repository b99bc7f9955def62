"""The fake GitHub's REST routes, answering in the shapes PyGithub reads.

Every route is under /api/v3 (GitHub Enterprise's layout), and every URL in a
response is absolute under the same prefix, so PyGithub follows `url` fields and
pagination links back here. An unknown route answers 501 naming itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from tests.fakeforge.github import (
        FakeComment,
        FakeGitHub,
        FakePull,
        FakeRepo,
        FakeReview,
        FakeStatus,
    )

PREFIX = "/api/v3"
STATUS_STATES = frozenset({"error", "failure", "pending", "success"})
REPO = "/repos/<owner>/<name>"

_RULES = [
    ("/user", "user", ["GET"]),
    (REPO, "repo", ["GET"]),
    (REPO + "/pulls/<int:number>", "pull", ["GET"]),
    (REPO + "/pulls/<int:number>/files", "pull_files", ["GET"]),
    (REPO + "/pulls/<int:number>/reviews", "pull_reviews", ["GET"]),
    (REPO + "/issues/<int:number>", "issue", ["GET"]),
    (REPO + "/issues/<int:number>/comments", "issue_comments", ["GET"]),
    (REPO + "/issues/<int:number>/comments", "create_comment", ["POST"]),
    (REPO + "/statuses/<sha>", "create_status", ["POST"]),
    (REPO + "/commits/<ref>", "commit", ["GET"]),
    (REPO + "/commits/<ref>/statuses", "commit_statuses", ["GET"]),
    (REPO + "/collaborators/<user>/permission", "permission", ["GET"]),
    (REPO + "/pulls", "create_pull", ["POST"]),
    ("/orgs/<org>", "org", ["GET"]),
    ("/orgs/<org>/teams/<slug>", "team", ["GET"]),
    ("/orgs/<org>/teams/<slug>/memberships/<user>", "team_membership", ["GET"]),
]


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Page:
    items: list[Any]
    link: str


def iso(when: datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


class GitHubApi:
    """The WSGI app. Handlers take the route's arguments and return (status, json)."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.urls = Map(
            [Rule(PREFIX + path, endpoint=ep, methods=methods) for path, ep, methods in _RULES],
            strict_slashes=False,
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        self.fake.record(request.method, request.path)
        adapter = self.urls.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException:
            route = f"{request.method} {request.path}"
            return _json(501, {"message": f"fake GitHub does not implement {route}"})
        if not self._authorised(request):
            return _json(401, {"message": "Bad credentials"})
        handler: Callable[..., tuple[int, Any]] = getattr(self, f"on_{endpoint}")
        try:
            with self.fake.lock:
                status, body = handler(request, **args)
        except ApiError as e:
            return _json(e.status, {"message": e.message})
        if isinstance(body, Page):
            response = _json(status, body.items)
            if body.link:
                response.headers["Link"] = body.link
            return response
        return _json(status, body)

    def _authorised(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        return scheme.lower() in ("token", "bearer") and token == self.fake.token

    # --- shapes ---------------------------------------------------------------------------

    def api(self, path: str) -> str:
        return f"{self.fake.api_url}{path}"

    def user_json(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": sum(login.encode()) + 1_000_000,
            "node_id": f"U_{login}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
            "url": self.api(f"/users/{login}"),
            "html_url": f"{self.fake.web_url}/{login}",
        }

    def repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user_json(repo.owner),
            "private": False,
            "fork": False,
            "html_url": f"{self.fake.web_url}/{repo.full_name}",
            "url": self.api(f"/repos/{repo.full_name}"),
            "clone_url": repo.clone_url,
            "default_branch": repo.default_branch,
        }

    def pull_json(self, pull: FakePull) -> dict[str, Any]:
        repo = pull.repo
        url = self.api(f"/repos/{repo.full_name}/pulls/{pull.number}")
        issue_url = self.api(f"/repos/{repo.full_name}/issues/{pull.number}")
        base_sha = repo.git.branch_sha(pull.base) or ""

        def side(ref: str, sha: str) -> dict[str, Any]:
            return {
                "label": f"{repo.owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self.user_json(repo.owner),
                "repo": self.repo_json(repo),
            }

        return {
            "url": url,
            "id": pull.id,
            "node_id": f"PR_{pull.id}",
            "html_url": f"{self.fake.web_url}/{repo.full_name}/pull/{pull.number}",
            "issue_url": issue_url,
            "comments_url": f"{issue_url}/comments",
            "review_comments_url": f"{url}/comments",
            "commits_url": f"{url}/commits",
            "statuses_url": self.api(f"/repos/{repo.full_name}/statuses/{pull.head_sha}"),
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "body": pull.body,
            "user": self.user_json(pull.author),
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.closed_at or pull.created_at),
            "closed_at": iso(pull.closed_at),
            "merged_at": iso(pull.closed_at) if pull.merged else None,
            "merge_commit_sha": pull.merge_sha,
            "head": side(pull.branch, pull.head_sha),
            "base": side(pull.base, base_sha),
            "draft": False,
            "merged": pull.merged,
            "mergeable": None if pull.merged else True,
            "author_association": "CONTRIBUTOR",
        }

    def review_json(self, pull: FakePull, review: FakeReview) -> dict[str, Any]:
        pull_url = self.api(f"/repos/{pull.repo.full_name}/pulls/{pull.number}")
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self.user_json(review.user),
            "body": review.body,
            "state": review.state,
            "commit_id": review.commit_id,
            "submitted_at": iso(review.submitted_at),
            "html_url": f"{self.fake.web_url}/{pull.repo.full_name}/pull/{pull.number}"
            f"#pullrequestreview-{review.id}",
            "pull_request_url": pull_url,
            "author_association": "MEMBER",
        }

    # --- handlers -------------------------------------------------------------------------

    def find_repo(self, owner: str, name: str) -> FakeRepo:
        repo = self.fake.repos.get(f"{owner}/{name}")
        if repo is None:
            raise ApiError(404, "Not Found")
        return repo

    def find_pull(self, owner: str, name: str, number: int) -> FakePull:
        pull = self.find_repo(owner, name).pulls.get(number)
        if pull is None:
            raise ApiError(404, "Not Found")
        return pull

    def on_user(self, request: Request) -> tuple[int, Any]:
        return 200, self.user_json(self.fake.bot_login)

    def on_repo(self, request: Request, owner: str, name: str) -> tuple[int, Any]:
        return 200, self.repo_json(self.find_repo(owner, name))

    def on_pull(self, request: Request, owner: str, name: str, number: int) -> tuple[int, Any]:
        return 200, self.pull_json(self.find_pull(owner, name, number))

    def on_pull_files(
        self, request: Request, owner: str, name: str, number: int
    ) -> tuple[int, Any]:
        pull = self.find_pull(owner, name, number)
        git = pull.repo.git
        since = git.merge_base(f"refs/heads/{pull.base}", pull.head_sha)
        files = []
        for entry in git.diff(since, pull.head_sha):
            item: dict[str, Any] = {
                "sha": entry.blob_sha,
                "filename": entry.path,
                "status": entry.status,
                "additions": 0,
                "deletions": 0,
                "changes": 0,
                "blob_url": f"{self.fake.web_url}/{pull.repo.full_name}/blob/"
                f"{pull.head_sha}/{entry.path}",
                "contents_url": self.api(
                    f"/repos/{pull.repo.full_name}/contents/{entry.path}?ref={pull.head_sha}"
                ),
            }
            if entry.previous_path is not None:
                item["previous_filename"] = entry.previous_path
            files.append(item)
        return 200, self.paginate(request, files)

    def on_pull_reviews(
        self, request: Request, owner: str, name: str, number: int
    ) -> tuple[int, Any]:
        pull = self.find_pull(owner, name, number)
        return 200, self.paginate(request, [self.review_json(pull, r) for r in pull.reviews])

    def on_issue(self, request: Request, owner: str, name: str, number: int) -> tuple[int, Any]:
        pull = self.find_pull(owner, name, number)
        data = self.pull_json(pull)
        data["url"] = data["issue_url"]
        data["pull_request"] = {
            "url": self.api(f"/repos/{pull.repo.full_name}/pulls/{pull.number}"),
            "html_url": data["html_url"],
        }
        return 200, data

    def comment_json(self, pull: FakePull, comment: FakeComment) -> dict[str, Any]:
        issue_url = self.api(f"/repos/{pull.repo.full_name}/issues/{pull.number}")
        return {
            "id": comment.id,
            "node_id": f"IC_{comment.id}",
            "url": self.api(f"/repos/{pull.repo.full_name}/issues/comments/{comment.id}"),
            "html_url": f"{self.fake.web_url}/{pull.repo.full_name}/pull/{pull.number}"
            f"#issuecomment-{comment.id}",
            "issue_url": issue_url,
            "user": self.user_json(comment.user),
            "body": comment.body,
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.created_at),
            "author_association": "NONE",
        }

    def on_issue_comments(
        self, request: Request, owner: str, name: str, number: int
    ) -> tuple[int, Any]:
        pull = self.find_pull(owner, name, number)
        return 200, self.paginate(request, [self.comment_json(pull, c) for c in pull.comments])

    def on_create_comment(
        self, request: Request, owner: str, name: str, number: int
    ) -> tuple[int, Any]:
        pull = self.find_pull(owner, name, number)
        body = _body(request).get("body")
        if not isinstance(body, str) or not body:
            raise ApiError(422, "Validation Failed: body is missing")
        if len(body) > 65536:
            raise ApiError(422, "Validation Failed: body is too long (maximum is 65536 characters)")
        comment = self.fake.add_comment(pull, self.fake.bot_login, body, via_api=True)
        return 201, self.comment_json(pull, comment)

    def on_create_status(
        self, request: Request, owner: str, name: str, sha: str
    ) -> tuple[int, Any]:
        repo = self.find_repo(owner, name)
        values = _body(request)
        if not re.fullmatch(r"[0-9a-f]{40}", sha) or not repo.git.has_commit(sha):
            raise ApiError(422, f"No commit found for SHA: {sha}")
        if values.get("state") not in STATUS_STATES:
            raise ApiError(422, f"Validation Failed: state {values.get('state')!r}")
        if len(str(values.get("description") or "")) > 140:
            raise ApiError(422, "Validation Failed: description is too long (maximum is 140)")
        status = self.fake.add_status(repo, sha, values)
        return 201, self.status_json(repo, status)

    def status_json(self, repo: FakeRepo, status: FakeStatus) -> dict[str, Any]:
        return {
            "id": status.id,
            "node_id": f"SC_{status.id}",
            "url": self.api(f"/repos/{repo.full_name}/statuses/{status.sha}"),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.created_at),
            "creator": self.user_json(status.creator),
        }

    def on_commit(self, request: Request, owner: str, name: str, ref: str) -> tuple[int, Any]:
        repo = self.find_repo(owner, name)
        if not repo.git.has_commit(ref):
            raise ApiError(422, f"No commit found for SHA: {ref}")
        sha = repo.git.rev_parse(ref)
        parents = repo.git.git("rev-list", "--parents", "-n1", sha).split()[1:]
        url = self.api(f"/repos/{repo.full_name}/commits/{sha}")
        return 200, {
            "sha": sha,
            "node_id": f"C_{sha}",
            "url": url,
            "html_url": f"{self.fake.web_url}/{repo.full_name}/commit/{sha}",
            "commit": {"message": repo.git.git("log", "-1", "--format=%B", sha).strip()},
            "author": None,
            "committer": None,
            "parents": [
                {"sha": p, "url": self.api(f"/repos/{repo.full_name}/commits/{p}")} for p in parents
            ],
            "files": [],
        }

    def on_commit_statuses(
        self, request: Request, owner: str, name: str, ref: str
    ) -> tuple[int, Any]:
        repo = self.find_repo(owner, name)
        statuses = [self.status_json(repo, s) for s in reversed(repo.statuses) if s.sha == ref]
        return 200, self.paginate(request, statuses)

    def on_permission(self, request: Request, owner: str, name: str, user: str) -> tuple[int, Any]:
        role = self.fake.permission(self.find_repo(owner, name), user)
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        return 200, {"permission": legacy, "role_name": role, "user": self.user_json(user)}

    def on_create_pull(self, request: Request, owner: str, name: str) -> tuple[int, Any]:
        data = _body(request)
        repo = self.find_repo(owner, name)
        head, base = str(data.get("head", "")), str(data.get("base", repo.default_branch))
        if repo.git.branch_sha(head) is None or repo.git.branch_sha(base) is None:
            raise ApiError(422, f"Validation Failed: no branch {head!r} or {base!r}")
        pull = self.fake.adopt_pull(repo, head, base, self.fake.bot_login,
                                    str(data.get("title", "")), str(data.get("body") or ""))
        return 201, self.pull_json(pull)

    def on_org(self, request: Request, org: str) -> tuple[int, Any]:
        return 200, {"login": org, "id": 1, "url": self.api(f"/orgs/{org}")}

    def on_team(self, request: Request, org: str, slug: str) -> tuple[int, Any]:
        if f"{org}/{slug}" not in self.fake.teams:
            raise ApiError(404, "Not Found")
        return 200, {"id": abs(hash(f"{org}/{slug}")) % 100000, "slug": slug, "name": slug,
                     "url": self.api(f"/orgs/{org}/teams/{slug}")}

    def on_team_membership(self, request: Request, org: str, slug: str,
                           user: str) -> tuple[int, Any]:
        if user not in self.fake.teams.get(f"{org}/{slug}", set()):
            raise ApiError(404, "Not Found")
        return 200, {"state": "active", "role": "member",
                     "url": self.api(f"/orgs/{org}/teams/{slug}/memberships/{user}")}

    def paginate(self, request: Request, items: list[Any]) -> Page:
        """One page of `items` and its Link header, as GitHub pages lists."""
        per_page = min(max(int(request.args.get("per_page", 30)), 1), 100)
        page = max(int(request.args.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []
        for rel, number in (("next", page + 1), ("last", last), ("first", 1), ("prev", page - 1)):
            if (rel in ("next", "last") and page < last) or (rel in ("first", "prev") and page > 1):
                query = urlencode({"per_page": per_page, "page": number})
                links.append(f'<{self.fake.web_url}{request.path}?{query}>; rel="{rel}"')
        return Page(items[(page - 1) * per_page : page * per_page], ", ".join(links))


def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError as e:
        raise ApiError(400, "Problems parsing JSON") from e
    if not isinstance(data, dict):
        raise ApiError(400, "Problems parsing JSON")
    return data


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
