"""The fake GitLab's REST v4 routes, answering in the shapes python-gitlab reads.

Routes are matched on the raw request path, segment by segment, so a project
is found only when its path arrives URL-encoded ("acme%2Fplatform%2Finfra") as
GitLab requires. Lists page like GitLab (X-Page … headers and a Link header).
An unknown route answers 501 naming itself; a missing or wrong PRIVATE-TOKEN 401.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

from werkzeug.wrappers import Request

from tests.fakeforge.gitlab_shapes import FINISHED, MERGE_STATUSES, GitLabShapes, iso
from tests.fakeforge.rest import ApiError, Page, PageWindow, RestApi

if TYPE_CHECKING:
    from tests.fakeforge.gitlab import FakeGitLab, FakeMergeRequest, FakeProject

PREFIX = "/api/v4"
NOTE_LIMIT = 1_000_000
STATUS_DESCRIPTION_LIMIT = 255
STATUS_STATES = frozenset({"pending", "running", "success", "failed", "canceled"})
_STATUS_EVENTS = {"pending": "enqueue", "running": "run", "success": "success",
                  "failed": "drop", "canceled": "cancel"}
MR = "projects/{project}/merge_requests/{iid}"

_ROUTES = [
    ("GET", "user", "user"),
    ("GET", "users", "users"),
    ("GET", "projects/{project}", "project"),
    ("POST", "projects/{project}/merge_requests", "create_mr"),
    ("GET", MR, "mr"),
    ("GET", MR + "/diffs", "mr_diffs"),
    ("PUT", MR + "/merge", "merge_mr"),
    ("GET", MR + "/notes", "mr_notes"),
    ("POST", MR + "/notes", "create_note"),
    ("GET", MR + "/approvals", "mr_approvals"),
    ("GET", MR + "/versions", "mr_versions"),
    ("GET", MR + "/reviewers", "mr_reviewers"),
    ("POST", "projects/{project}/statuses/{sha}", "create_status"),
    ("GET", "projects/{project}/repository/commits/{sha}/statuses", "commit_statuses"),
    ("GET", "projects/{project}/members/all/{user_id}", "project_member"),
    ("GET", "groups/{group}/members/all/{user_id}", "group_member"),
]


def _match(pattern: str, segments: list[str]) -> dict[str, str] | None:
    parts = pattern.split("/")
    if len(parts) != len(segments):
        return None
    args: dict[str, str] = {}
    for part, segment in zip(parts, segments, strict=True):
        if part.startswith("{"):
            args[part[1:-1]] = unquote(segment)
        elif part != segment:
            return None
    return args


class GitLabApi(RestApi, GitLabShapes):
    fake: FakeGitLab
    forge_name = "GitLab"
    bad_credentials = "401 Unauthorized"
    bad_json = "400 Bad request - JSON parse error"
    not_an_object = "400 Bad request"

    def route_path(self, request: Request) -> str:
        environ = request.environ
        return urlsplit(str(environ.get("RAW_URI") or environ.get("REQUEST_URI")
                            or request.path)).path

    def match(self, request: Request, path: str) -> tuple[str, Mapping[str, Any]] | None:
        if not path.startswith(PREFIX + "/"):
            return None
        segments = path[len(PREFIX) + 1:].rstrip("/").split("/")
        return next(((ep, args) for method, pattern, ep in _ROUTES
                     if method == request.method
                     and (args := _match(pattern, segments)) is not None), None)

    def body(self, request: Request) -> dict[str, Any]:
        if request.mimetype != "application/json":
            return dict(request.form.items())
        return super().body(request)

    def authorised(self, request: Request) -> bool:
        token = request.headers.get("PRIVATE-TOKEN")
        if token is None:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                return False
        return token == self.fake.token

    # --- lookups --------------------------------------------------------------------------

    def find_repo(self, project: str) -> FakeProject:
        repo = self.fake.repos.get(project)
        if repo is None and project.isdigit():
            repo = next((r for r in self.fake.repos.values() if r.id == int(project)), None)
        if repo is None:
            raise ApiError(404, "404 Project Not Found")
        return repo

    def find_mr(self, project: str, iid: str) -> FakeMergeRequest:
        pull = self.find_repo(project).pulls.get(int(iid)) if iid.isdigit() else None
        if pull is None:
            raise ApiError(404, "404 Not found")
        return pull

    # --- handlers -------------------------------------------------------------------------

    def on_user(self, request: Request) -> tuple[int, Any]:
        return 200, self.user_json(self.fake.bot_login)

    def on_users(self, request: Request) -> tuple[int, Any]:
        wanted = request.args.get("username")
        users = [self.user_json(u) for u in self.fake.users if wanted in (None, u)]
        return 200, self.paginate(request, users)

    def on_project(self, request: Request, project: str) -> tuple[int, Any]:
        return 200, self.project_json(self.find_repo(project))

    def on_create_mr(self, request: Request, project: str) -> tuple[int, Any]:
        repo = self.find_repo(project)
        values = self.body(request)
        source, title = values.get("source_branch"), values.get("title")
        if not isinstance(source, str) or not isinstance(title, str) or not title:
            raise ApiError(400, "source_branch and title are required")
        if repo.git.branch_sha(source) is None:
            raise ApiError(400, {"source_branch": ["is invalid"]})
        pull = self.fake.add_pull(repo, source,
                                  str(values.get("target_branch") or repo.default_branch),
                                  self.fake.bot_login, title, str(values.get("description") or ""))
        return 201, self.mr_json(pull)

    def on_mr(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        return 200, self.mr_json(self.find_mr(project, iid))

    def on_merge_mr(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        """PUT …/merge: 405 when it is not open or cannot be merged, 409 when `sha`
        is not its head; `should_remove_source_branch` deletes the branch."""
        pull = self.find_mr(project, iid)
        values = self.body(request)
        if pull.state != "opened" or pull.mergeable is False:
            raise ApiError(405, "405 Method Not Allowed")
        sha = values.get("sha")
        if sha is not None and sha != pull.head_sha:
            raise ApiError(409, "SHA does not match HEAD of source branch: " + str(sha))
        self.fake.close_pull(pull, merged=True)
        if values.get("should_remove_source_branch") in (True, "true"):
            pull.repo.git.git("update-ref", "-d", f"refs/heads/{pull.branch}")
        return 200, self.mr_json(pull)

    def on_mr_diffs(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        pull = self.find_mr(project, iid)
        git = pull.repo.git
        since = git.merge_base(f"refs/heads/{pull.base}", pull.head_sha)
        diffs = [
            {
                "old_path": entry.previous_path or entry.path,
                "new_path": entry.path,
                "a_mode": "0" if entry.status == "added" else "100644",
                "b_mode": "0" if entry.status == "removed" else "100644",
                "new_file": entry.status in ("added", "copied"),
                "renamed_file": entry.status == "renamed",
                "deleted_file": entry.status == "removed",
                "generated_file": False,
                "diff": "",
            }
            for entry in git.diff(since, pull.head_sha)
        ]
        return 200, self.paginate(request, diffs)

    def on_mr_notes(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        pull = self.find_mr(project, iid)
        notes = [self.note_json(pull, n)
                 for n in sorted(pull.comments, key=lambda n: (n.created_at, n.id))]
        if request.args.get("sort", "desc") == "desc":
            notes.reverse()
        return 200, self.paginate(request, notes)

    def on_create_note(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        pull = self.find_mr(project, iid)
        body = self.body(request).get("body")
        if not isinstance(body, str) or not body:
            raise ApiError(400, "400 Bad request - Note can't be blank")
        if len(body) > NOTE_LIMIT:
            raise ApiError(400, {"note": [f"is too long (maximum is {NOTE_LIMIT} characters)"]})
        note = self.fake.add_comment(pull, self.fake.bot_login, body, via_api=True)
        return 201, self.note_json(pull, note)

    def on_mr_approvals(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        pull = self.find_mr(project, iid)
        approved_by = []
        for review in pull.approvals():
            entry: dict[str, Any] = {"user": self.user_json(review.user)}
            if self.fake.approvals_with_timestamps:
                entry["approved_at"] = iso(review.submitted_at)
            approved_by.append(entry)
        return 200, {
            "id": pull.id, "iid": pull.number, "project_id": pull.repo.id,
            "title": pull.title, "state": pull.state,
            "merge_status": MERGE_STATUSES[pull.mergeable],
            "approved": bool(approved_by), "approvals_required": 0, "approvals_left": 0,
            "require_password_to_approve": False, "approved_by": approved_by,
            "suggested_approvers": [], "approvers": [], "approver_groups": [],
            "user_has_approved": False, "user_can_approve": True,
        }

    def on_mr_versions(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        pull = self.find_mr(project, iid)
        versions = [
            {"id": v.id, "head_commit_sha": v.head_sha, "base_commit_sha": v.base_sha,
             "start_commit_sha": v.start_sha, "created_at": iso(v.created_at),
             "merge_request_id": pull.id, "state": "collected", "real_size": "1",
             "patch_id_sha": None}
            for v in reversed(pull.versions)
        ]
        return 200, self.paginate(request, versions)

    def on_mr_reviewers(self, request: Request, project: str, iid: str) -> tuple[int, Any]:
        pull = self.find_mr(project, iid)
        reviewers = [{"user": self.user_json(user), "state": state,
                      "created_at": iso(pull.created_at)}
                     for user, state in pull.reviewer_states().items()]
        return 200, self.paginate(request, reviewers)

    def on_create_status(self, request: Request, project: str, sha: str) -> tuple[int, Any]:
        repo = self.find_repo(project)
        values = self.body(request)
        if not re.fullmatch(r"[0-9a-f]{40}", sha) or not repo.git.has_commit(sha):
            raise ApiError(404, "404 Commit Not Found")
        state = values.get("state")
        if state not in STATUS_STATES:
            raise ApiError(400, "state does not have a valid value")
        if len(str(values.get("description") or "")) > STATUS_DESCRIPTION_LIMIT:
            raise ApiError(400, {"description": ["is too long (maximum is 255 characters)"]})
        name = str(values.get("name") or values.get("context") or "default")
        previous = [s for s in repo.statuses if s.sha == sha and s.context == name]
        if previous and previous[-1].state not in FINISHED and \
                (previous[-1].state == state or state == "pending"):
            raise ApiError(400, f"Cannot transition status via :{_STATUS_EVENTS[str(state)]} "
                                f"from :{previous[-1].state}")
        return 201, self.status_json(self.fake.add_status(repo, sha, values))

    def on_commit_statuses(self, request: Request, project: str, sha: str) -> tuple[int, Any]:
        repo = self.find_repo(project)
        statuses = [self.status_json(s) for s in repo.statuses if s.sha == sha]
        return 200, self.paginate(request, statuses)

    def _member(self, username: str, level: int) -> dict[str, Any]:
        if level <= 0:
            raise ApiError(404, "404 Not found")
        return {**self.user_json(username), "access_level": level, "expires_at": None,
                "membership_state": "active", "created_at": iso(self.fake.now())}

    def _username(self, user_id: str) -> str:
        name = next((u for u, i in self.fake.users.items() if str(i) == user_id), None)
        if name is None:
            raise ApiError(404, "404 User Not Found")
        return name

    def on_project_member(self, request: Request, project: str, user_id: str) -> tuple[int, Any]:
        repo = self.find_repo(project)
        user = self._username(user_id)
        return 200, self._member(user, self.fake.access_level(repo, repo.namespace, user))

    def on_group_member(self, request: Request, group: str, user_id: str) -> tuple[int, Any]:
        if not self.fake.group_exists(group):
            raise ApiError(404, "404 Group Not Found")
        user = self._username(user_id)
        return 200, self._member(user, self.fake.access_level(None, group, user))

    def paginate(self, request: Request, items: list[Any]) -> Page:
        """One page of `items` with GitLab's pagination headers; links keep the query."""
        window = PageWindow.of(request, len(items), 20)
        page, per_page, last = window.page, window.per_page, window.last
        raw = str(request.environ.get("RAW_URI") or request.path)
        base = self.fake.web_url + urlsplit(raw).path
        query = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

        def link(number: int, rel: str) -> str:
            args = urlencode({**query, "page": number, "per_page": per_page})
            return f'<{base}?{args}>; rel="{rel}"'

        links = [link(1, "first"), link(last, "last")]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
                   "X-Total-Pages": str(last), "X-Next-Page": "", "X-Prev-Page": ""}
        if page < last:
            links.insert(0, link(page + 1, "next"))
            headers["X-Next-Page"] = str(page + 1)
        if page > 1:
            links.insert(0, link(page - 1, "prev"))
            headers["X-Prev-Page"] = str(page - 1)
        headers["Link"] = ", ".join(links)
        return Page(window.cut(items), headers)

