"""Webhook payloads for the fake GitLab, and the headers that authenticate like GitLab.

Each payload starts as a fresh copy of a stored delivery (tests/fixtures/gitlab,
written by us in the shape GitLab sends) with the fields atlantis-py reads
overwritten from the fake's state, so the rest of the shape stays GitLab's.
GitLab does not sign bodies: it sends the hook's secret token in X-Gitlab-Token.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tests.fakeforge.gitlab_shapes import hook_time
from tests.fakeforge.webhooks import fixture_folder, load_fixture

if TYPE_CHECKING:
    from tests.fakeforge.gitlab import FakeGitLab, FakeMergeRequest, FakeProject
    from tests.fakeforge.model import FakeComment

FIXTURES = fixture_folder("gitlab")

# GitHub's event names, as the shared end-to-end tests pass them, → X-Gitlab-Event.
EVENT_HEADERS = {
    "pull_request": "Merge Request Hook",
    "pull_request_review": "Merge Request Hook",
    "issue_comment": "Note Hook",
    "push": "Push Hook",
}
# GitHub action → (GitLab action, fixture it starts from)
_ACTIONS = {
    "opened": "open",
    "reopened": "reopen",
    "synchronize": "update",
    "edited": "update",
}
_FIXTURES = {
    "open": "merge_request.open.json",
    "reopen": "merge_request.reopen.json",
    "close": "merge_request.close.json",
    "merge": "merge_request.merge.json",
    "approved": "merge_request.approved.json",
    "approval": "merge_request.approved.json",
    "unapproved": "merge_request.unapproved.json",
    "unapproval": "merge_request.unapproved.json",
}


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a stored delivery, e.g. fixture("merge_request.open.json")."""
    return load_fixture(FIXTURES / name)


def hook_user(fake: FakeGitLab, username: str) -> dict[str, Any]:
    return {
        "id": fake.user_id(username),
        "name": username.title(),
        "username": username,
        "avatar_url": f"{fake.web_url}/uploads/{username}.png",
        "email": "[REDACTED]",
    }


def hook_project(fake: FakeGitLab, repo: FakeProject) -> dict[str, Any]:
    web = f"{fake.web_url}/{repo.full_name}"
    ssh = f"git@127.0.0.1:{repo.full_name}.git"
    return {
        "id": repo.id,
        "name": repo.name,
        "description": None,
        "web_url": web,
        "avatar_url": None,
        "git_ssh_url": ssh,
        "git_http_url": repo.clone_url,
        "namespace": repo.namespace.rsplit("/", 1)[-1],
        "visibility_level": 0,
        "path_with_namespace": repo.full_name,
        "default_branch": repo.default_branch,
        "ci_config_path": "",
        "homepage": web,
        "url": ssh,
        "ssh_url": ssh,
        "http_url": repo.clone_url,
    }


def _common(fake: FakeGitLab, payload: dict[str, Any], repo: FakeProject, user: str) -> None:
    payload["user"] = hook_user(fake, user)
    payload["project"] = hook_project(fake, repo)
    payload["repository"] = {
        "name": repo.name,
        "url": f"git@127.0.0.1:{repo.full_name}.git",
        "description": None,
        "homepage": f"{fake.web_url}/{repo.full_name}",
    }


def _merge_request_attributes(fake: FakeGitLab, pull: FakeMergeRequest) -> dict[str, Any]:
    repo = pull.repo
    project = hook_project(fake, repo)
    url = f"{fake.web_url}/{repo.full_name}/-/merge_requests/{pull.number}"
    return {
        "id": pull.id,
        "iid": pull.number,
        "title": pull.title,
        "description": pull.body,
        "author_id": fake.user_id(pull.author),
        "source_branch": pull.branch,
        "target_branch": pull.base,
        "source_project_id": repo.id,
        "target_project_id": repo.id,
        "state": pull.state,
        "state_id": {"opened": 1, "closed": 2, "merged": 3}[pull.state],
        "merge_commit_sha": pull.merge_sha,
        "created_at": hook_time(pull.created_at),
        "updated_at": hook_time(pull.closed_at or pull.created_at),
        "draft": False,
        "work_in_progress": False,
        "url": url,
        "source": project,
        "target": project,
        "last_commit": {
            "id": pull.head_sha,
            "message": pull.title,
            "title": pull.title,
            "timestamp": hook_time(pull.created_at),
            "url": f"{fake.web_url}/{repo.full_name}/-/commit/{pull.head_sha}",
            "author": {"name": pull.author, "email": "[REDACTED]"},
        },
    }


def merge_request(
    fake: FakeGitLab, pull: FakeMergeRequest, action: str, sender: str | None = None
) -> dict[str, Any]:
    if action == "closed":
        action = "merge" if pull.merged else "close"
    gitlab_action = _ACTIONS.get(action, action)
    if gitlab_action == "update":  # "edited" changes metadata only, so no oldrev
        name = f"merge_request.update.{'edited' if action == 'edited' else 'new_commits'}.json"
    else:
        name = _FIXTURES[gitlab_action]
    payload = fixture(name)
    attributes = payload["object_attributes"]
    attributes.pop("oldrev", None)
    attributes.update(_merge_request_attributes(fake, pull))
    attributes["action"] = gitlab_action
    labels = [{"id": 5521 + i, "title": name, "color": "#6699cc", "type": "ProjectLabel"}
              for i, name in enumerate(pull.labels)]
    attributes["labels"] = payload["labels"] = labels
    payload["changes"] = {}
    if name.endswith("new_commits.json"):
        attributes["oldrev"] = pull.previous_head_sha or pull.head_sha
    elif name.endswith("edited.json"):
        payload["changes"] = {"title": {"previous": pull.title, "current": pull.title}}
    _common(fake, payload, pull.repo, sender or pull.author)
    return payload


def _note_attributes(fake: FakeGitLab, repo: FakeProject, note_id: int, body: str,
                     user: str, noteable: str, noteable_id: int, url: str) -> dict[str, Any]:
    now = hook_time(fake.now())
    return {
        "id": note_id,
        "note": body,
        "noteable_type": noteable,
        "author_id": fake.user_id(user),
        "created_at": now,
        "updated_at": now,
        "project_id": repo.id,
        "attachment": None,
        "line_code": None,
        "commit_id": "",
        "noteable_id": noteable_id,
        "system": False,
        "st_diff": None,
        "action": "create",
        "url": url,
    }


def note(fake: FakeGitLab, pull: FakeMergeRequest, comment: FakeComment) -> dict[str, Any]:
    payload = fixture("note.create.merge_request.json")
    repo = pull.repo
    url = f"{fake.web_url}/{repo.full_name}/-/merge_requests/{pull.number}#note_{comment.id}"
    payload["object_attributes"] = _note_attributes(
        fake, repo, comment.id, comment.body, comment.user, "MergeRequest", pull.id, url)
    payload["project_id"] = repo.id
    payload["merge_request"].update(_merge_request_attributes(fake, pull))
    _common(fake, payload, repo, comment.user)
    return payload


def issue_note(fake: FakeGitLab, repo: FakeProject, number: int, user: str,
               body: str) -> dict[str, Any]:
    payload = fixture("note.create.merge_request.json")
    note_id = fake.next_id()
    url = f"{fake.web_url}/{repo.full_name}/-/issues/{number}#note_{note_id}"
    payload["object_attributes"] = _note_attributes(
        fake, repo, note_id, body, user, "Issue", fake.next_id(), url)
    payload["project_id"] = repo.id
    payload.pop("merge_request", None)
    payload["issue"] = {"iid": number, "title": "An issue", "state": "opened",
                        "project_id": repo.id}
    _common(fake, payload, repo, user)
    return payload


def headers(url: str, event: str, token: str, delivery_id: str | None) -> dict[str, str]:
    """The headers GitLab sends with a delivery: the hook's secret token, no signature."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitLab/17.0.0-fake",
        "X-Gitlab-Event": EVENT_HEADERS.get(event, event),
        "X-Gitlab-Event-UUID": delivery_id or str(uuid.uuid4()),
        "X-Gitlab-Webhook-UUID": "00000000-0000-4000-8000-000000000001",
        "X-Gitlab-Instance": url.split("/", 3)[0] + "//" + url.split("/", 3)[2],
        "Idempotency-Key": str(uuid.uuid4()),
        "X-Gitlab-Token": token,
    }
