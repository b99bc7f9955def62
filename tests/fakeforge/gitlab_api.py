"""The fake GitLab's REST v4 routes, answering in the shapes python-gitlab reads.

Routes are matched on the raw request path, segment by segment, so a project
is found only when its path arrives URL-encoded ("acme%2Fplatform%2Finfra") as
GitLab requires. Lists page like GitLab (X-Page … headers and a Link header).
An unknown route answers 501 naming itself; a missing or wrong PRIVATE-TOKEN 401.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from tests.fakeforge.gitlab import (
        FakeGitLab,
        FakeMergeRequest,
        FakeNote,
        FakeProject,
        FakeStatus,
    )

PREFIX = "/api/v4"
NOTE_LIMIT = 1_000_000
STATUS_DESCRIPTION_LIMIT = 255
STATUS_STATES = frozenset({"pending", "running", "success", "failed", "canceled"})
_FINISHED = frozenset({"success", "failed", "canceled"})
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


class ApiError(Exception):
    def __init__(self, status: int, message: Any) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Page:
    items: list[Any]
    headers: dict[str, str]


def iso(when: datetime | None) -> str | None:
    """API time: 2024-05-01T12:00:00.123Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z" \
        if when else None


def hook_time(when: datetime) -> str:
    """Webhook time: 2024-05-01 12:00:00 UTC."""
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


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


class GitLabApi:
    """The WSGI app. Handlers take the route's arguments and return (status, json)."""

    def __init__(self, fake: FakeGitLab) -> None:
        self.fake = fake

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path)
        response = self.dispatch(request, urlsplit(raw).path)
        return response(environ, start_response)

    def dispatch(self, request: Request, raw_path: str) -> Response:
        self.fake.record(request.method, raw_path)
        route = None
        if raw_path.startswith(PREFIX + "/"):
            segments = raw_path[len(PREFIX) + 1:].rstrip("/").split("/")
            route = next(((ep, args) for method, pattern, ep in _ROUTES
                          if method == request.method
                          and (args := _match(pattern, segments)) is not None), None)
        if route is None:
            return _json(501, {"message": f"fake GitLab does not implement "
                                          f"{request.method} {raw_path}"})
        if not self._authorised(request):
            return _json(401, {"message": "401 Unauthorized"})
        endpoint, args = route
        handler: Callable[..., tuple[int, Any]] = getattr(self, f"on_{endpoint}")
        try:
            with self.fake.lock:
                status, body = handler(request, **args)
        except ApiError as e:
            return _json(e.status, {"message": e.message})
        if isinstance(body, Page):
            response = _json(status, body.items)
            response.headers.update(body.headers)
            return response
        return _json(status, body)

    def _authorised(self, request: Request) -> bool:
        token = request.headers.get("PRIVATE-TOKEN")
        if token is None:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                return False
        return token == self.fake.token

    # --- shapes ---------------------------------------------------------------------------

    def user_json(self, username: str) -> dict[str, Any]:
        return {
            "id": self.fake.user_id(username),
            "username": username,
            "name": username.title(),
            "state": "active",
            "locked": False,
            "avatar_url": f"{self.fake.web_url}/uploads/{username}.png",
            "web_url": f"{self.fake.web_url}/{username}",
        }

    def project_json(self, repo: FakeProject) -> dict[str, Any]:
        group = repo.namespace
        return {
            "id": repo.id,
            "name": repo.name,
            "path": repo.name,
            "path_with_namespace": repo.full_name,
            "name_with_namespace": repo.full_name.replace("/", " / "),
            "namespace": {"id": sum(group.encode()), "name": group.rsplit("/", 1)[-1],
                          "path": group.rsplit("/", 1)[-1], "kind": "group",
                          "full_path": group},
            "default_branch": repo.default_branch,
            "visibility": "private",
            "http_url_to_repo": repo.clone_url,
            "ssh_url_to_repo": f"git@127.0.0.1:{repo.full_name}.git",
            "web_url": f"{self.fake.web_url}/{repo.full_name}",
        }

    def mr_json(self, pull: FakeMergeRequest) -> dict[str, Any]:
        repo = pull.repo
        version = pull.versions[-1]
        return {
            "id": pull.id,
            "iid": pull.number,
            "project_id": repo.id,
            "title": pull.title,
            "description": pull.body,
            "state": pull.state,
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.closed_at or version.created_at),
            "merged_at": iso(pull.closed_at) if pull.merged else None,
            "closed_at": iso(pull.closed_at) if pull.state == "closed" else None,
            "target_branch": pull.base,
            "source_branch": pull.branch,
            "author": self.user_json(pull.author),
            "source_project_id": repo.id,
            "target_project_id": repo.id,
            "draft": False,
            "work_in_progress": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "sha": pull.head_sha,
            "merge_commit_sha": pull.merge_sha,
            "references": {"short": f"!{pull.number}", "full": f"{repo.full_name}!{pull.number}"},
            "web_url": f"{self.fake.web_url}/{repo.full_name}/-/merge_requests/{pull.number}",
            "diff_refs": {"base_sha": version.base_sha, "head_sha": version.head_sha,
                          "start_sha": version.start_sha},
        }

    def note_json(self, pull: FakeMergeRequest, note: FakeNote) -> dict[str, Any]:
        return {
            "id": note.id,
            "type": None,
            "body": note.body,
            "author": self.user_json(note.user),
            "created_at": iso(note.created_at),
            "updated_at": iso(note.created_at),
            "system": note.system,
            "noteable_id": pull.id,
            "noteable_type": "MergeRequest",
            "noteable_iid": pull.number,
            "project_id": pull.repo.id,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }

    def status_json(self, status: FakeStatus) -> dict[str, Any]:
        return {
            "id": status.id,
            "sha": status.sha,
            "ref": None,
            "status": status.state,
            "name": status.context,
            "description": status.description,
            "target_url": status.target_url,
            "created_at": iso(status.created_at),
            "started_at": None,
            "finished_at": iso(status.created_at) if status.state in _FINISHED else None,
            "allow_failure": False,
            "author": self.user_json(status.creator),
        }

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
        values = _body(request)
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
        body = _body(request).get("body")
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
            "title": pull.title, "state": pull.state, "merge_status": "can_be_merged",
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
        values = _body(request)
        if not re.fullmatch(r"[0-9a-f]{40}", sha) or not repo.git.has_commit(sha):
            raise ApiError(404, "404 Commit Not Found")
        state = values.get("state")
        if state not in STATUS_STATES:
            raise ApiError(400, "state does not have a valid value")
        if len(str(values.get("description") or "")) > STATUS_DESCRIPTION_LIMIT:
            raise ApiError(400, {"description": ["is too long (maximum is 255 characters)"]})
        name = str(values.get("name") or values.get("context") or "default")
        previous = [s for s in repo.statuses if s.sha == sha and s.context == name]
        if previous and previous[-1].state not in _FINISHED and \
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
        per_page = min(max(int(request.args.get("per_page", 20)), 1), 100)
        page = max(int(request.args.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
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
        return Page(items[(page - 1) * per_page: page * per_page], headers)


def _body(request: Request) -> dict[str, Any]:
    if request.mimetype != "application/json":
        return dict(request.form.items())
    try:
        data = json.loads(request.get_data() or b"{}")
    except ValueError as e:
        raise ApiError(400, "400 Bad request - JSON parse error") from e
    if not isinstance(data, dict):
        raise ApiError(400, "400 Bad request")
    return data


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")
