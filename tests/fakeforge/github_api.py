"""The fake GitHub's REST routes, answering in the shapes PyGithub reads.

Every route is under /api/v3 (GitHub Enterprise's layout), and every URL in a
response is absolute under the same prefix, so PyGithub follows `url` fields and
pagination links back here. An unknown route answers 501 naming itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from tests.fakeforge.github_app import APP_RULES, GitHubAppRoutes
from tests.fakeforge.github_shapes import GitHubShapes
from tests.fakeforge.rest import ApiError, Page, PageWindow, RestApi

if TYPE_CHECKING:
    from tests.fakeforge.github import FakeGitHub, FakePull, FakeRepo

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
    (REPO + "/pulls/<int:number>/merge", "merge_pull", ["PUT"]),
    (REPO + "/git/refs/<path:ref>", "delete_ref", ["DELETE"]),
    ("/orgs/<org>", "org", ["GET"]),
    ("/orgs/<org>/teams/<slug>", "team", ["GET"]),
    ("/orgs/<org>/teams/<slug>/memberships/<user>", "team_membership", ["GET"]),
]


class GitHubApi(RestApi, GitHubShapes, GitHubAppRoutes):
    fake: FakeGitHub
    forge_name = "GitHub"
    bad_credentials = "Bad credentials"
    bad_json = not_an_object = "Problems parsing JSON"

    def __init__(self, fake: FakeGitHub) -> None:
        super().__init__(fake)
        self.urls = Map(
            [Rule(PREFIX + path, endpoint=ep, methods=methods)
             for path, ep, methods in [*_RULES, *APP_RULES]],
            strict_slashes=False,
        )

    def match(self, request: Request, path: str) -> tuple[str, Mapping[str, Any]] | None:
        try:
            endpoint, args = self.urls.bind_to_environ(request.environ).match()
        except HTTPException:
            return None
        return str(endpoint), args

    def authorised(self, request: Request) -> bool:
        if self.fake.app is not None:
            route = self.match(request, request.path)
            return route is not None and self.app_authorised(request, route[0],
                                                              dict(route[1]))
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        return scheme.lower() in ("token", "bearer") and token == self.fake.token

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

    def on_issue_comments(
        self, request: Request, owner: str, name: str, number: int
    ) -> tuple[int, Any]:
        pull = self.find_pull(owner, name, number)
        return 200, self.paginate(request, [self.comment_json(pull, c) for c in pull.comments])

    def on_create_comment(
        self, request: Request, owner: str, name: str, number: int
    ) -> tuple[int, Any]:
        pull = self.find_pull(owner, name, number)
        body = self.body(request).get("body")
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
        values = self.body(request)
        if not re.fullmatch(r"[0-9a-f]{40}", sha) or not repo.git.has_commit(sha):
            raise ApiError(422, f"No commit found for SHA: {sha}")
        if values.get("state") not in STATUS_STATES:
            raise ApiError(422, f"Validation Failed: state {values.get('state')!r}")
        if len(str(values.get("description") or "")) > 140:
            raise ApiError(422, "Validation Failed: description is too long (maximum is 140)")
        status = self.fake.add_status(repo, sha, values)
        return 201, self.status_json(repo, status)

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
        data = self.body(request)
        repo = self.find_repo(owner, name)
        head, base = str(data.get("head", "")), str(data.get("base", repo.default_branch))
        if repo.git.branch_sha(head) is None or repo.git.branch_sha(base) is None:
            raise ApiError(422, f"Validation Failed: no branch {head!r} or {base!r}")
        pull = self.fake.adopt_pull(repo, head, base, self.fake.bot_login,
                                    str(data.get("title", "")), str(data.get("body") or ""))
        return 201, self.pull_json(pull)

    def on_merge_pull(self, request: Request, owner: str, name: str,
                      number: int) -> tuple[int, Any]:
        """PUT /pulls/{number}/merge: 405 when it cannot be merged (closed, merged,
        conflicting), 409 when `sha` is not the head any more, as GitHub answers."""
        pull = self.find_pull(owner, name, number)
        data = self.body(request)
        if pull.state != "open" or pull.mergeable is False:
            raise ApiError(405, "Pull Request is not mergeable")
        sha = data.get("sha")
        if sha is not None and sha != pull.head_sha:
            raise ApiError(409, "Head branch was modified. Review and try the merge again.")
        if data.get("merge_method", "merge") not in ("merge", "squash", "rebase"):
            raise ApiError(422, "Validation Failed: merge_method")
        self.fake.close_pull(pull, merged=True)
        return 200, {"sha": pull.merge_sha, "merged": True,
                     "message": "Pull Request successfully merged"}

    def on_delete_ref(self, request: Request, owner: str, name: str,
                      ref: str) -> tuple[int, Any]:
        """DELETE /git/refs/heads/{branch}: 204, or 422 when there is no such ref."""
        repo = self.find_repo(owner, name)
        if not ref.startswith("heads/") or repo.git.branch_sha(ref.removeprefix("heads/")) is None:
            raise ApiError(422, "Reference does not exist")
        repo.git.git("update-ref", "-d", f"refs/{ref}")
        return 204, None

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
        window = PageWindow.of(request, len(items), 30)
        page, last = window.page, window.last
        links = []
        for rel, number in (("next", page + 1), ("last", last), ("first", 1), ("prev", page - 1)):
            if (rel in ("next", "last") and page < last) or (rel in ("first", "prev") and page > 1):
                query = urlencode({"per_page": window.per_page, "page": number})
                links.append(f'<{self.fake.web_url}{request.path}?{query}>; rel="{rel}"')
        return Page(window.cut(items), {"Link": ", ".join(links)} if links else {})
