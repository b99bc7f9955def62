"""The fake GitLab's records as JSON, in the shapes python-gitlab reads.

The API answers with these; webhook payloads use hook_time, GitLab's other
time format.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakeforge.gitlab import FakeGitLab, FakeMergeRequest, FakeProject
    from tests.fakeforge.model import FakeComment, FakeStatus

FINISHED = frozenset({"success", "failed", "canceled"})
MERGE_STATUSES = {True: "can_be_merged", False: "cannot_be_merged", None: "checking"}
DETAILED_MERGE_STATUSES = {True: "mergeable", False: "conflict", None: "checking"}


def iso(when: datetime | None) -> str | None:
    """API time: 2024-05-01T12:00:00.123Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z" \
        if when else None


def hook_time(when: datetime) -> str:
    """Webhook time: 2024-05-01 12:00:00 UTC."""
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


class GitLabShapes:
    """Mixed into GitLabApi: handlers answer with these, and payload builders reach
    them as `fake.http.mr_json(...)`."""

    fake: FakeGitLab

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
            "merge_status": MERGE_STATUSES[pull.mergeable],
            "detailed_merge_status": DETAILED_MERGE_STATUSES[pull.mergeable],
            "has_conflicts": pull.mergeable is False,
            "sha": pull.head_sha,
            "merge_commit_sha": pull.merge_sha,
            "references": {"short": f"!{pull.number}", "full": f"{repo.full_name}!{pull.number}"},
            "web_url": f"{self.fake.web_url}/{repo.full_name}/-/merge_requests/{pull.number}",
            "diff_refs": {"base_sha": version.base_sha, "head_sha": version.head_sha,
                          "start_sha": version.start_sha},
        }

    def note_json(self, pull: FakeMergeRequest, note: FakeComment) -> dict[str, Any]:
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
            "finished_at": iso(status.created_at) if status.state in FINISHED else None,
            "allow_failure": False,
            "author": self.user_json(status.creator),
        }
